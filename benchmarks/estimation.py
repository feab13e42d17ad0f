"""Our CBPE estimates against NannyML's on the same partitions, and the cost per 100k rows.

NannyML pins its own dependency tree (and imports statsmodels without requiring it), so it runs in a virtualenv of its own that this script
makes (or reuses with --venv); it is not a project dependency and does not run in CI.

    python -m benchmarks.estimation [--partitions 50] [--rows 5000] [--venv DIR] [--json]

The data are simulated where the truth is known: a reference of labelled rows, then partitions
under covariate shift (P(y|x) fixed), scored by a model whose scores rank well but are
miscalibrated, so both estimators must calibrate. The last line is JSON with the keys
`partitions`, `rows`, `mean_abs_diff` (metric to NannyML difference), `coverage` (share of
partitions whose realized metric falls in our band) and `ms_per_100k_rows`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from benchmarks.venvs import interpreter_with, quiet_environment
from monitoring_assets.performance.estimation import CalibrationMap, estimate_binary

METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1")

NANNYML_SCRIPT = """
import json, sys
import nannyml as nml
import pandas as pd
reference = pd.read_parquet(sys.argv[1])
analysis = pd.read_parquet(sys.argv[2])
chunk = int(sys.argv[3])
metrics = sys.argv[4].split(",")
estimator = nml.CBPE(y_pred_proba="score", y_pred="pred", y_true="y", problem_type="classification_binary",
                     metrics=metrics, chunk_size=chunk)
estimator.fit(reference)
frame = estimator.estimate(analysis).filter(period="analysis").to_df()
out = {m: [float(v) for v in frame[(m, "value")]] for m in metrics}
print(json.dumps(out))
"""


def true_probability(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(2.0 * x - 0.5)))


def simulate(partitions: int, rows: int, seed: int) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    rng = np.random.default_rng(seed)

    def frame(x: np.ndarray) -> pd.DataFrame:
        score = true_probability(x) ** 1.8
        return pd.DataFrame({"score": score, "pred": (score >= 0.5 ** 1.8).astype(int),
                             "y": (rng.random(len(x)) < true_probability(x)).astype(int)})

    reference = frame(rng.normal(0.0, 1.0, 20_000))
    chunks = [frame(rng.normal(rng.uniform(-1, 1), rng.uniform(0.7, 1.3), rows)) for _ in range(partitions)]
    return reference, chunks


def ours(reference: pd.DataFrame, chunks: list[pd.DataFrame]) -> tuple[list[dict], float]:
    calibration = CalibrationMap.fit(reference["score"].to_numpy(), reference["y"].to_numpy())
    results, seconds = [], []
    for chunk in chunks:
        started = time.perf_counter()
        probabilities = calibration.apply(chunk["score"].to_numpy())
        results.append(estimate_binary(probabilities, chunk["pred"].to_numpy(), chunk["score"].to_numpy()))
        seconds.append(time.perf_counter() - started)
    rows = len(chunks[0])
    return results, statistics.median(seconds) / rows * 100_000 * 1000


def realized(chunk: pd.DataFrame) -> dict[str, float]:
    y, pred = chunk["y"], chunk["pred"]
    return {"roc_auc": skm.roc_auc_score(y, chunk["score"]), "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, zero_division=0),
            "recall": skm.recall_score(y, pred, zero_division=0), "f1": skm.f1_score(y, pred, zero_division=0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=50)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--venv", type=Path, default=None,
                        help="NannyML's virtualenv, made if missing (default: a temporary one, removed after)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()

    reference, chunks = simulate(args.partitions, args.rows, args.seed)
    estimates, ms_per_100k = ours(reference, chunks)
    truths = [realized(chunk) for chunk in chunks]
    with tempfile.TemporaryDirectory(prefix="monitoring-assets-estimation-") as tmp:
        folder = Path(tmp)
        reference.to_parquet(folder / "reference.parquet")
        pd.concat(chunks, ignore_index=True).to_parquet(folder / "analysis.parquet")
        (folder / "run_nannyml.py").write_text(NANNYML_SCRIPT)
        python = interpreter_with(args.venv or folder / "nannyml-venv", ["nannyml", "statsmodels"])
        output = subprocess.run([str(python), str(folder / "run_nannyml.py"), str(folder / "reference.parquet"),
                                 str(folder / "analysis.parquet"), str(args.rows), ",".join(METRICS)],
                                check=True, capture_output=True, text=True, cwd=folder,
                                env=quiet_environment(folder))
        theirs = json.loads(output.stdout.strip().splitlines()[-1])

    summary = {"partitions": args.partitions, "rows": args.rows, "mean_abs_diff": {}, "coverage": {},
               "ms_per_100k_rows": round(ms_per_100k, 2)}
    for metric in METRICS:
        diffs = [abs(e[metric].value - n) for e, n in zip(estimates, theirs[metric])]
        summary["mean_abs_diff"][metric] = round(float(np.mean(diffs)), 5)
        summary["coverage"][metric] = round(float(np.mean(
            [e[metric].low <= t[metric] <= e[metric].high for e, t in zip(estimates, truths)])), 3)
    if not args.json:
        print(f"{args.partitions} partitions of {args.rows} rows, covariate shift only")
        print(f"{'metric':<10} {'|ours - NannyML| (mean)':>24} {'band coverage':>14}")
        for metric in METRICS:
            print(f"{metric:<10} {summary['mean_abs_diff'][metric]:>24.5f} {summary['coverage'][metric]:>14.3f}")
        print(f"our estimate: {summary['ms_per_100k_rows']} ms per 100k rows (median over partitions)")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
