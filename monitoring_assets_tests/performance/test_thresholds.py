"""MetricThreshold semantics on plain numbers: no MLflow, no Dagster instance."""

import math

import pytest

from monitoring_assets.config import PerformanceThreshold
from monitoring_assets.performance.thresholds import evaluate_threshold


def test_a_tolerated_relative_drop_passes_up_to_its_limit_and_fails_past_it():
    spec = PerformanceThreshold(min_relative_change=-0.05)
    held = evaluate_threshold("accuracy", 0.86, 0.9, spec)
    assert held.passed and held.limit == pytest.approx(0.855)
    fell = evaluate_threshold("accuracy", 0.85, 0.9, spec)
    assert not fell.passed and "below 0.855" in fell.reasons[0]


def test_lower_is_better_metrics_fail_when_they_rise():
    spec = PerformanceThreshold(min_relative_change=-0.2, greater_is_better=False)
    assert evaluate_threshold("rmse", 1.19, 1.0, spec).passed
    outcome = evaluate_threshold("rmse", 1.21, 1.0, spec)
    assert not outcome.passed and outcome.limit == pytest.approx(1.2) and "above" in outcome.reasons[0]


def test_the_strictest_of_several_limits_binds():
    spec = PerformanceThreshold(threshold=0.8, min_absolute_change=-0.02)
    outcome = evaluate_threshold("roc_auc", 0.85, 0.9, spec)
    assert outcome.limit == pytest.approx(0.88) and not outcome.passed
    assert len(outcome.reasons) == 1  # 0.85 is above the absolute threshold of 0.8


def test_nan_never_passes_and_a_missing_baseline_leaves_only_the_absolute_threshold():
    assert not evaluate_threshold("accuracy", math.nan, 0.9, PerformanceThreshold(threshold=0.5)).passed
    only_relative = evaluate_threshold("accuracy", 0.1, None, PerformanceThreshold(min_relative_change=-0.05))
    assert only_relative.passed and only_relative.reasons == ["no baseline to compare with"]
