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
from dataclasses import dataclass, field, replace

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class CalibrationMap:
    """Score to probability, as isotonic breakpoints (linear in between, clipped outside), and
    the number of labelled reference rows it was fitted on (its own uncertainty)."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    rows: int = 0
    spread: dict[str, float] = field(default_factory=dict)  # see reference_spread
    chunk_rows: int = 0

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> CalibrationMap:
        from sklearn.isotonic import IsotonicRegression

        scores = np.asarray(scores, dtype=float)
        labels = np.asarray(labels).astype(int)
        if len(scores) == 0 or len(np.unique(labels)) < 2:
            raise ValueError("a calibration map needs labelled rows of both classes")
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, labels)
        return cls(tuple(float(v) for v in iso.X_thresholds_), tuple(float(v) for v in iso.y_thresholds_),
                   rows=len(scores))

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(scores, dtype=float), self.x, self.y)

    def to_json(self) -> str:
        return json.dumps({"kind": "isotonic", "x": list(self.x), "y": list(self.y), "rows": self.rows,
                           "spread": self.spread, "chunk_rows": self.chunk_rows})

    @classmethod
    def from_json(cls, text: str) -> CalibrationMap:
        data = json.loads(text)
        if data.get("kind") != "isotonic" or len(data["x"]) != len(data["y"]) or not data["x"]:
            raise ValueError("not an isotonic calibration map")
        return cls(tuple(map(float, data["x"])), tuple(map(float, data["y"])), int(data.get("rows", 0)),
                   dict(data.get("spread") or {}), int(data.get("chunk_rows", 0)))


@dataclass(frozen=True)
class ClassCalibration:
    """A multiclass model's class scores to probabilities: one isotonic map per class (one
    against the rest), rows renormalized to sum to one."""

    classes: tuple[str, ...]
    maps: tuple[CalibrationMap, ...]
    rows: int = 0
    spread: dict[str, float] = field(default_factory=dict)
    chunk_rows: int = 0

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray, classes: list[str]) -> ClassCalibration:
        scores = np.asarray(scores, dtype=float)
        labels = np.asarray(labels).astype(str)
        if scores.ndim != 2 or scores.shape[1] != len(classes) or len(classes) < 2:
            raise ValueError("one score column per class, and at least two classes")
        maps = tuple(CalibrationMap.fit(scores[:, i], labels == str(c)) for i, c in enumerate(classes))
        return cls(tuple(str(c) for c in classes), maps, rows=len(labels))

    def apply(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=float)
        probabilities = np.column_stack([m.apply(scores[:, i]) for i, m in enumerate(self.maps)])
        totals = probabilities.sum(axis=1, keepdims=True)
        uniform = np.full_like(probabilities, 1.0 / probabilities.shape[1])
        return np.divide(probabilities, totals, out=uniform, where=totals > 0)

    def to_json(self) -> str:
        return json.dumps({"kind": "isotonic_one_vs_rest", "rows": self.rows, "classes": list(self.classes),
                           "spread": self.spread, "chunk_rows": self.chunk_rows,
                           "maps": [{"x": list(m.x), "y": list(m.y)} for m in self.maps]})


def calibration_from_json(text: str) -> CalibrationMap | ClassCalibration:
    data = json.loads(text)
    if data.get("kind") == "isotonic_one_vs_rest":
        maps = tuple(CalibrationMap(tuple(map(float, m["x"])), tuple(map(float, m["y"]))) for m in data["maps"])
        return ClassCalibration(tuple(data["classes"]), maps, int(data.get("rows", 0)),
                                dict(data.get("spread") or {}), int(data.get("chunk_rows", 0)))
    return CalibrationMap.from_json(text)


@dataclass(frozen=True)
class Estimate:
    """A metric's estimate and its 95% band; `std` is the sampling error at `rows` rows."""

    metric: str
    value: float
    low: float
    high: float
    std: float = math.nan
    rows: int = 0

    @property
    def width(self) -> float:
        return self.high - self.low


