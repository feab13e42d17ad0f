"""Property: whatever a batch suffers, every row ends up valid or quarantined, once."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring_assets.validation.readers import SOURCE_FILE_COLUMN
from monitoring_assets.validation.validate import REASONS_COLUMN, validate_batch
from monitoring_assets_tests.validation.helpers import clean_batch, demo_schema

SCHEMA = demo_schema()
BASE = clean_batch(60, seed=3)
COLUMNS = list(BASE.columns)
BAD_VALUES = [np.nan, np.inf, -np.inf, "garbage", 1e12, -5, "", None, True, "2026-13-45"]

mutation = st.tuples(
    st.sampled_from(["cell", "duplicate_id", "drop_column", "extra_column"]),
    st.integers(0, len(BASE) - 1),
    st.sampled_from(COLUMNS),
    st.sampled_from(range(len(BAD_VALUES))),
)


def mutate(frame: pd.DataFrame, mutations) -> pd.DataFrame:
    frame = frame.copy()
    for kind, row, column, value_index in mutations:
        if kind == "cell" and column in frame:
            frame[column] = frame[column].astype(object)
            frame.at[row, column] = BAD_VALUES[value_index]
        elif kind == "duplicate_id" and "id" in frame:
            frame.at[row, "id"] = frame.at[0, "id"]
        elif kind == "drop_column" and column in frame and len(frame.columns) > 3:
            frame = frame.drop(columns=[column])
        elif kind == "extra_column":
            frame[f"extra_{value_index}"] = value_index
    frame[SOURCE_FILE_COLUMN] = "mutated.parquet"
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, max_size=12))
def test_rows_always_reconcile(mutations):
    frame = mutate(BASE, mutations)
    outcome = validate_batch(frame, SCHEMA, ["mutated.parquet"])
    assert outcome.rows_in == len(frame)
    assert outcome.reconciles()
    if outcome.batch_failures:
        return
    # The quarantine keeps the original values of exactly the rows that left the batch.
    quarantined_ids = outcome.quarantined["id"].tolist() if "id" in outcome.quarantined else []
    valid_ids = outcome.valid["id"].tolist() if "id" in outcome.valid else []
    if "id" in frame:
        assert sorted(map(str, quarantined_ids + valid_ids)) == sorted(map(str, frame["id"].tolist()))
    if outcome.rows_quarantined:
        assert outcome.quarantined[REASONS_COLUMN].str.contains('"check"').all()
