"""The seeded benchmark frame: 20 numeric columns of mixed shapes, 5 categorical columns
with 3 to 50 values, a prediction and a label. The current batch drifts in exactly three
numeric columns and one categorical column."""

from __future__ import annotations

import numpy as np
import pandas as pd

DRIFTED_NUMERIC = ["num_00", "num_07", "num_13"]
DRIFTED_CATEGORICAL = ["cat_2"]
CATEGORY_SIZES = [3, 5, 12, 25, 50]


def _numeric(rng: np.random.Generator, index: int, n: int, drifted: bool) -> np.ndarray:
    shape = index % 5
    shift = 0.5 if drifted else 0.0
    if shape == 0:
        return rng.normal(10 + shift * 3, 3, n)
    if shape == 1:
        return rng.lognormal(1 + shift, 0.6, n)
    if shape == 2:
        return rng.exponential(2.0 * (1 + shift), n)
    if shape == 3:
        values = np.where(rng.random(n) < 0.5, rng.normal(-2, 1, n), rng.normal(3, 1.5, n))
        return values + shift * 2.5
    return rng.integers(0, 1000, n).astype(float) + shift * 150


def _categorical(rng: np.random.Generator, size: int, n: int, drifted: bool) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1)
    if drifted:
        weights = weights[::-1]
    weights = weights / weights.sum()
    labels = np.array([f"c{i:02d}" for i in range(size)], dtype=object)
    return labels[rng.choice(size, n, p=weights)]


def benchmark_frame(rows: int, seed: int = 0, drifted: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng([seed, int(drifted)])
    data: dict[str, object] = {}
    for i in range(20):
        name = f"num_{i:02d}"
        data[name] = _numeric(rng, i, rows, drifted and name in DRIFTED_NUMERIC)
    for i, size in enumerate(CATEGORY_SIZES):
        name = f"cat_{i}"
        data[name] = _categorical(rng, size, rows, drifted and name in DRIFTED_CATEGORICAL)
    frame = pd.DataFrame(data)
    frame["prediction"] = rng.integers(0, 2, rows)
    frame["label"] = rng.integers(0, 2, rows)
    return frame


def features() -> list[str]:
    return [f"num_{i:02d}" for i in range(20)] + [f"cat_{i}" for i in range(5)] + ["prediction"]


def categorical() -> list[str]:
    return [f"cat_{i}" for i in range(5)] + ["prediction"]
