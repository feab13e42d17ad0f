"""Settling labels on one hash of the ids gives what pandas' drop_duplicates defines."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring_assets.validation.labels import settle_labels


def by_drop_duplicates(frame: pd.DataFrame, time_column: str | None) -> tuple[pd.DataFrame, tuple[int, int, int]]:
    """The rule as first written: the last row of each id wins, conflicts are ids with two labels."""
    labels = frame[["id", "label"]].copy()
    labels["id"] = labels["id"].astype(str)
    if time_column:
        times = pd.to_datetime(frame[time_column], utc=True)
        labels = labels.iloc[times.fillna(pd.Timestamp.min.tz_localize("UTC")).argsort(kind="stable").to_numpy()]
    distinct = labels.drop_duplicates(subset=["id", "label"])
    conflicting = int(distinct.loc[distinct["id"].duplicated(), "id"].nunique())
    settled = labels.drop_duplicates(subset="id", keep="last").reset_index(drop=True)
    return settled, (len(labels) - len(settled), conflicting, len(settled))


rows = st.lists(st.tuples(st.integers(0, 12), st.sampled_from([0.0, 1.0, 2.0, np.nan]),
                          st.one_of(st.none(), st.integers(0, 4))), max_size=60)


@settings(max_examples=300, deadline=None)
@given(rows=rows, timed=st.booleans())
def test_settlement_matches_drop_duplicates(rows, timed):
    frame = pd.DataFrame({
        "id": [f"id-{i}" for i, _, _ in rows],
        "label": pd.Series([label for _, label, _ in rows], dtype="float64"),
        "label_time": pd.to_datetime([None if t is None else t * 86_400 for _, _, t in rows], unit="s", utc=True),
    })
    time_column = "label_time" if timed else None
    settled, counts = settle_labels(frame, "id", "label", time_column)
    expected, (duplicates, conflicting, labelled) = by_drop_duplicates(frame, time_column)
    pd.testing.assert_frame_equal(settled, expected)
    assert (counts.duplicate_rows, counts.conflicting_ids, counts.labelled_ids) == (duplicates, conflicting, labelled)
    assert counts.rows_in == len(frame)
