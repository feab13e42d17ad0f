"""Clean inference batches and the schema they satisfy, built without MLflow."""

import datetime as dt

import numpy as np
import pandas as pd

from monitoring_assets.config.models import ColumnRoles
from monitoring_assets.demo.data import CATEGORICAL_FEATURES, FEATURES, make_features
from monitoring_assets.profiling.profiler import profile_frame
from monitoring_assets.registry.baseline import InputColumn
from monitoring_assets.validation.schema import build_inference_schema

ROLES = ColumnRoles(error="error")


def clean_batch(rows: int = 200, seed: int = 0, prefix: str = "r") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = make_features(rng, rows)
    frame.insert(0, "id", [f"{prefix}{seed}-{i}" for i in range(rows)])
    start = pd.Timestamp(dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc))
    frame.insert(1, "timestamp", start + pd.to_timedelta(np.sort(rng.uniform(0, 86_000, rows)), unit="s"))
    score = rng.random(rows)
    frame["prediction"] = (score > 0.5).astype(int)
    frame["score"] = score
    frame["latency_ms"] = rng.lognormal(3.5, 0.4, rows)
    frame["model_version"] = "1"
    frame["error"] = False
    return frame


def signature_inputs() -> list[InputColumn]:
    return [
        InputColumn(name, "string" if name in CATEGORICAL_FEATURES else "double", True)
        for name in FEATURES
    ]


def demo_schema(strict: bool = False):
    reference = clean_batch(5_000, seed=99, prefix="ref")
    return build_inference_schema(
        signature_inputs=signature_inputs(),
        reference=profile_frame(reference[FEATURES + ["prediction", "score"]]),
        roles=ROLES,
        task="binary",
        strict=strict,
    )
