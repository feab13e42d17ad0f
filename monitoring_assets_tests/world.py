"""A small real world for tests: an MLflow SQLite store, registered models with baselines,
a landing zone, a config and a Dagster instance in a temporary folder."""

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from monitoring_assets.config import parse_config
from monitoring_assets.demo.train import log_and_register, scored_frame
from monitoring_assets.wiring import build_definitions

FEATURES = ["x1", "x2", "segment"]


def synthetic(task: str, rows: int, seed: int, flip: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x1": rng.normal(1.0 if flip else 0.0, 1, rows),  # the flipped world also drifts
        "x2": rng.normal(5, 2, rows),
        "segment": rng.choice(["a", "b", "c"], rows),
    })
    signal = frame["x1"] * (-1.5 if flip else 1.5) + 0.4 * (frame["x2"] - 5) + (frame["segment"] == "b") * 0.8
    if task == "binary":
        frame["label"] = (rng.random(rows) < 1 / (1 + np.exp(-2 * signal))).astype(int)
    elif task == "multiclass":
        frame["label"] = np.select([signal < -0.7, signal < 0.7], ["low", "mid"], "high")
    else:
        frame["label"] = 3.0 * signal + rng.normal(0, 0.5, rows)
    return frame


def fit(task: str, train: pd.DataFrame) -> Pipeline:
    estimator = LinearRegression() if task == "regression" else LogisticRegression(max_iter=500)
    pipeline = Pipeline([
        ("prepare", ColumnTransformer([
            ("num", StandardScaler(), ["x1", "x2"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["segment"]),
        ])),
        ("model", estimator),
    ])
    return pipeline.fit(train[FEATURES], train["label"])


class World:
    def __init__(self, root: Path, task: str = "binary", name: str = "m"):
        self.root = root
        self.task = task
        self.name = name
        self.registered_model = f"{name}-model"
        self.tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
        self.inference = root / "landing" / "inference"
        self.labels = root / "landing" / "labels"
        self.models: dict[str, Pipeline] = {}
        self.instance = dg.DagsterInstance.ephemeral()

    def register(self, seed: int = 1, flip: bool = False, alias: str | None = "champion") -> str:
        data = synthetic(self.task, 3000, seed, flip)
        model = fit(self.task, data.iloc[:2000])
        version = log_and_register(
            self.tracking_uri, self.registered_model, model, data.iloc[2000:].reset_index(drop=True),
            artifact_location=(self.root / "artifacts").as_uri(), alias=alias, task=self.task,
            features=FEATURES, experiment_name="training",
        )
        self.models[version] = model
        return version

    def config_dict(self, **model_overrides) -> dict:
        performance = {
            "binary": {"accuracy": {"min_relative_change": -0.1}},
            "multiclass": {"f1_macro": {"min_absolute_change": -0.1}},
            "regression": {"rmse": {"min_relative_change": -0.25, "greater_is_better": False}},
        }[self.task]
        model = {
            "name": self.name,
            "registered_model": self.registered_model,
            "task": self.task,
            "columns": {"features": FEATURES, "categorical": ["segment"], "score": "score" if self.task == "binary" else None,
                        "segments": ["segment"],
                        "class_scores": ({c: f"score_{c}" for c in ("high", "low", "mid")}
                                         if self.task == "multiclass" else {})},
            "partitions": {"grain": "daily", "start": "2026-02-01", "end": "2026-03-01"},
            "inference": {"location": str(self.inference)},
            "labels": {"location": str(self.labels)},
            "performance": performance,
            "labels_policy": {"min_coverage": 0.5, "deadline_hours": 24 * 365 * 5},
        }
        model.update(model_overrides)
        return {
            "mlflow": {"tracking_uri": self.tracking_uri},
            "storage": {"root": str(self.root / "storage")},
            "models": [model],
        }

    def config(self, **model_overrides):
        return parse_config(self.config_dict(**model_overrides))

    def write_day(self, day: str, rows: int = 400, seed: int = 5, version: str = "1", flip: bool = False,
                  with_labels: bool = True) -> pd.DataFrame:
        data = synthetic(self.task, rows, seed, flip)
        logs = scored_frame(self.models[version], data, self.task, FEATURES)
        logs.insert(0, "id", [f"{day}-{seed}-{i}" for i in range(rows)])
        start = pd.Timestamp(day, tz="UTC")
        logs.insert(1, "timestamp", start + pd.to_timedelta(np.linspace(0, 86_000, rows), unit="s"))
        logs["latency_ms"] = 20.0 + np.arange(rows) % 30
        logs["model_version"] = version
        folder = self.inference / day
        folder.mkdir(parents=True, exist_ok=True)
        logs.to_parquet(folder / f"predictions-{seed}.parquet", index=False)
        truth = pd.DataFrame({"id": logs["id"], "label": data["label"]})
        if with_labels:
            self.write_labels(day, truth, f"labels-{seed}")
        return truth

    def write_labels(self, day: str, labels: pd.DataFrame, name: str) -> None:
        folder = self.labels / day
        folder.mkdir(parents=True, exist_ok=True)
        labels.to_parquet(folder / f"{name}.parquet", index=False)

    def materialize(self, day: str, config=None, raise_on_error: bool = True):
        defs = build_definitions(config or self.config())
        job = defs.resolve_job_def(f"{self.name}_monitoring")
        return job.execute_in_process(partition_key=day, instance=self.instance, raise_on_error=raise_on_error)


def checks_of(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def day(offset: int) -> str:
    return (dt.date(2026, 2, 1) + dt.timedelta(days=offset)).isoformat()
