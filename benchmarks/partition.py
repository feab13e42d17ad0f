"""One partition monitored end to end: the real monitoring job on N rows, step by step.

    python -m benchmarks.partition --rows 1000000 [--json]

As the demo does: a scikit-learn churn classifier registered in a temporary MLflow store with
its baseline, one day of N inference rows with their labels in a landing zone, and the model's
monitoring job run in process on that partition against a temporary Dagster instance. It prints
each step's wall time (from the run's step events), the total, the peak RSS of the process and
of its children (the profiler's workers), and a numpy floor measured in the same run: read the
day's files and make one pass over every column. The last line is JSON with the keys `rows`,
`partition_s`, `steps` (step to seconds), `numpy_floor_s`, `peak_rss_mib` and `profile_s`.
Nothing is written outside a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"process": round(own, 1), "children": round(children, 1)}


def numpy_floor(folder: Path) -> float:
    """Read the partition's files and make one pass over each column: nothing can judge the
    batch faster than reading it once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    started = time.perf_counter()
    for path in sorted(folder.glob("*.parquet")):
        table = pq.read_table(path)
        for column in table.columns:
            if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
                numbers = column.to_numpy(zero_copy_only=False).astype(float)
                finite = numbers[np.isfinite(numbers)]
                if len(finite):
                    finite.min(), finite.max(), finite.mean(), finite.var()
            else:
                pc.value_counts(column)  # a hash pass, as a profiler's frequent items need
    return time.perf_counter() - started


def step_seconds(instance, run_id: str) -> dict[str, float]:
    import dagster as dg

    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            seconds[entry.step_key.split("__", 1)[-1]] = round(entry.timestamp - started.get(entry.step_key,
                                                                                             entry.timestamp), 3)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    import dagster as dg
    import yaml

    from monitoring_assets.config import parse_config
    from monitoring_assets.demo.data import write_day
    from monitoring_assets.demo.run import demo_config, tracking_uri_for
    from monitoring_assets.demo.train import log_and_register, train_demo_model
    from monitoring_assets.wiring import build_definitions

    with tempfile.TemporaryDirectory(prefix="monitoring-assets-partition-") as tmp:
        home = Path(tmp)
        (home / "mlflow" / "artifacts").mkdir(parents=True)
        model, validation = train_demo_model(args.seed)
        version = log_and_register(tracking_uri_for(home), "churn-classifier", model, validation,
                                   artifact_location=(home / "mlflow" / "artifacts").as_uri(), alias="champion")
        day = dt.date(2026, 11, 1)
        now = dt.datetime(2026, 11, 10, tzinfo=dt.timezone.utc)  # labels of the day are all in
        inference, labels = home / "landing" / "inference", home / "landing" / "labels"
        write_day(model, day, 1, args.rows, 21, args.seed, inference, labels, now, 2, version)
        raw = demo_config(home, day, 1)
        raw["notifications"] = {}
        (home / "monitoring.yaml").write_text(yaml.safe_dump(raw))
        config = parse_config(raw)
        floor = numpy_floor(inference / day.isoformat())

        job = build_definitions(config).resolve_job_def(f"{config.models[0].name}_monitoring")
        with dg.DagsterInstance.ephemeral() as instance:
            started = time.perf_counter()
            result = job.execute_in_process(partition_key=day.isoformat(), instance=instance, raise_on_error=True,
                                            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
            total = time.perf_counter() - started
            steps = step_seconds(instance, result.run_id)
        rss = peak_rss_mib()
    summary = {"rows": args.rows, "partition_s": round(total, 3), "steps": steps,
               "numpy_floor_s": round(floor, 3), "peak_rss_mib": max(rss.values()), "peak_rss": rss,
               "profile_s": steps.get("inference_profile"),
               "ratio_to_floor": round(total / floor, 1) if floor else None}
    if not args.json:
        print(f"one partition of {args.rows:,} rows, the monitoring job in process ({os.cpu_count()} cores)")
        for name, seconds in sorted(steps.items(), key=lambda item: -item[1]):
            print(f"  {name:<22} {seconds:8.3f} s")
        print(f"  {'total (job)':<22} {total:8.3f} s; numpy floor {floor:.3f} s; ratio {summary['ratio_to_floor']}")
        print(f"  peak RSS: process {rss['process']} MiB, children {rss['children']} MiB")
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
