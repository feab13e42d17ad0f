"""The monitoring job against NannyML and Evidently on the same partition, in the same run.

    python -m benchmarks.rivals --rows 1000000 [--venv DIR] [--no-evidently] [--json]

One day of N inference rows with all their labels, as `benchmarks.partition` makes it (the
demo's churn classifier, registered in a temporary MLflow store), and the reference the
model's baseline was registered from. Then, alternating, `--repeat` times each:
- this project: the model's monitoring job for the partition, cold, in a fresh run-worker
  process (`benchmarks.partition`): validation, profile, drift, realized and estimated
  performance, service health, the write-back to MLflow and the report;
- NannyML's fitted path: calculators fitted once on the reference and stored (the fit is timed
  apart), then loaded in a fresh process that reads the day's files, joins the labels and
  computes univariate drift (Wasserstein and Jensen-Shannon), realized performance and CBPE
  for the partition as one chunk;
- Evidently: its data drift and classification presets on the same rows (once: it is slow).

The rivals need pandas 2, so they run in a virtualenv of their own: `--venv DIR` (made there if
missing, kept), or one made for the run in the temporary folder (NannyML 0.13.1, Evidently
0.7.23, pandas 2; a few minutes to install). Their usage reporting is switched off, and their home is the
temporary folder, so nothing is written outside it. Times are the work after the imports; memory
is each process's peak RSS (for this project, the PSS of the run's process tree). The last line is
JSON with the medians and the ratios `nannyml_over_ours` and `evidently_over_ours`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.partition import build_partition_home, run_cold
from benchmarks.venvs import interpreter_with, quiet_environment

RIVALS = ["nannyml==0.13.1", "evidently==0.7.23", "pandas>=2.2,<3"]
WORKER = Path(__file__).resolve().parent / "rivals_worker.py"


def run_rival(python: Path, home: Path, *arguments: str) -> dict:
    worker = subprocess.run([str(python), str(WORKER), *arguments], capture_output=True, text=True, cwd=home,
                            env=quiet_environment(home))
    if worker.returncode != 0:
        sys.exit(f"{arguments[0]} failed:\n{worker.stderr[-4000:]}")
    return json.loads(worker.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs of this project and of NannyML; medians")
    parser.add_argument("--venv", type=Path, default=None,
                        help="the rivals' virtualenv, made if missing (default: a temporary one, removed after)")
    parser.add_argument("--no-evidently", action="store_true", help="leave Evidently out")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from monitoring_assets.demo.train import scored_frame

    with tempfile.TemporaryDirectory(prefix="monitoring-assets-rivals-") as tmp:
        folder = Path(tmp)
        home = folder / "home"
        home.mkdir()
        day, inference, labels, model, validation = build_partition_home(home, args.rows, args.seed)
        inference_day, labels_day = str(inference / day.isoformat()), str(labels / day.isoformat())
        reference = scored_frame(model, validation).assign(label=validation["label"].to_numpy())
        reference_path = folder / "reference.parquet"
        reference.to_parquet(reference_path, index=False)
        python = interpreter_with(args.venv or folder / "rivals-venv", RIVALS)
        rival_home = folder / "rival-home"
        rival_home.mkdir()
        fitted = str(folder / "nannyml-fitted.pkl")

        load = os.getloadavg()[0]
        fit = run_rival(python, rival_home, "fit-nannyml", str(reference_path), fitted)
        ours, nannyml = [], []
        for _ in range(args.repeat):
            ours.append(run_cold(home, day))
            nannyml.append(run_rival(python, rival_home, "nannyml", inference_day, labels_day, fitted))
        evidently = None if args.no_evidently else run_rival(
            python, rival_home, "evidently", str(reference_path), inference_day, labels_day)
        reports = home / "storage" / "reports" / "churn"
        realized = json.loads((reports / "model_performance" / f"{day.isoformat()}.json").read_text())
        estimated = json.loads((reports / "estimated_performance" / f"{day.isoformat()}.json").read_text())

    ours_s = statistics.median(r["partition_s"] for r in ours)
    nannyml_s = statistics.median(r["seconds"] for r in nannyml)
    summary = {
        "rows": args.rows, "cores": os.cpu_count(), "load_average": round(load, 2),
        "ours_s": ours_s, "ours_runs_s": [r["partition_s"] for r in ours],
        "ours_peak_pss_mib": statistics.median(r["peak_tree_pss_mib"] for r in ours),
        "nannyml_fit_s": fit["seconds"], "nannyml_fitted_s": nannyml_s,
        "nannyml_runs_s": [r["seconds"] for r in nannyml],
        "nannyml_peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in nannyml),
        "nannyml_over_ours": round(nannyml_s / ours_s, 2),
        # The same numbers from both, to show the same work was done.
        "realized_roc_auc": {"ours": realized["versions"][0]["metrics"]["roc_auc"],
                             "nannyml": nannyml[0]["realized_roc_auc"]},
        "estimated_roc_auc": {"ours": estimated["estimates"]["roc_auc"]["value"],
                              "nannyml": nannyml[0]["estimated_roc_auc"]},
    }
    if evidently:
        summary |= {"evidently_s": evidently["seconds"], "evidently_peak_rss_mib": evidently["peak_rss_mib"],
                    "evidently_over_ours": round(evidently["seconds"] / ours_s, 2)}
    if not args.json:
        print(f"one partition of {args.rows:,} rows ({os.cpu_count()} cores, load average {load:.2f} before)")
        print(f"  this project, the monitoring job     {ours_s:8.2f} s  {summary['ours_peak_pss_mib']:7.0f} MiB"
              f"  (runs {summary['ours_runs_s']})")
        print(f"  NannyML, fitted calculators          {nannyml_s:8.2f} s  {summary['nannyml_peak_rss_mib']:7.0f} MiB"
              f"  (runs {summary['nannyml_runs_s']}; fitting {fit['seconds']:.2f} s apart)"
              f"  = {summary['nannyml_over_ours']}x ours")
        if evidently:
            print(f"  Evidently, drift + classification    {evidently['seconds']:8.2f} s"
                  f"  {evidently['peak_rss_mib']:7.0f} MiB  (one run)  = {summary['evidently_over_ours']}x ours")
        for kind in ("realized", "estimated"):
            values = summary[f"{kind}_roc_auc"]
            print(f"  {kind} ROC AUC: ours {values['ours']:.6f} (quarantined rows left out), "
                  f"NannyML {values['nannyml']:.6f}")
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
