"""The MLflow registry as a Dagster resource: configuration in, a `ModelRegistry` out."""

from __future__ import annotations

from functools import cached_property

import dagster as dg

from monitoring_assets.registry import ModelRegistry
from monitoring_assets.resources.run_heap import freeze_loaded_heap


class MlflowRegistry(dg.ConfigurableResource):
    """Every asset, sensor and job reaches MLflow through `.registry`, a `ModelRegistry`.

    `cache_root` holds downloaded baselines (under the storage root), shared by every step and
    run; `artifact_location` is where the experiments the project creates keep artifacts.
    """

    tracking_uri: str
    registry_uri: str | None = None
    artifact_location: str | None = None
    cache_root: str | None = None

    @cached_property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.tracking_uri, self.registry_uri, self.artifact_location, self.cache_root)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every job of the project that handles frames holds this resource, so its run start is
        # where the loaded heap is frozen; a sensor tick's resources (no run) leave the heap be.
        if context.dagster_run is not None:
            freeze_loaded_heap()
