"""The store's rows for one partition, from the outputs of the partition's assets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from monitoring_assets.health.status import STATUS_CODE
from monitoring_assets.metrics_store.store import MetricRow
from monitoring_assets.performance.thresholds import MetricThresholdLike, evaluate_threshold

# Kinds the write-back rewrites in full for its partition (checks are upserted one by one: a
# labels run re-judges only some of them).
WRITEBACK_KINDS = ("drift", "performance", "estimate", "service")
SERVICE_KEYS = ("rows", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate", "throughput_per_min")


def check_level(passed: bool, severity: str) -> str:
    return "ok" if passed else ("error" if str(severity).upper() == "ERROR" else "warn")


def partition_rows(model: str, start: dt.datetime, end: dt.datetime, performance: Mapping[str, Any],
                   drift: Mapping[str, Any], service: Mapping[str, Any], estimated: Mapping[str, Any] | None,
                   specs: Mapping[str, MetricThresholdLike], service_limits: Mapping[str, float | None],
                   min_coverage: float | None = None) -> list[MetricRow]:
    main = drift.get("reference_version") or performance.get("version")
    if main is None:
        return []
    main = str(main)

    def row(version: str, kind: str, name: str, value: Any, **rest: Any) -> MetricRow:
        return MetricRow(model, str(version), start, end, kind, name, value, **rest)

    rows = [row(main, "drift", f["feature"], f["score"], warn_threshold=f.get("warn"), threshold=f.get("error"),
                level=f.get("level")) for f in drift.get("features", [])]
    for evaluation in performance.get("versions", []):
        outcomes = {o["metric"]: o for o in evaluation.get("outcomes", [])}
        for name, value in evaluation.get("metrics", {}).items():
            outcome = outcomes.get(name)
            rows.append(row(evaluation["version"], "performance", name, value,
                            baseline=(outcome or {}).get("baseline", evaluation.get("baseline", {}).get(name)),
                            threshold=(outcome or {}).get("limit"),
                            level=None if outcome is None else ("ok" if outcome["passed"] else "error")))
        rows.append(row(evaluation["version"], "performance", "labeled_rows", evaluation.get("rows")))
    if performance.get("status") is not None:
        coverage = performance.get("label_coverage")
        rows.append(row(main, "performance", "label_coverage", coverage, threshold=min_coverage,
                        level=None if min_coverage is None or coverage is None
                        else ("ok" if coverage >= min_coverage else "warn")))
    if estimated and estimated.get("status") == "estimated":
        baseline = estimated.get("baseline", {}) or {}
        for name, estimate in estimated.get("estimates", {}).items():
            limit, level = None, None
            if name in specs:
                outcome = evaluate_threshold(name, estimate["value"], baseline.get(name), specs[name])
                limit, level = outcome.limit, "ok" if outcome.passed else "warn"
            rows.append(row(estimated["version"], "estimate", name, estimate["value"], baseline=baseline.get(name),
                            low=estimate.get("low"), high=estimate.get("high"), threshold=limit, level=level))
    for key in SERVICE_KEYS:
        if key in service:
            limit = service_limits.get(key)
            value = service[key]
            level = None
            if limit is not None and isinstance(value, (int, float)):
                level = "ok" if value <= limit else "error"
            rows.append(row(main, "service", key, value, threshold=limit, level=level))
    return rows


def check_rows(model: str, version: str, start: dt.datetime, end: dt.datetime,
               evaluations: list[Mapping[str, Any]]) -> list[MetricRow]:
    """One row per check evaluation: {check, passed, severity, metadata}."""
    rows = []
    for evaluation in evaluations:
        metadata = evaluation.get("metadata", {})
        rows.append(MetricRow(
            model, str(version), start, end, "check", evaluation["check"],
            value=metadata.get("observed"), threshold=metadata.get("threshold"),
            level=check_level(evaluation["passed"], evaluation["severity"]),
        ))
    return rows


def health_row(model: str, version: str, start: dt.datetime, end: dt.datetime, status: str) -> MetricRow:
    code = STATUS_CODE[status]
    return MetricRow(model, str(version), start, end, "health", "status", code,
                     level=("ok", "warn", "error")[code])
