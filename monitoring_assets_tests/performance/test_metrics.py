"""The binary metrics, counted in numpy, are scikit-learn's metrics."""

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from monitoring_assets.performance.metrics import binary_metrics, compute_metrics


def sklearn_binary(y_true, y_pred, y_score):
    scores = np.clip(y_score, 1e-15, 1 - 1e-15)
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0),
        "recall": skm.recall_score(y_true, y_pred, zero_division=0),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0),
        "positive_rate": float(np.mean(y_pred)),
        "roc_auc": skm.roc_auc_score(y_true, scores) if len(np.unique(y_true)) == 2 else math.nan,
        "log_loss": skm.log_loss(y_true, scores, labels=[0, 1]),
    }


@pytest.mark.parametrize("seed", range(6))
def test_binary_metrics_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(30, 50_000))
    y_true = (rng.random(rows) < rng.uniform(0.05, 0.95)).astype(int)
    # Rounded scores make many ties, which the ROC AUC must count as scikit-learn does.
    y_score = np.round(np.clip(0.5 * y_true + rng.normal(0.25, 0.3, rows), 0, 1), int(rng.integers(1, 4)))
    y_pred = (y_score >= 0.5).astype(int)
    ours = binary_metrics(y_true, y_pred, y_score)
    theirs = sklearn_binary(y_true, y_pred, y_score)
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_degenerate_batches_match_scikit_learn():
    one_class = np.ones(40, dtype=int)
    never_positive = np.zeros(40, dtype=int)
    scores = np.linspace(0.1, 0.4, 40)
    ours = binary_metrics(one_class, never_positive, scores)
    theirs = sklearn_binary(one_class, never_positive, scores)
    assert math.isnan(ours.pop("roc_auc")) and math.isnan(theirs.pop("roc_auc"))
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert ours["precision"] == 0.0 and ours["recall"] == 0.0


def test_labels_other_than_zero_and_one_are_left_to_scikit_learn():
    with pytest.raises(ValueError, match="pos_label"):
        compute_metrics("binary", [0, 2, 2, 0], [0, 2, 0, 0], None)


@pytest.mark.parametrize("seed", range(8))
def test_the_positives_rank_sum_is_scipys_with_ties(seed):
    from scipy.stats import rankdata

    from monitoring_assets.performance.metrics import positive_rank_sum

    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 20_000))
    # From all ties (one distinct score) to none.
    scores = rng.integers(0, int(rng.choice([1, 3, 50, 10**9])), rows) / 7.0
    positive = rng.random(rows) < rng.uniform(0.0, 1.0)
    assert positive_rank_sum(scores, positive) == float(rankdata(scores)[positive].sum())


def test_nan_scores_tie_with_each_other_after_every_number():
    from scipy.stats import rankdata

    from monitoring_assets.performance.metrics import positive_rank_sum

    rng = np.random.default_rng(11)
    for _ in range(20):
        rows = int(rng.integers(2, 2_000))
        scores = rng.integers(0, 20, rows) / 19.0
        scores[rng.random(rows) < 0.2] = np.nan
        positive = rng.random(rows) < 0.4
        # NaN as a value above every score (1.0 at most): one tie group, ranked last.
        expected = float(rankdata(np.where(np.isnan(scores), 2.0, scores))[positive].sum())
        assert positive_rank_sum(scores, positive) == expected
