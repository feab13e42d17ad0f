"""MLflow is the source of truth for baselines: metrics and a reference profile per version."""

from monitoring_assets.registry.baseline import (
    BASELINE_METRIC_PREFIX,
    REFERENCE_PROFILE_ARTIFACT,
    Baseline,
    BaselineNotFound,
    load_baseline,
    register_baseline,
    resolve_alias,
)

__all__ = [
    "BASELINE_METRIC_PREFIX",
    "REFERENCE_PROFILE_ARTIFACT",
    "Baseline",
    "BaselineNotFound",
    "load_baseline",
    "register_baseline",
    "resolve_alias",
]
