"""MLflow is the source of truth for baselines: metrics and a reference profile per version.

`ModelRegistry` is the one route to MLflow; `register_baseline` is the entry point for
training pipelines.
"""

from monitoring_assets.registry.baseline import (
    BASELINE_METRIC_PREFIX,
    REFERENCE_PROFILE_ARTIFACT,
    Baseline,
    BaselineNotFound,
    InputColumn,
    MlflowUnavailable,
    register_baseline,
)
from monitoring_assets.registry.registry import ModelRegistry, default_artifact_location

__all__ = [
    "BASELINE_METRIC_PREFIX",
    "REFERENCE_PROFILE_ARTIFACT",
    "Baseline",
    "BaselineNotFound",
    "InputColumn",
    "MlflowUnavailable",
    "ModelRegistry",
    "default_artifact_location",
    "register_baseline",
]
