"""Profiling and drift benchmark: stock whylogs, the project's profiler and a numpy floor.

    python -m benchmarks.profile_drift --rows 1000000 [--json] [--repeat 3] [--skip-stock]
    python -m benchmarks.profile_drift --stream /tmp/bench.parquet --rows 10000000

Each method runs in its own child process, so the peak RSS it reports is that method's
whole process (frame included). Medians and ratios come from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.frames import (
    DRIFTED_CATEGORICAL,
    DRIFTED_NUMERIC,
    benchmark_frame,
    categorical,
    features,
)
from benchmarks.memory import TreeMemory


def _peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def numpy_floor(frame) -> None:
    """One exact pass over the data: counts, nulls, infs, min, max, mean, variance, and
    category counts. Nothing can summarise the batch faster than reading it once."""
    import numpy as np

    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "fiu":
            values = column.to_numpy(dtype=float)
            finite = np.isfinite(values)
            int(np.isnan(values).sum()), int((~finite).sum())
            kept = values[finite]
            if len(kept):
                kept.min(), kept.max(), kept.mean(), kept.var()
        else:
            column.value_counts()


def _method(name: str, rows: int, seed: int, repeat: int) -> dict:
    frame = benchmark_frame(rows, seed=seed)
    if name == "stock":
        from monitoring_assets.profiling.whylogs_compat import stock_log

        run = lambda: stock_log(frame)  # noqa: E731
    elif name == "project":
        from monitoring_assets.profiling.profiler import profile_frame

        run = lambda: profile_frame(frame)  # noqa: E731
    else:
        run = lambda: numpy_floor(frame)  # noqa: E731
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"seconds": times, "median_s": statistics.median(times), "peak_rss_mib": _peak_rss_mib()}


def _stream(path: str, rows: int) -> dict:
    from monitoring_assets.profiling.profiler import profile_parquet

    load = os.getloadavg()[0]
    with TreeMemory() as memory:
        start = time.perf_counter()
        view = profile_parquet(path)
        seconds = time.perf_counter() - start
    n = int(view.get_column("num_00").get_metric("counts").n.value)
    return {"rows": n, "seconds": seconds, "rows_per_s": n / seconds, "peak_rss_mib": _peak_rss_mib(),
            "peak_tree_pss_mib": memory.peak_kib / 1024.0, "load_average": load}


def _child(args: list[str]) -> dict:
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.profile_drift", *args],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def write_parquet(path: Path, rows: int, chunk: int = 1_000_000, row_group_rows: int = 250_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for index, start in enumerate(range(0, rows, chunk)):
            table = pa.Table.from_pandas(benchmark_frame(min(chunk, rows - start), seed=100 + index), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=row_group_rows)
    finally:
        if writer is not None:
            writer.close()


def drift_accuracy(rows: int) -> dict:
    from monitoring_assets.config.models import DriftThreshold
    from monitoring_assets.drift import score_drift
    from monitoring_assets.profiling.profiler import profile_frame

    reference = profile_frame(benchmark_frame(rows, seed=1))
    current = profile_frame(benchmark_frame(rows, seed=2, drifted=True))
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        report = score_drift(reference, current, features(), default=DriftThreshold(), categorical=categorical())
        timings.append(time.perf_counter() - start)
    flagged = {f.feature for f in report.drifted}
    truth = set(DRIFTED_NUMERIC) | set(DRIFTED_CATEGORICAL)
    return {
        "drift_tp": len(flagged & truth),
        "drift_fp": len(flagged - truth),
        "drift_fn": len(truth - flagged),
        "drift_score_ms": statistics.median(timings) * 1000,
        "flagged": sorted(flagged),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-stock", action="store_true", help="stock why.log takes minutes at 10M rows")
    parser.add_argument("--stream", metavar="PATH.parquet", help="profile this Parquet file from disk (made if missing)")
    parser.add_argument("--row-group-rows", type=int, default=250_000,
                        help="rows per row group of the file --stream writes (the reader's memory must not follow it)")
    parser.add_argument("--method", choices=["stock", "project", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--stream-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.method:
        print(json.dumps(_method(args.method, args.rows, args.seed, args.repeat)))
        return 0
    if args.stream_child:
        print(json.dumps(_stream(args.stream_child, args.rows)))
        return 0
    if args.stream:
        import pyarrow.parquet as pq

        path = Path(args.stream)
        if not path.exists():
            print(f"writing {args.rows} rows to {path} ...", file=sys.stderr)
            write_parquet(path, args.rows, chunk=max(1_000_000, args.row_group_rows),
                          row_group_rows=args.row_group_rows)
        result = _child(["--stream-child", str(path), "--rows", str(args.rows)])
        result["file_mib"] = path.stat().st_size / 2**20
        groups = pq.ParquetFile(path).metadata.num_row_groups
        print(f"streamed {result['rows']:,} rows ({groups} row groups) in {result['seconds']:.2f} s "
              f"({result['rows_per_s']:,.0f} rows/s; load average {result['load_average']:.2f} before), "
              f"peak memory of the process tree {result['peak_tree_pss_mib']:.0f} MiB (PSS; "
              f"largest single process RSS {result['peak_rss_mib']:.0f} MiB)")
        if args.json:
            print(json.dumps(result))
        return 0

    common = ["--rows", str(args.rows), "--seed", str(args.seed)]
    results = {}
    if not args.skip_stock:
        results["stock"] = _child(["--method", "stock", "--repeat", "1", *common])
    results["project"] = _child(["--method", "project", "--repeat", str(args.repeat), *common])
    results["numpy"] = _child(["--method", "numpy", "--repeat", str(args.repeat), *common])
    drift = drift_accuracy(args.rows)
    project_s = results["project"]["median_s"]
    stock_s = results["stock"]["median_s"] if "stock" in results else None
    summary = {
        "rows": args.rows,
        "stock_whylogs_s": stock_s,
        "project_profile_s": project_s,
        "numpy_floor_s": results["numpy"]["median_s"],
        "speedup_vs_stock": (stock_s / project_s) if stock_s else None,
        "project_rows_per_s": args.rows / project_s,
        "peak_rss_mib": results["project"]["peak_rss_mib"],
        "stock_peak_rss_mib": results["stock"]["peak_rss_mib"] if "stock" in results else None,
        "drift_tp": drift["drift_tp"],
        "drift_fp": drift["drift_fp"],
        "drift_fn": drift["drift_fn"],
        "drift_score_ms": drift["drift_score_ms"],
    }
    print(f"rows: {args.rows:,} x 27 columns, {os.cpu_count()} cores")
    for name, result in results.items():
        runs = ", ".join(f"{s:.2f}" for s in result["seconds"])
        print(f"  {name:<8} median {result['median_s']:.3f} s  (runs: {runs})  peak RSS {result['peak_rss_mib']:.0f} MiB")
    if stock_s:
        print(f"  speedup vs stock why.log: {summary['speedup_vs_stock']:.1f}x")
    print(f"  project profiler: {summary['project_rows_per_s']:,.0f} rows/s")
    print(f"  drift: tp={drift['drift_tp']} fp={drift['drift_fp']} fn={drift['drift_fn']} "
          f"flagged={drift['flagged']}; scoring 27 columns: {drift['drift_score_ms']:.1f} ms (median of 20)")
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
