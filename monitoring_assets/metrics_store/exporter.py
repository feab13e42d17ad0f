"""Prometheus metrics read from the metrics store on each scrape: the current state of every
model. The history stays in the store (Prometheus would stamp a backfill at scrape time)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from monitoring_assets.metrics_store.store import MetricsStore

LEVEL_CODES = {"ok": 0, "warn": 1, "error": 2}


def _latest_per(rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], tuple]) -> dict[tuple, Mapping]:
    latest: dict[tuple, Mapping[str, Any]] = {}
    for row in rows:  # ordered by partition_start
        if row.get("value") is not None:
            latest[key(row)] = row
    return latest


class StoreCollector(Collector):
    """`freshness_limits`: model -> seconds after a partition's end by which the next one is due."""

    def __init__(self, store: MetricsStore, freshness_limits: Mapping[str, float] | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.freshness_limits = dict(freshness_limits or {})
        self.clock = clock
        self.errors = 0

    def collect(self):
        errors = CounterMetricFamily("monitoring_exporter_scrape_errors",
                                     "Scrapes whose read of the metrics store failed.")
        try:
            families = self._families(self.store.rows())
        except Exception:  # noqa: BLE001 - any store failure is a scrape error, reported as such
            self.errors += 1
            families = []
        errors.add_metric([], self.errors)
        yield from families
        yield errors

    def _families(self, rows: list[dict]) -> list:
        now = self.clock()
        health = GaugeMetricFamily("monitoring_model_health", "Model health: 0 healthy, 1 warning, 2 degraded.",
                                   labels=["model", "version"])
        drift = GaugeMetricFamily("monitoring_feature_drift_score",
                                  "Drift score of each feature on its latest judged partition.",
                                  labels=["model", "version", "feature"])
        drift_limit = GaugeMetricFamily("monitoring_feature_drift_threshold",
                                        "A feature's drift threshold at each level (warn, error).",
                                        labels=["model", "version", "feature", "level"])
        metric = GaugeMetricFamily("monitoring_metric_value",
                                   "Latest realized (labels) or estimated (scores) value of a performance metric.",
                                   labels=["model", "version", "metric", "source"])
        baseline = GaugeMetricFamily("monitoring_metric_baseline", "A metric's baseline, registered in MLflow.",
                                     labels=["model", "version", "metric"])
        limit = GaugeMetricFamily("monitoring_metric_threshold", "The metric's binding threshold.",
                                  labels=["model", "version", "metric"])
        coverage = GaugeMetricFamily("monitoring_label_coverage",
                                     "Share of the latest judged partition's predictions with a label.",
                                     labels=["model", "version"])
        check = GaugeMetricFamily("monitoring_check_level",
                                  "Each check's verdict on its latest partition: 0 passed, 1 warn, 2 error.",
                                  labels=["model", "check"])
        freshness = GaugeMetricFamily("monitoring_data_freshness_seconds",
                                      "Seconds since the end of the newest partition that brought inference rows.",
                                      labels=["model"])
        freshness_limit = GaugeMetricFamily("monitoring_data_freshness_limit_seconds",
                                            "Freshness beyond which the model's data is stale (its config).",
                                            labels=["model"])
        newest_partition = GaugeMetricFamily("monitoring_latest_partition_end_timestamp_seconds",
                                             "End of the newest partition that brought inference rows.",
                                             labels=["model"])
        by_model: dict[str, list[dict]] = {}
        for row in rows:
            by_model.setdefault(row["model"], []).append(row)
        for model, model_rows in by_model.items():
            for (version,), row in _latest_per((r for r in model_rows if r["kind"] == "health"),
                                               lambda r: (r["version"],)).items():
                health.add_metric([model, version], row["value"])
            drift_rows = [r for r in model_rows if r["kind"] == "drift"]
            if drift_rows:
                newest = max(r["partition_start"] for r in drift_rows)
                for row in (r for r in drift_rows if r["partition_start"] == newest):
                    if row["value"] is not None:
                        drift.add_metric([model, row["version"], row["name"]], row["value"])
                    for level, column in (("warn", "warn_threshold"), ("error", "threshold")):
                        if row.get(column) is not None:
                            drift_limit.add_metric([model, row["version"], row["name"], level], row[column])
            for kind, source in (("performance", "realized"), ("estimate", "estimated")):
                latest = _latest_per((r for r in model_rows if r["kind"] == kind
                                      and r["name"] not in ("label_coverage", "labeled_rows")),
                                     lambda r: (r["version"], r["name"]))
                for (version, name), row in latest.items():
                    metric.add_metric([model, version, name, source], row["value"])
                    if kind == "performance":
                        if row.get("baseline") is not None:
                            baseline.add_metric([model, version, name], row["baseline"])
                        if row.get("threshold") is not None:
                            limit.add_metric([model, version, name], row["threshold"])
            judged = [r for r in model_rows if r["kind"] == "performance" and r["name"] == "label_coverage"]
            for (version,), row in _latest_per(judged, lambda r: (r["version"],)).items():
                coverage.add_metric([model, version], row["value"])
            for (name,), row in _latest_per(
                    ({**r, "value": LEVEL_CODES.get(r.get("level"), 0)} for r in model_rows if r["kind"] == "check"),
                    lambda r: (r["name"],)).items():
                check.add_metric([model, name], row["value"])
            with_rows = [r["partition_end"] for r in model_rows
                         if r["kind"] == "service" and r["name"] == "rows" and (r["value"] or 0) > 0]
            if with_rows:
                end = max(with_rows).timestamp()
                newest_partition.add_metric([model], end)
                freshness.add_metric([model], max(0.0, now - end))
            if model in self.freshness_limits:
                freshness_limit.add_metric([model], self.freshness_limits[model])
        return [health, drift, drift_limit, metric, baseline, limit, coverage, check, freshness, freshness_limit,
                newest_partition]


def freshness_limit_seconds(grain: str, max_delay_hours: float | None) -> float:
    """A partition is stale once its successor's data is overdue: one grain plus the delay
    (two grains when no delay is set), as the freshness check judges it."""
    grain_s = 86_400.0 if grain == "daily" else 3_600.0
    return grain_s + (max_delay_hours * 3600.0 if max_delay_hours else 2 * grain_s)


def serve(store: MetricsStore, freshness_limits: Mapping[str, float], host: str, port: int) -> Any:
    """Start the HTTP endpoint in a background thread; returns (server, thread)."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    registry.register(StoreCollector(store, freshness_limits))
    return start_http_server(port, addr=host, registry=registry)
