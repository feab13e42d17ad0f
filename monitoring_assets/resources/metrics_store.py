"""The metrics store as a Dagster resource."""

from __future__ import annotations

import dagster as dg

from monitoring_assets.metrics_store.store import MetricsStore

_stores: dict[str, MetricsStore] = {}


class MetricsStoreResource(dg.ConfigurableResource):
    """`url`: a SQLAlchemy URL. In production it comes from $MONITORING_METRICS_URL through
    EnvVar, so that a password in it never shows in the UI."""

    url: str

    def store(self) -> MetricsStore:
        # One engine (and its pool) per process and URL, not one per step.
        if self.url not in _stores:
            _stores[self.url] = MetricsStore(self.url)
        return _stores[self.url]