def _band(metric: str, value: float, variance: float, z: float = Z_95, rows: int = 0) -> Estimate:
    if not math.isfinite(value) or not math.isfinite(variance):
        return Estimate(metric, value, math.nan, math.nan, math.nan, rows)
    std = math.sqrt(max(variance, 0.0))
    return Estimate(metric, value, max(0.0, value - z * std), min(1.0, value + z * std), std, rows)


def expected_roc_auc(probabilities: np.ndarray, scores: np.ndarray) -> float:
    """CBPE's ROC AUC: the ROC curve of expected true and false positives, ordered by score;
    tied scores move together, as they do in the realized curve (so their order among
    themselves does not matter, and the faster unstable sort serves)."""
    order = np.argsort(-scores)
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
                                   float((correct * (1 - correct)).sum()) / n ** 2, z, n)}
    p_pos, p_neg = p[predicted], p[~predicted]
    m1 = len(p_pos)
    tp, fn = float(p_pos.sum()), float(p_neg.sum())
    var_tp, var_fn = float((p_pos * (1 - p_pos)).sum()), float((p_neg * (1 - p_neg)).sum())
    estimates["precision"] = (_band("precision", tp / m1, var_tp / m1 ** 2, z, n) if m1
                              else Estimate("precision", 0.0, 0.0, 0.0))
    if tp + fn > 0:
        recall_variance = (fn ** 2 * var_tp + tp ** 2 * var_fn) / (tp + fn) ** 4
        estimates["recall"] = _band("recall", tp / (tp + fn), recall_variance, z, n)
    else:
        estimates["recall"] = Estimate("recall", math.nan, math.nan, math.nan)
    denominator = m1 + tp + fn
    if denominator > 0:
        d_tp, d_fn = 2 * (m1 + fn) / denominator ** 2, -2 * tp / denominator ** 2
        estimates["f1"] = _band("f1", 2 * tp / denominator, d_tp ** 2 * var_tp + d_fn ** 2 * var_fn, z, n)
    if scores is not None:
        auc = expected_roc_auc(p, np.asarray(scores, dtype=float))
        estimates["roc_auc"] = _band("roc_auc", auc, _auc_variance(auc, float(p.sum()), float((1 - p).sum())), z, n)
    return estimates


def _f1_scores(confusion: np.ndarray) -> tuple[float, float]:
    """Macro and support-weighted F1 from a confusion matrix (rows: truth, columns: predicted)."""
    tp = np.diag(confusion).astype(float)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    denominator = predicted + actual
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    present = (actual + predicted) > 0  # scikit-learn averages over the labels that occur
    macro = float(f1[present].mean()) if present.any() else 0.0
    weighted = float(np.dot(f1, actual) / actual.sum()) if actual.sum() else 0.0
    return macro, weighted


