"""From a check evaluation's metadata (plain values) to what failed: the metrics past their
limits, each with its direction, so that an alert names the metric that failed."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from monitoring_assets.alerts.book import MetricBreach

UNJUDGED_STATUSES = {"pending", "not_estimated"}
# How observed relates to the threshold when each check fails.
_CEILINGS = {"drift_within_limits": ">", "schema_valid": ">", "latency_slo": ">"}
_LABELS = {"schema_valid": "quarantined share", "latency_slo": "latency p95 ms", "label_coverage": "label coverage"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def is_judged(metadata: Mapping[str, Any]) -> bool:
    return str(metadata.get("status") or "") not in UNJUDGED_STATUSES


def breaches_from(check: str, passed: bool, severity: str, metadata: Mapping[str, Any],
                  greater_is_better: Callable[[str], bool]) -> list[MetricBreach]:
    if passed:
        return []
    outcomes = metadata.get("metric_outcomes")
    if isinstance(outcomes, list):
        version = metadata.get("version")
        breaches = []
        for row in outcomes:
            if not isinstance(row, Mapping) or row.get("passed") or (version and row.get("version") != version):
                continue
            metric = str(row.get("metric"))
            breaches.append(MetricBreach(metric, _number(row.get("value")), _number(row.get("limit")),
                                         _number(row.get("baseline")), "<" if greater_is_better(metric) else ">"))
        if breaches:
            return breaches
    observed, threshold = _number(metadata.get("observed")), _number(metadata.get("threshold"))
    if observed is None or threshold is None:
        return []
    if check == "drift_within_limits":
        feature = metadata.get("observed_feature") or "worst feature"
        error_threshold = _number(metadata.get("threshold_error"))
        if severity == "ERROR" and error_threshold is not None:
            threshold = error_threshold
        if observed <= threshold:
            return []
        return [MetricBreach(f"drift({feature})", observed, threshold, metadata.get("baseline"), ">")]
    metric = str(metadata.get("metric") or _LABELS.get(check, check))
    comparison = _CEILINGS.get(check) or ("<" if greater_is_better(metric) else ">")
    if (observed > threshold) != (comparison == ">") or observed == threshold:
        return []  # the check failed for another reason (a missing column, an unseen category)
    baseline = _number(metadata.get("baseline"))
    return [MetricBreach(metric, observed, threshold, baseline, comparison)]
