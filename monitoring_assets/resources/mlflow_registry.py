"""The MLflow model registry as a Dagster resource."""

from __future__ import annotations

from functools import cached_property

import dagster as dg
from mlflow.tracking import MlflowClient
from pydantic import PrivateAttr

from monitoring_assets.registry import Baseline, load_baseline, resolve_alias


class MlflowRegistry(dg.ConfigurableResource):
    """Resolves aliases and reads baselines; one resource instance caches per run."""

    tracking_uri: str
    registry_uri: str | None = None

    _baselines: dict = PrivateAttr(default_factory=dict)

    @cached_property
    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    def version_for_alias(self, registered_model: str, alias: str) -> str:
        return resolve_alias(self.client, registered_model, alias)

    def baseline(self, registered_model: str, version: str) -> Baseline:
        key = (registered_model, str(version))
        if key not in self._baselines:
            self._baselines[key] = load_baseline(self.client, registered_model, str(version))
        return self._baselines[key]