def _simulated_f1(probabilities: np.ndarray, predicted: np.ndarray, draws: int = 200,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Macro and weighted F1 over `draws` label sets drawn from the calibrated probabilities:
    their spread is the sampling error of the realized values (a ratio of correlated counts, for
    which the delta method with independent classes is too narrow)."""
    rng = np.random.default_rng(seed)
    k = probabilities.shape[1]
    cumulative = probabilities.cumsum(axis=1)
    macro, weighted = np.empty(draws), np.empty(draws)
    for draw in range(draws):
        truth = (rng.random(len(probabilities))[:, None] > cumulative).sum(axis=1).clip(0, k - 1)
        confusion = np.bincount(truth * k + predicted, minlength=k * k).reshape(k, k)
        macro[draw], weighted[draw] = _f1_scores(confusion)
    return macro, weighted


def estimate_multiclass(probabilities: np.ndarray, predictions: np.ndarray, classes: tuple[str, ...] | list[str],
                        z: float = Z_95) -> dict[str, Estimate]:
    """Estimated accuracy, macro F1 and support-weighted F1 of one partition. `probabilities`
    are calibrated, one column per class in `classes`; `predictions` the predicted classes."""
    p = np.asarray(probabilities, dtype=float)
    predicted = np.asarray(predictions).astype(str)
    n = len(p)
    if n == 0:
        return {}
    index = {str(c): i for i, c in enumerate(classes)}
    columns = np.array([index.get(value, -1) for value in predicted])
    correct = np.where(columns >= 0, p[np.arange(n), np.clip(columns, 0, None)], 0.0)
    estimates = {"accuracy": _band("accuracy", float(correct.mean()), float((correct * (1 - correct)).sum()) / n ** 2,
                                   z, n)}
    known = columns >= 0
    k = len(classes)
    expected = np.zeros((k, k))  # expected confusion matrix: rows truth, columns predicted
    np.add.at(expected.T, columns[known], p[known])
    expected_macro, expected_weighted = _f1_scores(expected)
    macro, weighted = _simulated_f1(p[known], columns[known])
    estimates["f1_macro"] = _band("f1_macro", expected_macro, float(macro.var()), z, n)
    estimates["f1_weighted"] = _band("f1_weighted", expected_weighted, float(weighted.var()), z, n)
    return estimates


Z_RECONCILE = 2.5758293035489004  # 99%: one healthy partition in a hundred per metric, not one in twenty


def reconcile(estimate: Estimate, realized: float, reference_rows: int = 0, z: float = Z_RECONCILE,
              spread: float | None = None, chunk_rows: int = 0) -> str | None:
    """None when the realized metric is within what the estimate allows; otherwise why not.

    The allowance adds the calibration's own error to the partition's sampling error: a map
    fitted on R labelled rows is off by about the sampling error of R rows, so the variance
    grows by the factor 1 + n / R. The spread measured on the reference's chunks (`spread`, the
    standard deviation of realized minus estimated at `chunk_rows` rows), scaled to the
    partition's size, is a floor under it. A realized value outside the allowance, with
    calibrated scores, means P(y | x) moved: concept drift, which no estimate from the scores
    can see."""
    if not (math.isfinite(realized) and math.isfinite(estimate.value) and math.isfinite(estimate.std)):
        return None
    inflation = math.sqrt(1 + estimate.rows / reference_rows) if reference_rows > 0 else 1.0
    std = estimate.std * inflation
    if spread and chunk_rows and estimate.rows:
        std = max(std, spread * math.sqrt(chunk_rows / estimate.rows))
    half = z * std
    low, high = estimate.value - half, estimate.value + half
    if low <= realized <= high:
        return None
    direction = "below" if realized < low else "above"
    return (f"suspected concept drift: realized {estimate.metric} {realized:.3f} is {direction} the estimate "
            f"{estimate.value:.3f} (allowed {max(low, 0.0):.3f} to {min(high, 1.0):.3f})")


def reference_spread(calibration: CalibrationMap | ClassCalibration, scores: np.ndarray, predictions: np.ndarray,
                     labels: np.ndarray, chunk_rows: int = 500) -> CalibrationMap | ClassCalibration:
    """The calibration with the spread of realized minus estimated metrics over the reference's
    consecutive chunks of `chunk_rows` (at least five chunks; else none is recorded)."""
    from sklearn import metrics as skm

    n = len(labels)
    if n < 5 * chunk_rows:
        chunk_rows = n // 5
    if chunk_rows < 50:
        return calibration
    gaps: dict[str, list[float]] = {}
    multiclass = isinstance(calibration, ClassCalibration)
    for start in range(0, n - chunk_rows + 1, chunk_rows):
        part = slice(start, start + chunk_rows)
        if multiclass:
            truth, predicted = labels[part].astype(str), predictions[part].astype(str)
            estimates = estimate_multiclass(calibration.apply(scores[part]), predicted, calibration.classes)
            realized = {"accuracy": skm.accuracy_score(truth, predicted),
                        "f1_macro": skm.f1_score(truth, predicted, average="macro", zero_division=0)}
        else:
            truth, predicted = labels[part].astype(int), predictions[part].astype(int)
            estimates = estimate_binary(calibration.apply(scores[part]), predicted, scores[part])
            realized = {"accuracy": skm.accuracy_score(truth, predicted)}
            if len(np.unique(truth)) == 2:
                realized["roc_auc"] = skm.roc_auc_score(truth, scores[part])
        for name, value in realized.items():
            gaps.setdefault(name, []).append(value - estimates[name].value)
    spread = {name: float(np.std(values, ddof=1)) for name, values in gaps.items() if len(values) >= 5}
    return replace(calibration, spread=spread, chunk_rows=chunk_rows)
