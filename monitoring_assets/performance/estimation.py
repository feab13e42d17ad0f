"""Performance without labels: confidence-based performance estimation (CBPE) for binary
classifiers, and its reconciliation with the realized metrics once labels arrive.

With calibrated probabilities p = P(y=1 | x), each row's contribution to the confusion matrix is
known in expectation: a row predicted positive is a true positive with probability p and a false
positive with probability 1 - p. The partition's expected confusion matrix, and the metrics from
it, follow from its scores alone. Scores are made calibrated by a map fitted on the labelled
reference (isotonic regression), stored as JSON breakpoints, not pickle.

Each estimate has a 95% band: the sampling error of the realized metric at the partition's size
when labels are drawn from the calibrated probabilities (a sum of independent Bernoulli rows for
accuracy, precision, recall and F1, with the delta method for the ratios; Hanley and McNeil's
variance at the expected class counts for ROC AUC). The assumption is that P(y | x) did not
change; `reconcile` is how a violation shows once labels are in.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class CalibrationMap:
    """Score to probability, as isotonic breakpoints (linear in between, clipped outside)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> CalibrationMap:
        from sklearn.isotonic import IsotonicRegression

        scores = np.asarray(scores, dtype=float)
        labels = np.asarray(labels).astype(int)
        if len(scores) == 0 or len(np.unique(labels)) < 2:
            raise ValueError("a calibration map needs labelled rows of both classes")
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, labels)
        return cls(tuple(float(v) for v in iso.X_thresholds_), tuple(float(v) for v in iso.y_thresholds_))

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(scores, dtype=float), self.x, self.y)

    def to_json(self) -> str:
        return json.dumps({"kind": "isotonic", "x": list(self.x), "y": list(self.y)})

    @classmethod
    def from_json(cls, text: str) -> CalibrationMap:
        data = json.loads(text)
        if data.get("kind") != "isotonic" or len(data["x"]) != len(data["y"]) or not data["x"]:
            raise ValueError("not an isotonic calibration map")
        return cls(tuple(map(float, data["x"])), tuple(map(float, data["y"])))


@dataclass(frozen=True)
class Estimate:
    metric: str
    value: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def _band(metric: str, value: float, variance: float, z: float = Z_95) -> Estimate:
    if not math.isfinite(value):
        return Estimate(metric, math.nan, math.nan, math.nan)
    half = z * math.sqrt(max(variance, 0.0))
    return Estimate(metric, value, max(0.0, value - half), min(1.0, value + half))


def expected_roc_auc(probabilities: np.ndarray, scores: np.ndarray) -> float:
    """CBPE's ROC AUC: the ROC curve of expected true and false positives, ordered by score;
    tied scores move together, as they do in the realized curve."""
    order = np.argsort(-scores, kind="mergesort")
    p, s = probabilities[order], scores[order]
    positives, negatives = p.sum(), (1 - p).sum()
    if positives <= 0 or negatives <= 0:
        return math.nan
    last_of_tie = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tpr = np.r_[0.0, np.cumsum(p)[last_of_tie] / positives]
    fpr = np.r_[0.0, np.cumsum(1 - p)[last_of_tie] / negatives]
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))


def _auc_variance(auc: float, positives: float, negatives: float) -> float:
    """Hanley and McNeil (1982) at the expected class counts."""
    if positives < 1 or negatives < 1 or not math.isfinite(auc):
        return math.nan
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    return (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives)


def estimate_binary(probabilities: np.ndarray, predictions: np.ndarray, scores: np.ndarray | None = None,
                    z: float = Z_95) -> dict[str, Estimate]:
    """Estimated accuracy, precision, recall, F1 and (with scores) ROC AUC of one partition.
    `probabilities` are calibrated P(y=1); `predictions` the model's 0/1 decisions."""
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    predicted = np.asarray(predictions).astype(int) == 1
    n = len(p)
    if n == 0:
        return {}
    correct = np.where(predicted, p, 1 - p)  # P(the prediction is right)
    estimates = {"accuracy": _band("accuracy", float(correct.mean()),
                                   float((correct * (1 - correct)).sum()) / n ** 2, z)}
    p_pos, p_neg = p[predicted], p[~predicted]
    m1 = len(p_pos)
    tp, fn = float(p_pos.sum()), float(p_neg.sum())
    var_tp, var_fn = float((p_pos * (1 - p_pos)).sum()), float((p_neg * (1 - p_neg)).sum())
    estimates["precision"] = (_band("precision", tp / m1, var_tp / m1 ** 2, z) if m1
                              else Estimate("precision", 0.0, 0.0, 0.0))
    if tp + fn > 0:
        recall_variance = (fn ** 2 * var_tp + tp ** 2 * var_fn) / (tp + fn) ** 4
        estimates["recall"] = _band("recall", tp / (tp + fn), recall_variance, z)
    else:
        estimates["recall"] = Estimate("recall", math.nan, math.nan, math.nan)
    denominator = m1 + tp + fn
    if denominator > 0:
        d_tp, d_fn = 2 * (m1 + fn) / denominator ** 2, -2 * tp / denominator ** 2
        estimates["f1"] = _band("f1", 2 * tp / denominator, d_tp ** 2 * var_tp + d_fn ** 2 * var_fn, z)
    if scores is not None:
        auc = expected_roc_auc(p, np.asarray(scores, dtype=float))
        estimates["roc_auc"] = _band("roc_auc", auc, _auc_variance(auc, float(p.sum()), float((1 - p).sum())), z)
    return estimates


def reconcile(estimate: Estimate, realized: float) -> str | None:
    """None when the realized metric falls inside the estimate's band; otherwise why not. A
    realized value below the band, with calibrated scores, means P(y | x) moved: concept drift,
    which no estimate from the scores can see."""
    if not (math.isfinite(realized) and math.isfinite(estimate.value)):
        return None
    if estimate.low <= realized <= estimate.high:
        return None
    direction = "below" if realized < estimate.low else "above"
    return (f"suspected concept drift: realized {estimate.metric} {realized:.3f} is {direction} the estimate "
            f"{estimate.value:.3f} [{estimate.low:.3f}, {estimate.high:.3f}]")
