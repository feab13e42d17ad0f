"""Training the demo's churn model and registering it with its baseline in MLflow.

This is what a user's training pipeline does: fit, log with a signature, register a version,
then call `register_baseline` with the validation metrics and the validation frame.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from monitoring_assets.demo.data import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, make_labeled
from monitoring_assets.performance.metrics import compute_metrics
from monitoring_assets.registry import ModelRegistry

EXPERIMENT = "monitoring-demo"


def fit_model(train: pd.DataFrame) -> Pipeline:
    pipeline = Pipeline([
        ("prepare", ColumnTransformer([
            ("numeric", StandardScaler(), NUMERIC_FEATURES),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL_FEATURES),
        ])),
        ("classify", LogisticRegression(max_iter=1000)),
    ])
    pipeline.fit(train[FEATURES], train["label"])
    return pipeline


def scored_frame(model: Pipeline, frame: pd.DataFrame, task: str = "binary",
                 features: list[str] = FEATURES) -> pd.DataFrame:
    """The validation frame as the inference logs would show it: features and outputs."""
    result = frame[features].copy()
    if task == "binary":
        scores = model.predict_proba(frame[features])[:, 1]
        result["prediction"] = (scores >= 0.5).astype(int)
        result["score"] = scores
    elif task == "multiclass":
        probabilities = model.predict_proba(frame[features])
        result["prediction"] = model.classes_[probabilities.argmax(axis=1)]
        for index, label in enumerate(model.classes_):
            result[class_score_column(label)] = probabilities[:, index]
    else:
        result["prediction"] = model.predict(frame[features])
    return result


def class_score_column(label: object) -> str:
    return f"score_{label}"


def log_and_register(
    tracking_uri: str,
    registered_model: str,
    model: Pipeline,
    validation: pd.DataFrame,
    artifact_location: str | None,
    tags: dict[str, str] | None = None,
    alias: str | None = None,
    task: str = "binary",
    features: list[str] = FEATURES,
    experiment_name: str = EXPERIMENT,
) -> str:
    """Log the model with its signature, register a version and its baseline; return it."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    client = MlflowClient(tracking_uri=tracking_uri)
    registry = ModelRegistry(tracking_uri, artifact_location=artifact_location)
    if artifact_location is None and client.get_experiment_by_name(experiment_name) is None:
        raise ValueError(f"experiment {experiment_name!r} does not exist: give an artifact_location for it, "
                         "or MLflow would put its artifacts in the current directory")
    experiment_id = registry.experiment_id(experiment_name)
    scored = scored_frame(model, validation, task, features)
    metrics = compute_metrics(task, validation["label"], scored["prediction"], scored.get("score"))
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        with mlflow.start_run(experiment_id=experiment_id, tags=tags or {}) as run:
            mlflow.log_metrics({f"val_{k}": v for k, v in metrics.items() if np.isfinite(v)})
            with warnings.catch_warnings():
                # The demo's prediction is a 0/1 int by design; MLflow's hint is about nulls.
                warnings.simplefilter("ignore", UserWarning)
                signature = infer_signature(validation[features], scored["prediction"])
            mlflow.sklearn.log_model(
                model, name="model", signature=signature,
                registered_model_name=registered_model,
            )
        versions = client.search_model_versions(f"name='{registered_model}' and run_id='{run.info.run_id}'")
    finally:
        mlflow.set_tracking_uri(previous_uri)
    version = str(max(int(v.version) for v in versions))
    for key, value in (tags or {}).items():
        client.set_model_version_tag(registered_model, version, key, value)
    class_scores = ({str(c): class_score_column(c) for c in model.classes_} if task == "multiclass" else None)
    registry.register_baseline(registered_model, version, metrics, scored, alias=alias,
                               labels=validation["label"] if task in ("binary", "multiclass") else None,
                               class_score_columns=class_scores)
    return version


def train_demo_model(seed: int, rows: int = 12_000) -> tuple[Pipeline, pd.DataFrame]:
    rng = np.random.default_rng([seed, 10_000])
    data = make_labeled(rng, rows)
    split = int(rows * 0.7)
    return fit_model(data.iloc[:split]), data.iloc[split:].reset_index(drop=True)
