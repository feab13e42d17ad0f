"""MLflow's MetricThreshold semantics, applied to a live metric and its baseline.

As in `mlflow.models.MetricThreshold`: `threshold` is an absolute bound, and
`min_absolute_change` / `min_relative_change` bound the change against the baseline in the
"better" direction given by `greater_is_better`. Monitoring allows negative changes (a
tolerated drop); promotion uses positive ones (a required gain).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Protocol


class MetricThresholdLike(Protocol):
    threshold: float | None
    min_absolute_change: float | None
    min_relative_change: float | None
    greater_is_better: bool


@dataclass(frozen=True)
class ThresholdOutcome:
    metric: str
    value: float
    baseline: float | None
    passed: bool
    limit: float | None
    reasons: list[str]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def evaluate_threshold(
    metric: str, value: float, baseline: float | None, spec: MetricThresholdLike
) -> ThresholdOutcome:
    """Return whether `value` meets `spec` against `baseline`, and the binding limit."""
    sign = 1.0 if spec.greater_is_better else -1.0
    limits: list[tuple[float, str]] = []
    if spec.threshold is not None:
        limits.append((spec.threshold, f"threshold {spec.threshold:g}"))
    if baseline is not None and not math.isnan(baseline):
        if spec.min_absolute_change is not None:
            limit = baseline + sign * spec.min_absolute_change
            limits.append((limit, f"min_absolute_change {spec.min_absolute_change:+g} on baseline"))
        if spec.min_relative_change is not None:
            limit = baseline + sign * spec.min_relative_change * abs(baseline)
            limits.append((limit, f"min_relative_change {spec.min_relative_change:+.1%} on baseline"))
    if not limits:
        return ThresholdOutcome(metric, value, baseline, True, None, ["no baseline to compare with"])
    # The binding limit is the strictest one in the "better" direction.
    binding = max(limits, key=lambda item: sign * item[0])
    failures = [
        f"{metric}={value:.4g} is {'below' if spec.greater_is_better else 'above'} "
        f"{limit:.4g} ({why})"
        for limit, why in limits
        if math.isnan(value) or sign * (value - limit) < 0
    ]
    return ThresholdOutcome(metric, value, baseline, not failures, binding[0], failures)
