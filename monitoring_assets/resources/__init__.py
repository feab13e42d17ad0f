"""Dagster resources: the MLflow registry and the storage of profiles, frames and reports."""

from monitoring_assets.resources.io_managers import (
    FrameIOManager,
    JsonIOManager,
    ProfileIOManager,
)
from monitoring_assets.resources.mlflow_registry import MlflowRegistry
from monitoring_assets.resources.storage import MonitoringStorage

__all__ = ["FrameIOManager", "JsonIOManager", "MlflowRegistry", "MonitoringStorage", "ProfileIOManager"]
