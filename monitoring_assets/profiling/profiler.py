"""Profiling batches into standard whylogs profile views, fast.

whylogs' per-value Python work is replaced in `whylogs_compat`; here the columns are split
across processes (each profiles its share, the views merge), and Parquet files are streamed
by row batches so memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable

import fsspec
import pandas as pd
import pyarrow.parquet as pq

from monitoring_assets.profiling.whylogs_compat import (
    DatasetProfileView,
    log_frame,
    view_from_bytes,
    view_to_bytes,
)

# Below this many cells a second process costs more than it saves.
PARALLEL_MIN_CELLS = 2_000_000
STREAM_BATCH_ROWS = 500_000

_shared_frame: pd.DataFrame | None = None


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetimes are profiled as epoch seconds, so their distribution can be compared."""
    datetime_columns = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not datetime_columns:
        return frame
    prepared = frame.copy()
    for column in datetime_columns:
        values = prepared[column]
        epoch = pd.Timestamp("1970-01-01", tz=values.dt.tz)
        prepared[column] = (values - epoch).dt.total_seconds()
    return prepared


def _column_cost(series: pd.Series) -> float:
    # String columns cost about twice a numeric column per row (hashing, value counts).
    return 2.0 if not pd.api.types.is_numeric_dtype(series.dtype) else 1.0


def _balanced_groups(frame: pd.DataFrame, groups: int) -> list[list[str]]:
    costs = sorted(((_column_cost(frame[c]), c) for c in frame.columns), reverse=True)
    buckets: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(groups)]
    for cost, column in costs:
        index = min(range(groups), key=lambda i: buckets[i][0])
        total, names = buckets[index]
        buckets[index] = (total + cost, [*names, column])
    return [names for _, names in buckets if names]


def _profile_columns(columns: list[str]) -> bytes:
    assert _shared_frame is not None
    return view_to_bytes(log_frame(_shared_frame[columns]))


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def merge_views(views: Iterable[DatasetProfileView]) -> DatasetProfileView | None:
    merged: DatasetProfileView | None = None
    for view in views:
        merged = view if merged is None else merged.merge(view)
    return merged


def profile_frame(frame: pd.DataFrame, workers: int | None = None) -> DatasetProfileView:
    """Profile every column of `frame` into one ordinary whylogs profile view.

    Large frames are profiled by `workers` forked processes, each taking a share of the
    columns; the child processes read the frame from the parent's memory, nothing is copied.
    """
    global _shared_frame
    prepared = _prepare(frame)
    workers = default_workers() if workers is None else workers
    cells = prepared.shape[0] * prepared.shape[1]
    fork_ok = "fork" in multiprocessing.get_all_start_methods()
    if workers <= 1 or cells < PARALLEL_MIN_CELLS or prepared.shape[1] < 2 or not fork_ok:
        return log_frame(prepared)
    groups = _balanced_groups(prepared, min(workers, prepared.shape[1]))
    _shared_frame = prepared
    try:
        with multiprocessing.get_context("fork").Pool(len(groups)) as pool:
            parts = pool.map(_profile_columns, groups)
    finally:
        _shared_frame = None
    merged = merge_views(view_from_bytes(p) for p in parts)
    assert merged is not None
    return merged


def profile_parquet(path: str, batch_rows: int = STREAM_BATCH_ROWS, workers: int | None = None,
                    columns: list[str] | None = None) -> DatasetProfileView:
    """Profile a Parquet file batch by batch; peak memory follows `batch_rows`, not the file."""
    with fsspec.open(path, "rb") as handle:
        # pre_buffer keeps every row group it has read alive; without it memory stays flat.
        parquet = pq.ParquetFile(handle, pre_buffer=False)
        merged: DatasetProfileView | None = None
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            view = profile_frame(batch.to_pandas(), workers=workers)
            merged = view if merged is None else merged.merge(view)
            del batch, view
        if merged is None:
            return log_frame(pd.DataFrame(columns=columns or parquet.schema_arrow.names))
    return merged
