"""Profiling batches into standard whylogs profile views, fast.

whylogs' per-value Python work is replaced in `whylogs_compat`; here the columns are split
across processes (each profiles its share, the views merge), and Parquet files are streamed
by row batches so memory stays bounded whatever the file's size.

A forked child copies only the thread that forked it: a lock that another thread held at that
moment (logging, an HTTP pool, gRPC) stays locked in the child forever. So the workers are
forked only from a single-threaded process, where the child reads the frame from the parent's
memory at no cost; otherwise the frame is profiled in the calling process. A forkserver would
be safe but was measured slower than one worker (1M rows x 27 columns: 4.7 s against 2.4 s,
each worker receiving its columns pickled), and it re-imports the caller's main module.
The number of workers follows the cores that are idle now, not the cores that exist.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from monitoring_assets.profiling.whylogs_compat import (
    DatasetProfileView,
    log_frame,
    merge_views,
    view_from_bytes,
    view_to_bytes,
)

# Below this many cells a second process costs more than it saves.
PARALLEL_MIN_CELLS = 2_000_000
STREAM_BATCH_ROWS = 500_000
_READ_BUFFER_BYTES = 1 << 20
_COLUMNS_PER_PASS = 4



def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetimes are profiled as epoch seconds, so their distribution can be compared."""
    datetime_columns = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not datetime_columns:
        return frame
    prepared = frame.copy(deep=False)  # the datetime columns are replaced, the others shared
    for column in datetime_columns:
        values = prepared[column]
        epoch = pd.Timestamp("1970-01-01", tz=values.dt.tz)
        prepared[column] = (values - epoch).dt.total_seconds()
    return prepared


def _column_cost(series: pd.Series) -> float:
    # String columns cost about twice a numeric column per row (hashing, value counts).
    return 2.0 if not pd.api.types.is_numeric_dtype(series.dtype) else 1.0


def _balanced_groups(frame: pd.DataFrame, groups: int) -> list[list[str]]:
    return _balanced_costs([(_column_cost(frame[c]), c) for c in frame.columns], groups)


def _balanced_costs(columns: list[tuple[float, str]], groups: int) -> list[list[str]]:
    costs = sorted(columns, reverse=True)
    buckets: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(groups)]
    for cost, column in costs:
        index = min(range(groups), key=lambda i: buckets[i][0])
        total, names = buckets[index]
        buckets[index] = (total + cost, [*names, column])
    return [names for _, names in buckets if names]


def _profile_to_pipe(work: Any, arguments: tuple, sender: Any) -> None:
    try:
        sender.send(("ok", view_to_bytes(work(*arguments))))
    except BaseException as exc:  # the parent raises it, with its kind and message
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def _columns_of(frame: pd.DataFrame, columns: list[str]) -> DatasetProfileView:
    return log_frame(frame[columns])


