"""Performance metrics by task, as scikit-learn defines them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as skm


def _zero_one(values: np.ndarray) -> bool:
    return bool(((values == 0) | (values == 1)).all())


def positive_rank_sum(scores: np.ndarray, positive: np.ndarray) -> float:
    """The sum of the positives' ranks among all scores, tied scores sharing their average rank
    (scipy's `rankdata(scores)[positive].sum()`); NaN scores tie with each other, after every
    number, as numpy sorts and searches them.

    The positives' ranks among themselves sum to P(P+1)/2 whatever their ties, so what remains is
    each positive's count of negatives below it, a tied negative counting half: the two classes
    sorted apart (a sort of values, not the slower argsort of all scores) and the negatives
    searched for each positive. Counted in integers, the sum is exact."""
    positives, negatives = np.sort(scores[positive]), np.sort(scores[~positive])
    doubled_below = (np.searchsorted(negatives, positives, "left").sum(dtype=np.int64)
                     + np.searchsorted(negatives, positives, "right").sum(dtype=np.int64))
    count = len(positives)
    return (count * (count + 1) + int(doubled_below)) / 2


def _counted_binary_metrics(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None) -> dict[str, float]:
    """scikit-learn's definitions computed from one confusion count and one sort. On 1M rows
    scikit-learn's input checks (np.unique on every call) cost more than the metrics."""
    tn, fp, fn, tp = (int(c) for c in np.bincount(2 * y_true + y_pred, minlength=4))
    rows = len(y_true)
    result = {
        "accuracy": (tp + tn) / rows,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "positive_rate": (tp + fp) / rows,
    }
    if scores is not None:
        positives, negatives = tp + fn, tn + fp
        if positives and negatives:
            # Mann-Whitney: the area under the ROC curve, tied scores counted as half.
            rank_sum = positive_rank_sum(scores, y_true == 1)
            result["roc_auc"] = (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)
        else:
            result["roc_auc"] = math.nan
        result["log_loss"] = float(-np.mean(np.where(y_true == 1, np.log(scores), np.log(1 - scores))))
    return result


def binary_metrics(y_true: Sequence, y_pred: Sequence, y_score: Sequence | None) -> dict[str, float]:
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    scores = None if y_score is None else np.clip(np.asarray(y_score, dtype=float), 1e-15, 1 - 1e-15)
    if len(y_true) and _zero_one(y_true) and _zero_one(y_pred):
        return _counted_binary_metrics(y_true, y_pred, scores)
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0),
        "recall": skm.recall_score(y_true, y_pred, zero_division=0),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0),
        "positive_rate": float(np.mean(y_pred)) if len(y_pred) else math.nan,
    }
    if scores is not None:
        both_classes = len(np.unique(y_true)) == 2
        result["roc_auc"] = skm.roc_auc_score(y_true, scores) if both_classes else math.nan
        result["log_loss"] = skm.log_loss(y_true, scores, labels=[0, 1])
    return {k: float(v) for k, v in result.items()}


def multiclass_metrics(y_true: Sequence, y_pred: Sequence) -> dict[str, float]:
    y_true = np.asarray(y_true).astype(str)
    y_pred = np.asarray(y_pred).astype(str)
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "f1_macro": float(skm.f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "f1_weighted": float(skm.f1_score(y_true, y_pred, average="weighted", zero_division=0)),
    }


def regression_metrics(y_true: Sequence, y_pred: Sequence) -> dict[str, float]:
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    return {
        "rmse": float(skm.root_mean_squared_error(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else math.nan,
        "bias": float(np.mean(y_pred - y_true)),
    }


def compute_metrics(
    task: str, y_true: Sequence, y_pred: Sequence, y_score: Sequence | None = None
) -> dict[str, float]:
    if len(y_true) == 0:
        return {}
    if task == "binary":
        return binary_metrics(y_true, y_pred, y_score)
    if task == "multiclass":
        return multiclass_metrics(y_true, y_pred)
    if task == "regression":
        return regression_metrics(y_true, y_pred)
    raise ValueError(f"unknown task {task!r}")


def grouped_rows(keys: pd.Series) -> list[tuple[object, np.ndarray]]:
    """Each value of `keys` (missing values are a value of their own) with the positions of its
    rows, in the order a groupby gives. Only positions: a groupby's sub-frames copy every column."""
    grouped = keys.groupby(keys, dropna=False, observed=True)
    group = grouped.ngroup().to_numpy()
    order = np.argsort(group, kind="stable")
    # `ngroup` numbers the groups in the order of `size()`'s index: their values.
    return list(zip(grouped.size().index, np.split(order, np.flatnonzero(np.diff(group[order])) + 1)))


def metrics_by_segment(
    frame: pd.DataFrame,
    segment: str,
    task: str,
    label: str,
    prediction: str,
    score: str | None,
    min_rows: int = 20,
) -> dict[str, dict[str, float]]:
    """Metrics per value of a categorical column (missing values are a segment of their own);
    small segments are left out. Segments come in the order of their values. Only the three
    columns the metrics read are sliced per segment, not the frame."""
    result: dict[str, dict[str, float]] = {}
    truth = frame[label].to_numpy()
    predicted = frame[prediction].to_numpy()
    scores = frame[score].to_numpy() if score and score in frame else None
    for value, rows in grouped_rows(frame[segment]):
        if len(rows) < min_rows:
            continue
        result[str(value)] = compute_metrics(task, truth[rows], predicted[rows],
                                             None if scores is None else scores[rows]) | {"rows": float(len(rows))}
    return result
