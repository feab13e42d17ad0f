"""One partition monitored end to end: the real monitoring job on N rows, step by step.

    python -m benchmarks.partition --rows 1000000 [--json]

As the demo does: a scikit-learn churn classifier registered in a temporary MLflow store with
its baseline, one day of N inference rows with their labels in a landing zone, and the model's
monitoring job run on that partition as a run worker runs it: in a fresh process, steps in
process, against a temporary Dagster instance. It prints each step's wall time (from the run's
step events), the total, the peak memory of the run's process tree (PSS, sampled: the run
process and the profiler's workers) and a numpy floor measured in the same run: read the day's
files and make one pass over every column. The last line is JSON with the keys `rows`,
`partition_s`, `steps` (step to seconds), `numpy_floor_s`, `peak_rss_mib` and `profile_s`.
Nothing is written outside a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.memory import TreeMemory


DAY = dt.date(2026, 11, 1)


def build_partition_home(home: Path, rows: int, seed: int):
    """As the demo does: the churn classifier registered in an MLflow store under `home` with its
    baseline, and one day of `rows` inference rows with all their labels landed. Returns the
    day, the inference and labels roots, and the model with its validation frame."""
    import yaml

    from monitoring_assets.demo.data import write_day
    from monitoring_assets.demo.run import demo_config, tracking_uri_for
    from monitoring_assets.demo.train import log_and_register, train_demo_model

    (home / "mlflow" / "artifacts").mkdir(parents=True)
    model, validation = train_demo_model(seed)
    version = log_and_register(tracking_uri_for(home), "churn-classifier", model, validation,
                               artifact_location=(home / "mlflow" / "artifacts").as_uri(), alias="champion")
    now = dt.datetime(2026, 11, 10, tzinfo=dt.timezone.utc)  # labels of the day are all in
    inference, labels = home / "landing" / "inference", home / "landing" / "labels"
    write_day(model, DAY, 1, rows, 21, seed, inference, labels, now, 2, version)
    raw = demo_config(home, DAY, 1)
    raw["notifications"] = {}
    (home / "monitoring.yaml").write_text(yaml.safe_dump(raw))
    return DAY, inference, labels, model, validation


def run_cold(home: Path, day: dt.date) -> dict:
    """One run of the monitoring job on the day, cold, as the first partition of a deployment:
    no stored frames, no cached baseline, in a fresh process as a run worker is (its memory is
    the job's, not the set-up's)."""
    shutil.rmtree(home / "storage", ignore_errors=True)
    shutil.rmtree(home / "dagster", ignore_errors=True)
    worker = subprocess.run([sys.executable, "-m", "benchmarks.partition", "--run-job", str(home),
                             "--partition", day.isoformat()], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    if worker.returncode != 0:
        sys.exit(f"the monitoring job failed:\n{worker.stderr[-4000:]}")
    return json.loads(worker.stdout.strip().splitlines()[-1])


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


def run_job(home: Path, partition: str) -> dict:
    """Run the monitoring job as a run worker does, in this (fresh) process: the job
    reconstructed from its code, its steps in process, on a persistent instance.
    (`execute_in_process` would also keep every step's output in memory for the caller,
    which no production run does.)"""
    import dagster as dg

    from monitoring_assets.demo.run import EMBEDDED_DAGSTER_YAML

    dagster_home = home / "dagster"
    dagster_home.mkdir(exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(EMBEDDED_DAGSTER_YAML.format(home=dagster_home.as_posix()))
    job = dg.build_reconstructable_job("benchmarks.partition", "monitoring_job", (str(home / "monitoring.yaml"),))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance, TreeMemory() as memory:
        started = time.perf_counter()
        result = dg.execute_job(job, instance, tags={"dagster/partition": partition}, raise_on_error=True,
                                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
        total = time.perf_counter() - started
        steps = step_seconds(instance, result.run_id)
    return {"partition_s": round(total, 3), "steps": steps,
            "peak_tree_pss_mib": round(memory.peak_kib / 1024.0, 1),
            "peak_rss_process_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
            "peak_rss_worker_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1)}


def monitoring_job(config_path: str):
    """The monitoring job of the config's first model, as the code location builds it."""
    from monitoring_assets.config import load_config
    from monitoring_assets.wiring import build_definitions

    config = load_config(config_path)
    return build_definitions(config).resolve_job_def(f"{config.models[0].name}_monitoring")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--run-job", type=Path, help=argparse.SUPPRESS)  # the child: run the job in <home>
    parser.add_argument("--partition", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if args.run_job:
        print(json.dumps(run_job(args.run_job, args.partition)))
        return

    with tempfile.TemporaryDirectory(prefix="monitoring-assets-partition-") as tmp:
        home = Path(tmp)
        day, inference, *_ = build_partition_home(home, args.rows, args.seed)
        load = os.getloadavg()[0]
        floors, runs = [], []
        for _ in range(args.repeat):
            floors.append(numpy_floor(inference / day.isoformat()))
            runs.append(run_cold(home, day))
    # The run of median total stands for all; ratios are taken within the same run.
    job = sorted(runs, key=lambda r: r["partition_s"])[len(runs) // 2]
    floor = statistics.median(floors)
    total, steps = job["partition_s"], job["steps"]
    summary = {"rows": args.rows, "partition_s": total, "steps": steps,
               "numpy_floor_s": round(floor, 3), "peak_rss_mib": job["peak_tree_pss_mib"],
               "peak_rss_process_mib": job["peak_rss_process_mib"], "peak_rss_worker_mib": job["peak_rss_worker_mib"],
               "profile_s": steps.get("inference_profile"),
               "ratio_to_floor": round(total / floor, 1) if floor else None,
               "load_average": round(load, 2), "cores": os.cpu_count(),
               "runs_s": [r["partition_s"] for r in runs], "numpy_floor_runs_s": [round(f, 3) for f in floors],
               "peak_rss_runs_mib": [r["peak_tree_pss_mib"] for r in runs]}
    if not args.json:
        print(f"one partition of {args.rows:,} rows, the monitoring job in a fresh run-worker process "
              f"({os.cpu_count()} cores, load average {load:.2f} before the run)")
        for name, seconds in sorted(steps.items(), key=lambda item: -item[1]):
            print(f"  {name:<22} {seconds:8.3f} s")
        print(f"  {'total (job)':<22} {total:8.3f} s; numpy floor {floor:.3f} s; ratio {summary['ratio_to_floor']}")
        print(f"  medians of {args.repeat} cold runs: totals {summary['runs_s']} s, floors {summary['numpy_floor_runs_s']} s")
        print(f"  peak memory of the run's process tree: {job['peak_tree_pss_mib']} MiB (PSS); "
              f"peak RSS of the run process {job['peak_rss_process_mib']} MiB, "
              f"of one profiling worker {job['peak_rss_worker_mib']} MiB")
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
