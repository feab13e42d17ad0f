"""Metrics per segment and per served version, sliced from three columns by row positions, are
those of a groupby over the frame."""

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring_assets.performance.metrics import compute_metrics, grouped_rows, metrics_by_segment
from monitoring_assets.registry.served import row_versions


def by_frame_groupby(frame, segment, task, label, prediction, score, min_rows):
    """The rule as first written: one sub-frame per segment value."""
    result = {}
    for value, group in frame.groupby(segment, dropna=False, observed=True):
        if len(group) < min_rows:
            continue
        scores = group[score] if score and score in group else None
        result[str(value)] = compute_metrics(task, group[label], group[prediction], scores) | {"rows": float(len(group))}
    return result


def same(ours, theirs):
    assert list(ours) == list(theirs)  # the same segments, in the same order
    for name in theirs:
        assert ours[name].keys() == theirs[name].keys()
        for metric, value in theirs[name].items():
            assert (math.isnan(value) and math.isnan(ours[name][metric])) or ours[name][metric] == value, (name, metric)


segments = st.sampled_from(["a", "b", "c", None])


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(segments, st.integers(0, 1), st.integers(0, 1), st.floats(0, 1)), max_size=120),
       kind=st.sampled_from(["str", "category", "object"]), with_score=st.booleans(), min_rows=st.integers(1, 25))
def test_binary_segments_match_a_groupby_of_the_frame(rows, kind, with_score, min_rows):
    frame = pd.DataFrame(rows, columns=["plan", "label", "prediction", "score"])
    frame["id"] = [f"r{i}" for i in range(len(frame))]
    frame["plan"] = frame["plan"].astype(kind)
    score = "score" if with_score else None
    ours = metrics_by_segment(frame, "plan", "binary", "label", "prediction", score, min_rows)
    same(ours, by_frame_groupby(frame, "plan", "binary", "label", "prediction", score, min_rows))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(segments, st.sampled_from(["x", "y", "z"]), st.sampled_from(["x", "y", "z"])),
                     max_size=80))
def test_multiclass_segments_match_a_groupby_of_the_frame(rows):
    frame = pd.DataFrame(rows, columns=["plan", "label", "prediction"]).astype({"plan": "str"})
    same(metrics_by_segment(frame, "plan", "multiclass", "label", "prediction", None, 5),
         by_frame_groupby(frame, "plan", "multiclass", "label", "prediction", None, 5))


def test_regression_segments_on_a_filtered_frame_match_a_groupby():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"plan": rng.choice(["a", "b", "c"], 500), "label": rng.normal(size=500),
                          "prediction": rng.normal(size=500)})
    labeled = frame[frame["label"] > -1]  # an index with gaps, as the labelled rows of a batch have
    ours = metrics_by_segment(labeled, "plan", "regression", "label", "prediction", None)
    same(ours, by_frame_groupby(labeled, "plan", "regression", "label", "prediction", None, 20))
    assert set(ours) == {"a", "b", "c"}


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.sampled_from(["10", "2", "1", None]), max_size=40),
       kind=st.sampled_from(["str", "category", "object"]))
def test_grouped_rows_are_the_groups_of_a_groupby_in_its_order(values, kind):
    keys = pd.Series(values, dtype=kind, index=range(100, 100 + len(values)))
    expected = [(str(value), list(group.index - 100)) for value, group in keys.groupby(keys, dropna=False, observed=True)]
    assert [(str(value), rows.tolist()) for value, rows in grouped_rows(keys)] == expected


def test_served_versions_group_in_text_order_as_plain_strings_do():
    frame = pd.DataFrame({"model_version": ["2", "10", None, "2", "10.0"]})
    versions = row_versions(frame, "model_version", "1")
    assert [(value, rows.tolist()) for value, rows in grouped_rows(versions)] == [
        ("1", [2]), ("10", [1, 4]), ("2", [0, 3])]
