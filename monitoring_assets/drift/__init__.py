"""Drift scored from whylogs sketches: effect sizes, not p-values."""

from monitoring_assets.drift.report import DriftReport, FeatureDrift, score_drift

__all__ = ["DriftReport", "FeatureDrift", "score_drift"]
