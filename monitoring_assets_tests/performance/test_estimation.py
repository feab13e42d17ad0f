"""CBPE on simulated data where the truth is known: under covariate shift alone the realized
metrics fall inside the 95% bands about 95% of the time, with bands no wider than sampling
error allows; under a concept shift the reconciliation fires."""

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from monitoring_assets.performance.estimation import (
    Z_95,
    CalibrationMap,
    estimate_binary,
    expected_roc_auc,
    reconcile,
)

ROWS = 1000
PARTITIONS = 200


def true_probability(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(2.0 * x - 0.5)))


def model_score(x: np.ndarray) -> np.ndarray:
    """A monotone but miscalibrated score: the model ranks well, its raw scores are too low."""
    return true_probability(x) ** 1.8


@pytest.fixture(scope="module")
def calibration() -> CalibrationMap:
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, 20_000)
    labels = rng.random(len(x)) < true_probability(x)
    return CalibrationMap.fit(model_score(x), labels)


def partitions(concept_shift: bool = False, seed: int = 1):
    rng = np.random.default_rng(seed)
    for index in range(PARTITIONS):
        shift = rng.uniform(-1.0, 1.0)  # covariate shift: each partition's x moves, P(y|x) does not
        x = rng.normal(shift, rng.uniform(0.7, 1.3), ROWS)
        p = true_probability(-x if concept_shift else x)
        labels = (rng.random(ROWS) < p).astype(int)
        score = model_score(x)
        yield score, (score >= 0.5 ** 1.8).astype(int), labels


def test_the_calibration_map_round_trips_as_json_not_pickle(calibration):
    restored = CalibrationMap.from_json(calibration.to_json())
    scores = np.linspace(0, 1, 101)
    assert np.allclose(restored.apply(scores), calibration.apply(scores))
    assert calibration.to_json().startswith('{"kind": "isotonic"')
    with pytest.raises(ValueError):
        CalibrationMap.fit(np.array([0.1, 0.9]), np.array([1, 1]))


def test_cbpe_auc_equals_the_realized_auc_when_probabilities_are_certain():
    scores = np.array([0.9, 0.8, 0.8, 0.4, 0.3, 0.1])
    labels = np.array([1, 0, 1, 1, 0, 0])
    assert expected_roc_auc(labels.astype(float), scores) == pytest.approx(skm.roc_auc_score(labels, scores))


def test_realized_metrics_fall_inside_the_bands_under_covariate_shift(calibration):
    inside = {name: 0 for name in ("accuracy", "precision", "recall", "f1", "roc_auc")}
    widths = {name: [] for name in inside}
    bounds = {"accuracy": [], "roc_auc": []}
    for score, predicted, labels in partitions():
        p = calibration.apply(score)
        estimates = estimate_binary(p, predicted, score)
        realized = {
            "accuracy": skm.accuracy_score(labels, predicted),
            "precision": skm.precision_score(labels, predicted, zero_division=0),
            "recall": skm.recall_score(labels, predicted, zero_division=0),
            "f1": skm.f1_score(labels, predicted, zero_division=0),
            "roc_auc": skm.roc_auc_score(labels, score),
        }
        for name, value in realized.items():
            inside[name] += estimates[name].low <= value <= estimates[name].high
            widths[name].append(estimates[name].width)
        # The widest a band may honestly be at this size: accuracy is a mean of ROWS Bernoulli
        # outcomes, whose variance is largest at p = 1/2; an AUC's sampling variance is largest
        # for an uninformative score (Mann-Whitney's null variance) at the expected class counts.
        positives, negatives = p.sum(), (1 - p).sum()
        bounds["accuracy"].append(2 * Z_95 * math.sqrt(0.25 / ROWS))
        bounds["roc_auc"].append(2 * Z_95 * math.sqrt((positives + negatives + 1) / (12 * positives * negatives)))
    coverage = {name: count / PARTITIONS for name, count in inside.items()}
    print(f"\ncoverage of the 95% bands over {PARTITIONS} partitions of {ROWS} rows: {coverage}")
    print("mean widths:", {name: round(float(np.mean(w)), 4) for name, w in widths.items()})
    assert all(value >= 0.90 for value in coverage.values()), coverage
    # Not trivially wide: under the worst case at this size, and clearly so for a confident model.
    assert np.mean(widths["accuracy"]) < 0.9 * np.mean(bounds["accuracy"])
    assert np.mean(widths["roc_auc"]) < np.mean(bounds["roc_auc"])
    assert np.mean(widths["accuracy"]) > 0.02  # and not a point: the sampling error is real


def test_the_reconciliation_fires_under_a_concept_shift(calibration):
    fired = 0
    for score, predicted, labels in partitions(concept_shift=True, seed=2):
        estimate = estimate_binary(calibration.apply(score), predicted, score)["accuracy"]
        message = reconcile(estimate, skm.accuracy_score(labels, predicted))
        if message:
            fired += 1
            assert message.startswith("suspected concept drift: realized accuracy") and " below " in message
    assert fired >= 0.95 * PARTITIONS


