"""The label join (one Arrow lookup) is the left merge it replaced, and counts the orphan labels
(labels whose id no prediction has) as pandas' isin does."""

from types import SimpleNamespace

import numpy as np
import pandas as pd


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
        assert orphan_labels == 25 == int((~labels["id"].isin(predictions["id"])).sum())
        pd.testing.assert_frame_equal(joined[expected.columns], expected, check_dtype=True)
    assert joined["label"].isna().sum() == 4000 - len(labelled)
    everything = pd.DataFrame({"id": predictions["id"], "label": rng.integers(0, 2, 4000)})
    joined, _ = join_labels(model, predictions, everything)
    assert joined["label"].dtype == np.int64  # as merge keeps it when every row has a label
    joined, orphan_labels = join_labels(model, predictions, everything.iloc[:0])
    assert orphan_labels == 0 and joined["label"].isna().all()
