"""Where the project keeps what it derives: quarantined rows, next to the profiles."""

from __future__ import annotations

import dagster as dg
import fsspec
import pandas as pd
from upath import UPath

from monitoring_assets.assets.names import LABELS, VALIDATED_BATCH
from monitoring_assets.resources.io_managers import read_frame
from monitoring_assets.resources.replace import replacing


def profiles_base(root: str) -> str:
    """Where the ProfileIOManager keeps the partitions' whylogs profiles."""
    return f"{root.rstrip('/')}/profiles"


def frames_base(root: str) -> str:
    """Where the FrameIOManager keeps the stored batches: one layout, named once."""
    return f"{root.rstrip('/')}/frames"


class MonitoringStorage(dg.ConfigurableResource):
    """A root folder or fsspec URL; layout `<root>/<model>/<kind>/<partition>.<ext>`."""

    root: str

    def path(self, model: str, kind: str, partition: str, suffix: str) -> str:
        return f"{self.root.rstrip('/')}/{model}/{kind}/{partition}{suffix}"

    def write_quarantine(self, model: str, partition: str, frame: pd.DataFrame) -> str | None:
        """Replace the partition's quarantine file, so a rerun does not duplicate rows."""
        path = self.path(model, "quarantine", partition, ".parquet")
        fs, fs_path = fsspec.core.url_to_fs(path)
        if frame.empty:
            if fs.exists(fs_path):
                fs.rm(fs_path)
            return None
        # Quarantined values failed their type, so they are kept as text, losslessly.
        as_text = frame.astype("string")
        with replacing(fs, fs_path) as handle:
            as_text.to_parquet(handle, index=False)
        return path

    def _frame_path(self, model: str, asset: str, partition: str) -> str:
        # The FrameIOManager (a UPathIOManager on frames_base) keeps <asset key>/<partition>.parquet.
        return f"{frames_base(self.root)}/{model}/{asset}/{partition}.parquet"

    def labeled_frames(self, model: str, partition: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return (self.read_frame(model, VALIDATED_BATCH, partition), self.read_frame(model, LABELS, partition))

    def read_profile(self, model: str, asset: str, partition: str) -> bytes | None:
        """The stored profile of a partition (the ProfileIOManager's file), or None."""
        try:
            with fsspec.open(f"{profiles_base(self.root)}/{model}/{asset}/{partition}.bin", "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def read_frame(self, model: str, asset: str, partition: str) -> pd.DataFrame:
        return read_frame(UPath(self._frame_path(model, asset, partition)))
