"""The labeled window a candidate is judged (or trained) on: stored predictions joined with
their labels, partition by partition."""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd



class FrameStore(Protocol):
    def labeled_frames(self, model: str, partition: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The partition's stored validated batch and its labels."""


def labeled_window(model: Any, store: FrameStore, partitions: list[str]) -> pd.DataFrame:
    """Rows of the given partitions that have a label, tagged with their partition."""
    roles = model.columns
    frames = []
    for partition in partitions:
        predictions, labels = store.labeled_frames(model.name, partition)
        predictions[roles.id] = predictions[roles.id].astype(str)
        joined = predictions.drop(columns=[roles.label], errors="ignore").merge(labels, on=roles.id, how="inner")
        frames.append(joined.assign(_partition=partition))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
