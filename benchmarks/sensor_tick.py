"""The landing sensor's tick time and cursor size against the landing zone's history.

For each size, a landing zone of N daily partitions (one file each, ending yesterday) is made
in a temporary folder. The inference sensor is evaluated as the daemon would: a first tick
from no cursor, then steady-state ticks from the stored cursor with one new file. Prints the
median steady-state tick and the cursor's size in bytes, then one JSON line.

    python -m benchmarks.sensor_tick [--sizes 100 1000 10000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path


def _config(root: Path, start: dt.date) -> dict:
    return {
        "mlflow": {"tracking_uri": f"sqlite:///{root / 'mlflow.db'}"},
        "storage": {"root": str(root / "storage")},
        "sensors": {"default_running": False},
        "models": [{
            "name": "bench", "registered_model": "bench-model", "task": "binary",
            "partitions": {"grain": "daily", "start": start.isoformat()},
            "inference": {"location": str(root / "inference")},
            "labels": {"location": str(root / "labels")},
        }],
    }


def measure(partitions: int, repeat: int) -> dict:
    import dagster as dg

    from monitoring_assets.config import parse_config
    from monitoring_assets.wiring import build_definitions

    today = dt.datetime.now(dt.timezone.utc).date()
    start = today - dt.timedelta(days=partitions)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for index in range(partitions):
            folder = root / "inference" / (start + dt.timedelta(days=index)).isoformat()
            folder.mkdir(parents=True)
            (folder / "part-0.parquet").write_bytes(b"x")
        defs = build_definitions(parse_config(_config(root, start)))
        sensor = defs.resolve_sensor_def("bench_inference_sensor")
        instance = dg.DagsterInstance.ephemeral()
        first_start = time.perf_counter()
        result = sensor(dg.build_sensor_context(instance=instance, cursor=None, definitions=defs))
        first_s = time.perf_counter() - first_start
        cursor = result.cursor
        ticks = []
        newest = root / "inference" / (today - dt.timedelta(days=1)).isoformat()
        for index in range(repeat):
            (newest / f"late-{index}.parquet").write_bytes(b"y")
            tick_start = time.perf_counter()
            result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
            ticks.append(time.perf_counter() - tick_start)
            assert len(result.run_requests) == 1
            cursor = result.cursor
        return {"partitions": partitions, "first_tick_s": first_s, "tick_median_s": statistics.median(ticks),
                "cursor_bytes": len(cursor.encode())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    results = [measure(size, args.repeat) for size in args.sizes]
    if not args.json:
        print(f"{'partitions':>10} {'first tick':>11} {'tick (median)':>14} {'cursor':>10}")
        for r in results:
            print(f"{r['partitions']:>10} {r['first_tick_s'] * 1000:>9.1f} ms {r['tick_median_s'] * 1000:>11.1f} ms "
                  f"{r['cursor_bytes']:>8} B")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
