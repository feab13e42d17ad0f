"""Fault: label files that repeat and contradict each other.

Before: files were applied in name order, so a `corrections.parquet` landed after
`labels.parquet` was overridden by it (accuracy 0.7227 reported, 0.66 with the corrections),
and repeats and conflicts were settled silently. Now files apply in the order they landed (or
by a `label_time` column), and repeats and conflicts are counted, with a WARN past 1%.
"""

import os

import numpy as np
import pandas as pd

from monitoring_assets.assets.names import LABELS_CONSISTENT_CHECK, PERFORMANCE_CHECK
from monitoring_assets.validation.labels import settle_labels
from monitoring_assets_tests.world import World, checks_of, day


def test_settling_keeps_the_latest_label_and_counts_repeats_and_conflicts():
    frame = pd.DataFrame({"id": ["a", "b", "a", "c", "b", "c"], "label": [0, 1, 1, 1, 1, 1],
                          "label_time": ["2026-01-02", None, "2026-01-01", "2026-01-01", None, "2026-01-03"]})
    settled, counts = settle_labels(frame, "id", "label", "label_time")
    # a: the 2026-01-02 label (0) beats the later row's older time; b, c: repeats that agree.
    assert dict(zip(settled["id"], settled["label"])) == {"a": 0, "b": 1, "c": 1}
    assert (counts.duplicate_rows, counts.conflicting_ids, counts.labelled_ids) == (3, 1, 3)
    settled, counts = settle_labels(frame.drop(columns="label_time"), "id", "label", "label_time")
    assert dict(zip(settled["id"], settled["label"])) == {"a": 1, "b": 1, "c": 1}
    assert "last file to land" in counts.rule


def test_a_correction_that_lands_later_wins_whatever_its_name(tmp_path):
    world = World(tmp_path)
    world.register()
    truth = world.write_day(day(0), rows=1_000, seed=50, with_labels=False)
    wrong = truth.copy()
    flipped = np.arange(0, 1_000, 3)  # a third of the labels are wrong in the first delivery
    wrong.loc[flipped, "label"] = 1 - wrong.loc[flipped, "label"]
    world.write_labels(day(0), wrong, "labels")
    world.write_labels(day(0), truth.loc[flipped], "corrections")  # sorts first, lands last
    folder = world.labels / day(0)
    os.utime(folder / "labels.parquet", (1_700_000_000, 1_700_000_000))
    os.utime(folder / "corrections.parquet", (1_700_000_600, 1_700_000_600))

    result = world.materialize(day(0))
    stored = pd.read_parquet(world.root / "storage" / "frames" / "m" / "labels" / f"{day(0)}.parquet")
    merged = truth.merge(stored, on="id", suffixes=("_truth", "_stored"))
    assert (merged["label_truth"] == merged["label_stored"]).all()
    checks = checks_of(result)
    assert checks[PERFORMANCE_CHECK].passed  # the corrected labels: the model is as good as its baseline
    consistent = checks[LABELS_CONSISTENT_CHECK]
    assert not consistent.passed and consistent.severity.value == "WARN"
    assert consistent.metadata["conflicting_ids"].value == len(flipped)
    assert consistent.metadata["duplicate_rows"].value == len(flipped)
    assert "last file to land wins" in consistent.description
