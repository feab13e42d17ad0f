"""Assembling a `Definitions` object from a validated config."""

from __future__ import annotations

import dagster as dg

from monitoring_assets.assets import build_model_assets
from monitoring_assets.assets.factory import build_comparison_job, build_monitoring_job
from monitoring_assets.config import MonitoringConfig
from monitoring_assets.resources import (
    FrameIOManager,
    JsonIOManager,
    MlflowRegistry,
    MonitoringStorage,
    ProfileIOManager,
)


def build_resources(config: MonitoringConfig) -> dict[str, object]:
    root = config.storage.root.rstrip("/")
    return {
        "mlflow": MlflowRegistry(
            tracking_uri=config.mlflow.tracking_uri, registry_uri=config.mlflow.registry_uri
        ),
        "storage": MonitoringStorage(root=root),
        "frame_io_manager": FrameIOManager(base_path=f"{root}/frames"),
        "profile_io_manager": ProfileIOManager(base_path=f"{root}/profiles"),
        "report_io_manager": JsonIOManager(base_path=f"{root}/reports"),
    }


def build_definitions(config: MonitoringConfig) -> dg.Definitions:
    assets = [asset for model in config.models for asset in build_model_assets(model)]
    jobs = [build_monitoring_job(model) for model in config.models]
    jobs += [build_comparison_job(model) for model in config.models]
    return dg.Definitions(assets=assets, jobs=jobs, resources=build_resources(config))
