"""Judging a candidate version against the champion on the same labeled window."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from monitoring_assets.drift.scores import categorical_scores
from monitoring_assets.performance.thresholds import MetricThresholdLike, evaluate_threshold

# Signature types a production column of a given kind may be fed to.
_COMPATIBLE = {
    "float": {"double", "float"},
    "int": {"long", "integer", "double", "float"},
    "str": {"string"},
    "bool": {"boolean"},
    "datetime": {"datetime"},
}


@dataclass
class GateCheck:
    name: str
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def threshold_check(candidate: Mapping[str, float], champion: Mapping[str, float],
                    thresholds: Mapping[str, MetricThresholdLike]) -> GateCheck:
    outcomes = [evaluate_threshold(name, candidate.get(name, float("nan")), champion.get(name), spec)
                for name, spec in thresholds.items()]
    failures = [reason for o in outcomes for reason in o.reasons if not o.passed]
    return GateCheck(
        "candidate_meets_thresholds", not failures,
        "; ".join(failures) if failures else "candidate meets every MetricThreshold against the champion",
        {"outcomes": [o.to_dict() for o in outcomes]},
    )


def signature_check(candidate_inputs: Iterable[Any], production_columns: Mapping[str, str]) -> GateCheck:
    """Every input the candidate needs is produced, with a type it accepts."""
    problems = []
    inputs = list(candidate_inputs)
    if not inputs:
        problems.append("the candidate has no signature")
    for spec in inputs:
        kind = production_columns.get(spec.name)
        if kind is None:
            if spec.required:
                problems.append(f"input {spec.name!r} is not in the production schema")
            continue
        if spec.type.lower() not in _COMPATIBLE.get(kind, set()):
            problems.append(f"input {spec.name!r} expects {spec.type} but production has {kind}")
    return GateCheck(
        "candidate_signature_compatible", not problems,
        "; ".join(problems) if problems else "the candidate's signature accepts the production schema",
        {"inputs": [i.name for i in inputs]},
    )


def prediction_drift(task: str, candidate: pd.Series, champion: pd.Series) -> float:
    if task == "regression":
        spread = float(np.std(champion)) or 1.0
        return float(wasserstein_distance(candidate, champion) / spread)
    counts = lambda s: s.astype(str).value_counts().to_dict()  # noqa: E731
    return categorical_scores(counts(champion), counts(candidate))["jensenshannon"]


def drift_check(task: str, candidate: pd.Series, champion: pd.Series, limit: float) -> GateCheck:
    score = prediction_drift(task, candidate, champion)
    metric = "normed Wasserstein" if task == "regression" else "Jensen-Shannon distance"
    return GateCheck(
        "candidate_prediction_drift", score <= limit,
        f"prediction drift vs champion {score:.3f} ({metric}), limit {limit:g}",
        {"observed": score, "threshold": limit},
    )


def window_check(labeled_rows: int, minimum: int, partitions: list[str]) -> GateCheck:
    return GateCheck(
        "evaluation_window_labeled", labeled_rows >= minimum,
        f"{labeled_rows} labeled rows in {len(partitions)} partition(s) (minimum {minimum})",
        {"observed": labeled_rows, "threshold": minimum, "partitions": partitions},
    )


def previous_champion_chain(version: str, tags_of: Callable[[str], Mapping[str, str]]) -> str | None:
    """The version to roll back to: the recorded previous champion, skipping any version
    that was itself rolled back (and never looping)."""
    seen = {version}
    candidate = tags_of(version).get("monitoring.previous_champion")
    while candidate and candidate not in seen:
        seen.add(candidate)
        tags = tags_of(candidate)
        if tags.get("monitoring.rolled_back") != "true":
            return candidate
        candidate = tags.get("monitoring.previous_champion")
    return None
