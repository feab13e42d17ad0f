"""Drift of every feature between a reference profile and a current profile."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

from monitoring_assets.drift.scores import (
    NumericSketch,
    categorical_scores,
    numeric_scores,
    numeric_sketch_from_kll,
)

Level = Literal["ok", "warn", "error"]
_LEVEL_ORDER = {"ok": 0, "warn": 1, "error": 2}


class ThresholdLike(Protocol):
    numeric_metric: str
    categorical_metric: str
    warn: float
    error: float


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: Literal["numeric", "categorical"]
    metric: str
    score: float
    warn: float
    error: float
    level: Level
    scores: dict[str, float] = field(default_factory=dict)
    missing_rate_reference: float = 0.0
    missing_rate_current: float = 0.0
    unseen_categories: list[str] = field(default_factory=list)
    rows_current: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class DriftReport:
    features: list[FeatureDrift]

    @property
    def level(self) -> Level:
        worst = max((f.level for f in self.features), key=_LEVEL_ORDER.__getitem__, default="ok")
        return worst

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.level != "ok"]

    def to_dict(self) -> dict[str, object]:
        return {"level": self.level, "features": [f.to_dict() for f in self.features]}


def _level(score: float, warn: float, error: float) -> Level:
    if math.isnan(score):
        return "ok"
    if score >= error:
        return "error"
    if score >= warn:
        return "warn"
    return "ok"


def _column_metrics(view: object, name: str) -> object | None:
    return view.get_column(name)  # type: ignore[attr-defined]


def _missing_rate(column: object) -> tuple[float, int]:
    counts = column.get_metric("counts")  # type: ignore[attr-defined]
    n = int(counts.n.value) if counts is not None else 0
    nulls = int(counts.null.value) if counts is not None else 0
    return (nulls / n if n else 0.0), n


def _numeric_sketch(column: object) -> NumericSketch | None:
    dist = column.get_metric("distribution")  # type: ignore[attr-defined]
    if dist is None:
        return None
    return numeric_sketch_from_kll(dist.kll.value, dist.stddev)


def missing_count(column: object) -> float:
    counts = column.get_metric("counts")  # type: ignore[attr-defined]
    return float(counts.null.value) if counts is not None else 0.0


def category_counts(column: object) -> dict[str, float]:
    items = column.get_metric("frequent_items")  # type: ignore[attr-defined]
    if items is None or items.frequent_strings.value.is_empty():
        return {}
    counts: dict[str, float] = {}
    for item in items.strings:
        key = normalise_category(item.value)
        counts[key] = counts.get(key, 0.0) + float(item.est)
    return counts


def normalise_category(value: str) -> str:
    """'1', '1.0' and 'True' name the same class whichever dtype the batch was read with."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer():
        return str(int(number))
    return value


def is_categorical(column: object) -> bool:
    types = column.get_metric("types")  # type: ignore[attr-defined]
    if types is None:
        return False
    summary = types.to_summary_dict()
    numeric = int(summary.get("integral", 0)) + int(summary.get("fractional", 0))
    return int(summary.get("string", 0)) + int(summary.get("boolean", 0)) > numeric


def score_drift(
    reference: object,
    current: object,
    features: Iterable[str],
    thresholds: Mapping[str, ThresholdLike] | None = None,
    default: ThresholdLike | None = None,
    categorical: Iterable[str] | None = None,
) -> DriftReport:
    """Score each feature of `current` (a whylogs profile view) against `reference`.

    `categorical` names the columns scored on categories; by default a column is
    categorical when the reference holds mostly strings or booleans.
    """
    thresholds = thresholds or {}
    categorical_set = set(categorical) if categorical is not None else None
    results: list[FeatureDrift] = []
    for name in features:
        threshold = thresholds.get(name, default)
        if threshold is None:
            raise ValueError(f"no drift threshold for feature {name!r} and no default")
        ref_col = _column_metrics(reference, name)
        cur_col = _column_metrics(current, name)
        if ref_col is None:
            raise KeyError(f"feature {name!r} is not in the reference profile")
        ref_missing, _ = _missing_rate(ref_col)
        if cur_col is None:
            results.append(
                FeatureDrift(
                    feature=name, kind="numeric", metric="missing", score=math.inf,
                    warn=threshold.warn, error=threshold.error, level="error",
                    missing_rate_reference=ref_missing, missing_rate_current=1.0,
                )
            )
            continue
        cur_missing, cur_n = _missing_rate(cur_col)
        categorical_column = (
            name in categorical_set if categorical_set is not None else is_categorical(ref_col)
        )
        unseen: list[str] = []
        if categorical_column:
            ref_counts = category_counts(ref_col)
            cur_counts = category_counts(cur_col)
            scores = categorical_scores(ref_counts, cur_counts)
            unseen = sorted(set(cur_counts) - set(ref_counts))
            metric = threshold.categorical_metric
            kind: Literal["numeric", "categorical"] = "categorical"
        else:
            ref_sketch = _numeric_sketch(ref_col)
            cur_sketch = _numeric_sketch(cur_col)
            if ref_sketch is None or cur_sketch is None:
                scores = {m: math.nan for m in ("wasserstein", "psi", "hellinger", "ks")}
            else:
                scores = numeric_scores(ref_sketch, cur_sketch)
            metric = threshold.numeric_metric
            kind = "numeric"
        score = scores[metric]
        results.append(
            FeatureDrift(
                feature=name, kind=kind, metric=metric, score=score,
                warn=threshold.warn, error=threshold.error,
                level=_level(score, threshold.warn, threshold.error),
                scores=scores, missing_rate_reference=ref_missing,
                missing_rate_current=cur_missing, unseen_categories=unseen[:20],
                rows_current=cur_n,
            )
        )
    return DriftReport(features=results)
