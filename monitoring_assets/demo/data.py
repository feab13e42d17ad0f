"""A seeded, realistic churn-style binary classification problem, with drift on demand.

From `drift_day` on, three features shift (income, sessions_per_week and plan) and the
relation between features and label changes, so a model trained before degrades.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

NUMERIC_FEATURES = ["age", "income", "tenure_months", "monthly_spend", "support_calls", "sessions_per_week"]
CATEGORICAL_FEATURES = ["region", "plan", "device"]
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
DRIFTED_FEATURES = ["income", "sessions_per_week", "plan"]

_REGIONS = ["north", "south", "east", "west", "central"]
_PLANS = ["basic", "standard", "premium"]
_DEVICES = ["ios", "android", "web", "desktop"]


def make_features(rng: np.random.Generator, n: int, drifted: bool = False) -> pd.DataFrame:
    age = np.clip(rng.normal(41, 12, n), 18, 90).round()
    income = rng.lognormal(10.8 + (0.45 if drifted else 0.0), 0.45, n).round(2)
    tenure = rng.gamma(2.0, 14.0, n).round()
    spend = np.clip(rng.normal(62, 20, n), 5, None).round(2)
    calls = rng.poisson(1.4, n).astype(float)
    sessions = np.clip(rng.normal(9.0 - (3.5 if drifted else 0.0), 3.5, n), 0, None).round(1)
    plan_p = [0.15, 0.35, 0.5] if drifted else [0.5, 0.35, 0.15]
    return pd.DataFrame({
        "age": age,
        "income": income,
        "tenure_months": tenure,
        "monthly_spend": spend,
        "support_calls": calls,
        "sessions_per_week": sessions,
        "region": rng.choice(_REGIONS, n, p=[0.3, 0.2, 0.2, 0.2, 0.1]),
        "plan": rng.choice(_PLANS, n, p=plan_p),
        "device": rng.choice(_DEVICES, n, p=[0.35, 0.35, 0.2, 0.1]),
    })


def churn_probability(features: pd.DataFrame, drifted: bool = False) -> np.ndarray:
    """The true relation between features and churn; it changes after the drift day."""
    z = (
        -0.2
        - 0.035 * (features["tenure_months"] - 28)
        + 0.55 * (features["support_calls"] - 1.4)
        - 0.22 * (features["sessions_per_week"] - 9)
        + 0.02 * (features["monthly_spend"] - 62)
        + np.where(features["plan"] == "basic", 0.7, 0.0)
        - np.where(features["plan"] == "premium", 0.5, 0.0)
    )
    if drifted:
        # Engagement stops protecting customers and premium users start to leave.
        z = (
            -0.2
            + 0.03 * (features["tenure_months"] - 28)
            - 0.4 * (features["support_calls"] - 1.4)
            + 0.25 * (features["sessions_per_week"] - 6)
            + np.where(features["plan"] == "premium", 1.0, 0.0)
            - np.where(features["plan"] == "basic", 0.6, 0.0)
        )
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def make_labeled(rng: np.random.Generator, n: int, drifted: bool = False) -> pd.DataFrame:
    features = make_features(rng, n, drifted)
    features["label"] = (rng.random(n) < churn_probability(features, drifted)).astype(int)
    return features


def write_day(
    model: object,
    day: dt.date,
    day_index: int,
    rows: int,
    drift_day: int,
    seed: int,
    inference_root: Path,
    labels_root: Path,
    now: dt.datetime,
    label_delay_days: int,
    model_version: str,
) -> bool:
    """Write one day of inference logs, and its labels if they have arrived by `now`.

    Returns whether the labels were written.
    """
    rng = np.random.default_rng([seed, day_index])
    drifted = day_index >= drift_day
    frame = make_labeled(rng, rows, drifted)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    seconds = np.sort(rng.uniform(0, 86_400, rows))
    scores = model.predict_proba(frame[FEATURES])[:, 1]  # type: ignore[attr-defined]
    logs = frame[FEATURES].copy()
    logs.insert(0, "id", [f"{day:%Y%m%d}-{i:05d}" for i in range(rows)])
    logs.insert(1, "timestamp", pd.to_datetime(start) + pd.to_timedelta(seconds, unit="s"))
    logs["prediction"] = (scores >= 0.5).astype(int)
    logs["score"] = scores.round(6)
    logs["latency_ms"] = rng.lognormal(np.log(38), 0.45, rows).round(2)
    logs["model_version"] = model_version
    logs["error"] = rng.random(rows) < 0.002
    folder = inference_root / f"{day:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    logs.to_parquet(folder / "predictions.parquet", index=False)

    arrives = start + dt.timedelta(days=1 + label_delay_days)
    if arrives > now:
        return False
    label_folder = labels_root / f"{day:%Y-%m-%d}"
    label_folder.mkdir(parents=True, exist_ok=True)
    labels = pd.DataFrame({"id": logs["id"], "label": frame["label"]})
    labels.to_parquet(label_folder / "labels.parquet", index=False)
    return True