def start_method() -> str | None:
    """"fork" when forking is safe here (a single-threaded process), else None: no workers."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return None


def _profile_in_workers(jobs: list[tuple[Any, tuple]], method: str) -> list[bytes]:
    """Each job, a function and its arguments returning a profile view, in its own process."""
    context = multiprocessing.get_context(method)
    workers = []
    for work, arguments in jobs:
        receiver, sender = context.Pipe(duplex=False)
        # A forked child inherits the arguments (a whole frame) from this process's memory: nothing is copied.
        process = context.Process(target=_profile_to_pipe, args=(work, arguments, sender), daemon=True)
        process.start()
        sender.close()
        workers.append((process, receiver))
    parts, errors = [], []
    for process, receiver in workers:
        try:
            status, payload = receiver.recv()
        except EOFError:
            status, payload = "error", "the worker died"
        process.join()
        (parts if status == "ok" else errors).append(payload)
    if errors:
        raise RuntimeError(f"profiling worker failed: {errors[0]}")
    return parts


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all cores since boot, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])


def idle_cores(interval: float = 0.05) -> float | None:
    """How many cores were idle over the last `interval` seconds, or None where unknown."""
    before = _cpu_times()
    if before is None:
        return None
    time.sleep(interval)
    after = _cpu_times()
    if after is None or after[1] <= before[1]:
        return None
    return (os.cpu_count() or 1) * (after[0] - before[0]) / (after[1] - before[1])


def default_workers() -> int:
    """The cores idle now: a second worker on a busy core costs more than it saves (1M rows:
    1.49 s in parallel against 1.36 s alone with one core busy). Measured over 0.05 s from
    /proc/stat (five ticks a core: enough to tell a busy core from an idle one, and the wait is
    what a busy machine pays over one worker), since the load average trails by a minute; the
    load average where there is no /proc."""
    cores = os.cpu_count() or 1
    idle = idle_cores()
    if idle is None:
        try:
            load = os.getloadavg()[0]
        except (OSError, AttributeError):
            load = 0.0
        # The load counts this process too: the cores it does not occupy are the idle ones.
        idle = cores - max(0.0, load - 1.0)
    return max(1, min(int(idle + 0.5), cores, 8))


def profile_frame(frame: pd.DataFrame, workers: int | None = None, method: str | None = None) -> DatasetProfileView:
    """Profile every column of `frame` into one ordinary whylogs profile view.

    Large frames are profiled by `workers` processes, each taking a share of the columns.
    `method` forces a start method (for benchmarks); by default `start_method()` chooses.
    """
    prepared = _prepare(frame)
    cells = prepared.shape[0] * prepared.shape[1]
    method = method or start_method()
    if cells < PARALLEL_MIN_CELLS or prepared.shape[1] < 2 or method is None:
        return log_frame(prepared)  # one process, whatever the idle cores: no need to sample them
    workers = default_workers() if workers is None else workers
    if workers <= 1:
        return log_frame(prepared)
    groups = _balanced_groups(prepared, min(workers, prepared.shape[1]))
    parts = _profile_in_workers([(_columns_of, (prepared, group)) for group in groups], method)
    merged = merge_views(view_from_bytes(p) for p in parts)
    assert merged is not None
    return merged


def _stream_columns(path: str, columns: list[str] | None, batch_rows: int) -> DatasetProfileView:
    """Profile the columns a few at a time, each few batch by batch. Arrow's reader holds a
    row group's worth of the columns it reads, so reading few columns per pass bounds memory
    whatever the writer's row-group size; Parquet being columnar, the passes read no byte twice."""
    with fsspec.open(path, "rb") as handle:
        # pre_buffer keeps every row group it has read alive; buffer_size reads pages, not chunks.
        parquet = pq.ParquetFile(handle, pre_buffer=False, buffer_size=_READ_BUFFER_BYTES)
        names = columns or parquet.schema_arrow.names
        merged: DatasetProfileView | None = None
        for start in range(0, len(names), _COLUMNS_PER_PASS):
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=names[start:start + _COLUMNS_PER_PASS]):
                # one block per column: floats are viewed, not copied into a consolidated block
                view = profile_frame(batch.to_pandas(split_blocks=True), workers=1)
                merged = merge_views([merged, view]) if merged is not None else view
                del batch, view
        if merged is None:
            return log_frame(pd.DataFrame(columns=names))
    return merged


def profile_parquet(path: str, batch_rows: int = STREAM_BATCH_ROWS, workers: int | None = None,
                    columns: list[str] | None = None) -> DatasetProfileView:
    """Profile a Parquet file batch by batch; peak memory follows `batch_rows`, not the file
    nor its row groups. With workers, each streams its own share of the columns from the file:
    the reading is split as well, and no batch passes between processes."""
    with fsspec.open(path, "rb") as handle:
        schema = pq.read_schema(handle)
    names = columns or schema.names
    workers = default_workers() if workers is None else workers
    method = start_method()
    if workers <= 1 or len(names) < 2 or method is None:
        return _stream_columns(path, columns, batch_rows)
    costs = {field.name: 2.0 if pa.types.is_string(field.type) or pa.types.is_large_string(field.type) else 1.0
             for field in schema}
    groups = _balanced_costs([(costs.get(name, 1.0), name) for name in names], min(workers, len(names)))
    parts = _profile_in_workers([(_stream_columns, (path, group, batch_rows)) for group in groups], method)
    merged = merge_views(view_from_bytes(p) for p in parts)
    assert merged is not None
    return merged
