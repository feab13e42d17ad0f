"""Effect-size drift scores between two distributions, computed from sketches.

Numeric columns use the KLL quantile sketch of whylogs' distribution metric; categorical
columns use the frequent-items sketch. The cost depends on the sketch size, never on the
number of rows behind it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon

# Laplace-style floor for empty bins; Evidently and NannyML use the same order of magnitude.
_BIN_FLOOR = 1e-4
_QUANTILE_GRID = (np.arange(2000) + 0.5) / 2000


@dataclass(frozen=True)
class NumericSketch:
    """What the numeric scores need from a column's KLL sketch."""

    quantiles: np.ndarray  # values at _QUANTILE_GRID
    cdf: object  # callable(split_points) -> cumulative fractions
    std: float
    n: int


def numeric_sketch_from_kll(kll: object, std: float) -> NumericSketch | None:
    if kll is None or kll.is_empty():  # type: ignore[attr-defined]
        return None
    quantiles = np.asarray(kll.get_quantiles(_QUANTILE_GRID.tolist()), dtype=float)  # type: ignore[attr-defined]

    def cdf(points: np.ndarray) -> np.ndarray:
        if len(points) == 0:
            return np.empty(0)
        # get_cdf returns len(points)+1 values; the last is always 1.
        return np.asarray(kll.get_cdf(np.asarray(points, dtype=float).tolist()), dtype=float)[:-1]  # type: ignore[attr-defined]

    std = float(std)
    if not math.isfinite(std):
        # One value near the float limit makes the variance overflow; the quartiles still
        # describe the spread (IQR / 1.349 is the standard deviation of a normal).
        q25, q75 = np.interp([0.25, 0.75], _QUANTILE_GRID, quantiles)
        std = float((q75 - q25) / 1.349)
    return NumericSketch(quantiles=quantiles, cdf=cdf, std=std, n=int(kll.get_n()))  # type: ignore[attr-defined]


def normed_wasserstein(reference: NumericSketch, current: NumericSketch) -> float:
    """Wasserstein-1 distance divided by the reference standard deviation (as in Evidently)."""
    with np.errstate(over="ignore"):  # values near the float limit: the distance is inf, not an error
        distance = float(np.mean(np.abs(reference.quantiles - current.quantiles)))
    scale = reference.std if reference.std > 0 else 0.0
    if scale == 0.0:
        return 0.0 if distance == 0.0 else math.inf
    return distance / scale


def _reference_bins(reference: NumericSketch, bins: int) -> np.ndarray:
    edges = np.quantile(reference.quantiles, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(edges)


def _binned(reference: NumericSketch, current: NumericSketch, bins: int) -> tuple[np.ndarray, np.ndarray]:
    edges = _reference_bins(reference, bins)
    ref_cdf = reference.cdf(edges)  # type: ignore[operator]
    cur_cdf = current.cdf(edges)  # type: ignore[operator]
    ref = np.diff(np.concatenate([[0.0], ref_cdf, [1.0]]))
    cur = np.diff(np.concatenate([[0.0], cur_cdf, [1.0]]))
    return ref, cur


def population_stability_index(expected: np.ndarray, actual: np.ndarray) -> float:
    expected = np.clip(np.asarray(expected, dtype=float), _BIN_FLOOR, None)
    actual = np.clip(np.asarray(actual, dtype=float), _BIN_FLOOR, None)
    expected = expected / expected.sum()
    actual = actual / actual.sum()
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def hellinger_distance(p: np.ndarray, q: np.ndarray) -> float:
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p = p / p.sum() if p.sum() > 0 else p
    q = q / q.sum() if q.sum() > 0 else q
    return float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance with base-2 logarithms, so that it lies in [0, 1]."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        # scipy returns NaN for an empty side; an empty side against data is total drift.
        return 0.0 if p.sum() == q.sum() else 1.0
    return float(jensenshannon(p, q, base=2.0))


def kolmogorov_smirnov_statistic(reference: NumericSketch, current: NumericSketch) -> float:
    points = np.unique(np.concatenate([reference.quantiles, current.quantiles]))
    return float(np.max(np.abs(reference.cdf(points) - current.cdf(points))))  # type: ignore[operator]


def numeric_scores(reference: NumericSketch, current: NumericSketch, bins: int = 10) -> dict[str, float]:
    ref_bins, cur_bins = _binned(reference, current, bins)
    return {
        "wasserstein": normed_wasserstein(reference, current),
        "psi": population_stability_index(ref_bins, cur_bins),
        "hellinger": hellinger_distance(ref_bins, cur_bins),
        "ks": kolmogorov_smirnov_statistic(reference, current),
    }


def cramers_v_two_samples(reference: np.ndarray, current: np.ndarray) -> float:
    """Chi-square effect size of the 2 x K table (reference vs current counts)."""
    table = np.vstack([reference, current]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    total = table.sum()
    if total == 0 or table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    return math.sqrt(chi2 / total)


def categorical_scores(
    reference_counts: Mapping[str, float], current_counts: Mapping[str, float]
) -> dict[str, float]:
    categories = sorted(set(reference_counts) | set(current_counts))
    ref = np.array([reference_counts.get(c, 0.0) for c in categories], dtype=float)
    cur = np.array([current_counts.get(c, 0.0) for c in categories], dtype=float)
    return {
        "jensenshannon": jensen_shannon_distance(ref, cur),
        "psi": population_stability_index(ref, cur) if ref.sum() and cur.sum() else 0.0,
        "chi2": cramers_v_two_samples(ref, cur),
    }
