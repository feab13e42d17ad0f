"""Which columns a model's drift check scores, and which of them are categorical."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from monitoring_assets.drift.report import is_categorical


def monitored_columns(roles: Any, drift: Any, signature_inputs: Iterable[str], reference_columns: Iterable[str]) -> list[str]:
    """The features (configured, else the signature's inputs), then the prediction and the score.

    The score is added only when the reference profile has it: a baseline registered without
    scores cannot judge them. A column listed twice (the score as a feature) is scored once.
    """
    features = list(roles.features or signature_inputs)
    known = set(reference_columns)
    extra = []
    if drift.include_prediction:
        extra.append(roles.prediction)
    if getattr(drift, "include_score", True) and roles.score and roles.score in known:
        extra.append(roles.score)
    columns: list[str] = []
    for name in [*features, *extra]:
        if name and name not in columns:
            columns.append(name)
    return columns


def categorical_columns(roles: Any, task: str, columns: list[str], reference: Any) -> list[str]:
    """Configured categoricals (else the reference's string columns), and for classification the
    prediction: a 0/1 or class-id label is a category, whatever its dtype."""
    if roles.categorical is not None:
        categorical = [c for c in roles.categorical if c in columns]
    else:
        categorical = [c for c in columns if (col := reference.get_column(c)) is not None and is_categorical(col)]
    if task != "regression" and roles.prediction in columns and roles.prediction not in categorical:
        categorical.append(roles.prediction)
    if roles.score in categorical:
        categorical.remove(roles.score)
    return categorical
