"""Orphan labels (no prediction with their id) counted in Arrow agree with pandas' isin."""

from types import SimpleNamespace

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


def _merge_join(predictions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    return predictions.merge(labels.drop_duplicates(subset="id", keep="last"), on="id", how="left")


def test_join_labels_is_the_left_merge_it_replaces():
    from monitoring_assets.assets.performance import join_labels
    from monitoring_assets.config.models import ColumnRoles

    model = SimpleNamespace(columns=ColumnRoles())  # the join reads only the column roles
    rng = np.random.default_rng(9)
    predictions = pd.DataFrame({
        "id": pd.Series([f"id-{i}" for i in rng.permutation(4000)], dtype="str"),
        "prediction": rng.integers(0, 2, 4000),
        "score": rng.random(4000),
    })
    # Labels for 70% of the predictions, some twice (a correction, which wins), and orphans.
    labelled = predictions["id"].sample(frac=0.7, random_state=3)
    first = pd.DataFrame({"id": labelled, "label": rng.integers(0, 2, len(labelled))})
    corrections = pd.DataFrame({"id": labelled.iloc[:300], "label": 1 - first["label"].iloc[:300]})
    orphans = pd.DataFrame({"id": pd.Series([f"late-{i}" for i in range(25)], dtype="str"), "label": 1})
    for labels in (pd.concat([first, corrections, orphans], ignore_index=True),
                   pd.concat([first, orphans], ignore_index=True)):
        joined, orphan_labels = join_labels(model, predictions, labels)
        expected = _merge_join(predictions, labels)
        assert orphan_labels == 25
        pd.testing.assert_frame_equal(joined[expected.columns], expected, check_dtype=True)
    assert joined["label"].isna().sum() == 4000 - len(labelled)
    everything = pd.DataFrame({"id": predictions["id"], "label": rng.integers(0, 2, 4000)})
    joined, _ = join_labels(model, predictions, everything)
    assert joined["label"].dtype == np.int64  # as merge keeps it when every row has a label
    joined, orphan_labels = join_labels(model, predictions, everything.iloc[:0])
    assert orphan_labels == 0 and joined["label"].isna().all()
