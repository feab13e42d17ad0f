"""One label per id, from label files that may repeat or contradict themselves (no Dagster)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class LabelSettlement:
    rows_in: int
    duplicate_rows: int  # rows whose id an earlier-settled row also has
    conflicting_ids: int  # ids whose rows disagree on the label
    labelled_ids: int
    rule: str

    @property
    def conflict_share(self) -> float:
        return self.conflicting_ids / self.labelled_ids if self.labelled_ids else 0.0


def settle_labels(frame: pd.DataFrame, id_column: str, label_column: str,
                  time_column: str | None = None) -> tuple[pd.DataFrame, LabelSettlement]:
    """Keep one label per id: the latest by `time_column` when the files have it (rows without
    a time count as oldest), else the last row in arrival order (the frame's order: files as
    they landed). Returns the (id, label) frame and the counts of repeats and conflicts."""
    labels = frame[[id_column, label_column]].copy()
    labels[id_column] = labels[id_column].astype(str)
    rule = "last file to land wins"
    if time_column and time_column in frame:
        times = pd.to_datetime(frame[time_column], errors="coerce", utc=True, format="mixed")
        # A stable sort keeps the arrival order among equal (or missing) times.
        order = times.fillna(pd.Timestamp.min.tz_localize("UTC")).argsort(kind="stable").to_numpy()
        labels = labels.iloc[order]
        rule = f"latest {time_column} wins (then the last file to land)"
    # The ids are hashed once; repeats and conflicts are then counted on integer codes.
    id_codes, distinct_ids = pd.factorize(labels[id_column], use_na_sentinel=False)
    if len(distinct_ids) == len(labels):
        return labels.reset_index(drop=True), LabelSettlement(rows_in=len(labels), duplicate_rows=0, conflicting_ids=0,
                                                              labelled_ids=len(labels), rule=rule)
    codes = pd.Series(id_codes)
    repeated = codes.duplicated(keep=False).to_numpy()  # only ids on several rows can conflict
    label_codes, distinct_labels = pd.factorize(labels[label_column].iloc[repeated], use_na_sentinel=False)
    width = max(len(distinct_labels), 1)
    pairs = np.unique(id_codes[repeated].astype(np.int64) * width + label_codes)
    conflicting = int((np.bincount(pairs // width) > 1).sum()) if len(pairs) else 0
    settled = labels[~codes.duplicated(keep="last").to_numpy()].reset_index(drop=True)
    return settled, LabelSettlement(rows_in=len(labels), duplicate_rows=len(labels) - len(settled),
                                    conflicting_ids=conflicting, labelled_ids=len(settled), rule=rule)