def test_no_reconciliation_without_a_shift_beyond_the_band(calibration):
    score, predicted, labels = next(partitions(seed=3))
    estimate = estimate_binary(calibration.apply(score), predicted, score)["accuracy"]
    assert reconcile(estimate, estimate.value) is None
    assert reconcile(estimate, float("nan")) is None
    assert reconcile(estimate, estimate.high + 0.01).startswith("suspected concept drift")


def test_the_reconciliation_stays_quiet_under_covariate_shift_with_a_small_reference():
    """The calibration's own error (fitted on 3,000 rows, as the demo's is) is allowed for."""
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 1.0, 3000)
    small = CalibrationMap.fit(model_score(x), rng.random(len(x)) < true_probability(x))
    assert small.rows == 3000 and CalibrationMap.from_json(small.to_json()).rows == 3000
    fired = 0
    for score, predicted, labels in partitions(seed=4):
        estimates = estimate_binary(small.apply(score), predicted, score)
        fired += any(reconcile(estimates[name], value, small.rows) for name, value in (
            ("accuracy", skm.accuracy_score(labels, predicted)), ("roc_auc", skm.roc_auc_score(labels, score))))
    assert fired <= 0.05 * PARTITIONS, fired


CLASSES = ("low", "mid", "high")


def class_probabilities(x: np.ndarray) -> np.ndarray:
    logits = np.column_stack([-1.5 * x, np.full_like(x, 0.3), 1.5 * x])
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def class_scores(x: np.ndarray) -> np.ndarray:
    return class_probabilities(x) ** 1.5  # ranks well, miscalibrated and not normalized


def test_multiclass_estimates_cover_the_realized_metrics_under_covariate_shift():
    from monitoring_assets.performance.estimation import ClassCalibration, calibration_from_json, estimate_multiclass

    rng = np.random.default_rng(8)

    def draw(x):
        p = class_probabilities(x)
        return np.array(CLASSES)[(rng.random(len(x))[:, None] > p.cumsum(axis=1)).sum(axis=1)]

    x = rng.normal(0, 1, 20_000)
    calibration = ClassCalibration.fit(class_scores(x), draw(x), list(CLASSES))
    restored = calibration_from_json(calibration.to_json())
    assert isinstance(restored, ClassCalibration) and restored.classes == CLASSES and restored.rows == 20_000
    inside = {"accuracy": 0, "f1_macro": 0, "f1_weighted": 0}
    for _ in range(PARTITIONS):
        x = rng.normal(rng.uniform(-1, 1), rng.uniform(0.7, 1.3), ROWS)
        scores = class_scores(x)
        predicted = np.array(CLASSES)[scores.argmax(axis=1)]
        labels = draw(x)
        estimates = estimate_multiclass(restored.apply(scores), predicted, CLASSES)
        realized = {"accuracy": skm.accuracy_score(labels, predicted),
                    "f1_macro": skm.f1_score(labels, predicted, average="macro", zero_division=0),
                    "f1_weighted": skm.f1_score(labels, predicted, average="weighted", zero_division=0)}
        for name, value in realized.items():
            inside[name] += estimates[name].low <= value <= estimates[name].high
    coverage = {name: count / PARTITIONS for name, count in inside.items()}
    print(f"\nmulticlass coverage of the 95% bands: {coverage}")
    assert all(value >= 0.90 for value in coverage.values()), coverage


def test_the_reference_spread_matches_the_sampling_error_and_floors_the_allowance(calibration):
    from monitoring_assets.performance.estimation import reference_spread

    rng = np.random.default_rng(6)
    x = rng.normal(0.0, 1.0, 10_000)
    score = model_score(x)
    labels = (rng.random(len(x)) < true_probability(x)).astype(int)
    predicted = (score >= 0.5 ** 1.8).astype(int)
    with_spread = reference_spread(calibration, score, predicted, labels, chunk_rows=500)
    assert with_spread.chunk_rows == 500 and set(with_spread.spread) == {"accuracy", "roc_auc"}
    analytic = estimate_binary(calibration.apply(score[:500]), predicted[:500], score[:500])["accuracy"].std
    assert 0.5 * analytic < with_spread.spread["accuracy"] < 2 * analytic  # 20 chunks: a rough match
    restored = CalibrationMap.from_json(with_spread.to_json())
    assert restored.spread == with_spread.spread and restored.chunk_rows == 500
    # A spread far wider than the sampling error widens what the reconciliation allows.
    estimate = estimate_binary(calibration.apply(score[:1000]), predicted[:1000], score[:1000])["accuracy"]
    off = estimate.value - 4 * estimate.std
    assert reconcile(estimate, off) is not None
    assert reconcile(estimate, off, spread=0.2, chunk_rows=500) is None
    assert reference_spread(calibration, score[:200], predicted[:200], labels[:200]) is calibration  # too few rows
