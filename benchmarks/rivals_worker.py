"""The rivals' side of `benchmarks.rivals`, run by an interpreter that has NannyML and Evidently
(they need pandas 2, this project runs on pandas 3). It imports nothing of this project.

    python rivals_worker.py fit-nannyml REFERENCE.parquet FITTED.pkl
    python rivals_worker.py nannyml INFERENCE_DIR LABELS_DIR FITTED.pkl
    python rivals_worker.py evidently REFERENCE.parquet INFERENCE_DIR LABELS_DIR

Each prints one JSON line: `seconds` (the work, after the imports), `peak_rss_mib` of the process
and a few of the values computed, to show that the work was done.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

NUMERIC = ["age", "income", "tenure_months", "monthly_spend", "support_calls", "sessions_per_week"]
CATEGORICAL = ["region", "plan", "device"]
FEATURES = NUMERIC + CATEGORICAL
METRICS = ["roc_auc", "f1", "precision", "recall", "accuracy"]


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def read_partition(inference: Path, labels: Path) -> pd.DataFrame:
    """The day's inference rows with their labels, joined on the id as a monitoring job must."""
    rows = pd.concat([pd.read_parquet(p) for p in sorted(inference.glob("*.parquet"))], ignore_index=True)
    truth = pd.concat([pd.read_parquet(p) for p in sorted(labels.glob("*.parquet"))], ignore_index=True)
    return rows.merge(truth.drop_duplicates("id", keep="last"), on="id", how="left")


def nannyml_calculators():
    import nannyml as nml

    # One chunk: the whole partition gets one verdict, as a partition does here.
    common = {"chunk_number": 1}
    drift = nml.UnivariateDriftCalculator(
        column_names=FEATURES + ["score"], treat_as_categorical=CATEGORICAL,
        continuous_methods=["wasserstein", "jensen_shannon"], categorical_methods=["jensen_shannon"], **common)
    realized = nml.PerformanceCalculator(y_pred_proba="score", y_pred="prediction", y_true="label",
                                         problem_type="classification_binary", metrics=METRICS, **common)
    estimated = nml.CBPE(y_pred_proba="score", y_pred="prediction", y_true="label",
                         problem_type="classification_binary", metrics=METRICS, **common)
    return {"drift": drift, "realized": realized, "estimated": estimated}


def fit_nannyml(reference_path: str, fitted_path: str) -> dict:
    reference = pd.read_parquet(reference_path)
    started = time.perf_counter()
    calculators = nannyml_calculators()
    for calculator in calculators.values():
        calculator.fit(reference)
    seconds = time.perf_counter() - started
    Path(fitted_path).write_bytes(pickle.dumps(calculators))
    return {"seconds": round(seconds, 3), "peak_rss_mib": peak_rss_mib()}


def run_nannyml(inference: str, labels: str, fitted_path: str) -> dict:
    import nannyml  # noqa: F401  (imported before the clock starts, as a loaded code location has it)

    started = time.perf_counter()
    calculators = pickle.loads(Path(fitted_path).read_bytes())
    analysis = read_partition(Path(inference), Path(labels))
    drift = calculators["drift"].calculate(analysis).filter(period="analysis").to_df()
    realized = calculators["realized"].calculate(analysis).filter(period="analysis").to_df()
    estimated = calculators["estimated"].estimate(analysis).filter(period="analysis").to_df()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "peak_rss_mib": peak_rss_mib(), "rows": len(analysis),
            "drift_values": int(sum(1 for key in drift.columns if key[-1] == "value")),
            "realized_roc_auc": float(realized[("roc_auc", "value")].iloc[0]),
            "estimated_roc_auc": float(estimated[("roc_auc", "value")].iloc[0])}


def run_evidently(reference_path: str, inference: str, labels: str) -> dict:
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.presets import ClassificationPreset, DataDriftPreset

    started = time.perf_counter()
    reference = pd.read_parquet(reference_path)
    current = read_partition(Path(inference), Path(labels))[reference.columns]
    definition = DataDefinition(
        numerical_columns=NUMERIC + ["score"], categorical_columns=CATEGORICAL,
        classification=[BinaryClassification(target="label", prediction_labels="prediction",
                                             prediction_probas="score")])
    report = Report([DataDriftPreset(columns=FEATURES), ClassificationPreset()])
    snapshot = report.run(Dataset.from_pandas(current, data_definition=definition),
                          Dataset.from_pandas(reference, data_definition=definition))
    values = snapshot.dict()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "peak_rss_mib": peak_rss_mib(), "rows": len(current),
            "metrics_computed": len(values.get("metrics", []))}


def main() -> None:
    warnings.filterwarnings("ignore")
    command, *arguments = sys.argv[1:]
    work = {"fit-nannyml": fit_nannyml, "nannyml": run_nannyml, "evidently": run_evidently}[command]
    print(json.dumps(work(*arguments)))


if __name__ == "__main__":
    main()
