"""Which columns the drift check scores: the score by default, class predictions as categories."""

import numpy as np
import pandas as pd

from monitoring_assets.config.models import ColumnRoles, DriftConfig
from monitoring_assets.drift import score_drift
from monitoring_assets.drift.columns import categorical_columns, monitored_columns
from monitoring_assets.profiling.profiler import profile_frame


def reference(rows: int = 4000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 5, rows)
    return pd.DataFrame({"age": rng.normal(40, 10, rows), "plan": rng.choice(["a", "b"], rows),
                         "prediction": (score > 0.5).astype(int), "score": score})


def test_the_score_is_scored_by_default_once_even_when_listed_as_a_feature():
    roles = ColumnRoles(features=["age", "plan"])
    cols = ["age", "plan", "prediction", "score"]
    assert monitored_columns(roles, DriftConfig(), [], cols) == ["age", "plan", "prediction", "score"]
    listed = ColumnRoles(features=["age", "score"])
    assert monitored_columns(listed, DriftConfig(), [], cols) == ["age", "score", "prediction"]
    assert "score" not in monitored_columns(roles, DriftConfig(include_score=False), [], cols)
    # A baseline registered without scores cannot judge them.
    assert "score" not in monitored_columns(roles, DriftConfig(), [], ["age", "plan", "prediction"])


def test_an_integer_class_prediction_is_categorical_for_classifiers_only():
    view = profile_frame(reference(), workers=1)
    roles = ColumnRoles(features=["age", "plan"])
    cols = ["age", "plan", "prediction", "score"]
    assert sorted(categorical_columns(roles, "binary", cols, view)) == ["plan", "prediction"]
    assert categorical_columns(roles, "regression", cols, view) == ["plan"]


def test_a_shifted_score_is_flagged_while_the_features_hold():
    ref, cur = reference(seed=1), reference(seed=2)
    cur["score"] = np.clip(cur["score"] + 0.25, 0, 1)
    cols = ["age", "plan", "prediction", "score"]
    default = DriftConfig().default
    ref_view, cur_view = profile_frame(ref, workers=1), profile_frame(cur, workers=1)
    report = score_drift(ref_view, cur_view, cols, default=default,
                         categorical=categorical_columns(ColumnRoles(), "binary", cols, ref_view))
    levels = {f.feature: f.level for f in report.features}
    assert levels["score"] == "error" and levels["age"] == "ok" and levels["plan"] == "ok"
    assert {f.feature: f.kind for f in report.features}["prediction"] == "categorical"
