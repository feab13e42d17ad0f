"""Orphan labels (no prediction with their id) counted in Arrow agree with pandas' isin."""

import numpy as np
import pandas as pd

from monitoring_assets.assets.performance import orphan_count


def test_orphan_count_matches_isin_with_nulls_and_repeats():
    rng = np.random.default_rng(4)
    predictions = pd.Series([f"id-{i}" for i in rng.choice(5000, 3000, replace=False)], dtype="str")
    labels = pd.Series([f"id-{i}" for i in rng.integers(0, 6000, 2500)] + [None, None], dtype="str")
    expected = int((~labels.isin(predictions)).sum())
    assert 0 < expected < len(labels)
    assert orphan_count(labels, predictions) == expected
    assert orphan_count(predictions.iloc[:10], predictions) == 0
