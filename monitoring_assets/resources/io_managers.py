"""IO managers on UPath: a local folder by default, any fsspec URL in production. Every
object is written under a temporary name and renamed into place (`replace.replacing`)."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
from upath import UPath

from monitoring_assets.profiling.whylogs_compat import (
    DatasetProfileView,
    view_from_bytes,
    view_to_bytes,
)
from monitoring_assets.resources.replace import replacing

# Input metadata naming the only columns a step reads from a stored frame: the frame IO
# manager reads those (the ones the frame has) instead of the whole batch.
COLUMNS_METADATA = "columns"


class _RootedIOManager(dg.ConfigurableIOManagerFactory):
    base_path: str

    def _base(self) -> UPath:
        return UPath(self.base_path)


class _FrameStore(dg.UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        with replacing(path.fs, path.path) as handle:
            obj.to_parquet(handle, index=False)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        wanted = (context.definition_metadata or {}).get(COLUMNS_METADATA)
        with path.open("rb") as handle:
            if wanted is None:
                return pd.read_parquet(handle)
            # A step that needs a few columns of a wide batch reads only those.
            present = set(pq.read_schema(handle).names)
            handle.seek(0)
            columns = [c for c in dict.fromkeys(wanted) if c in present]
            if not columns:  # none of them: the rows still count (pandas would return no rows)
                return pq.read_table(handle, columns=[]).to_pandas()
            return pd.read_parquet(handle, columns=columns)


class FrameIOManager(_RootedIOManager):
    """Keeps DataFrames as one Parquet file per asset partition."""

    def create_io_manager(self, context: dg.InitResourceContext) -> _FrameStore:
        return _FrameStore(base_path=self._base())


class _ProfileStore(dg.UPathIOManager):
    extension = ".bin"

    def dump_to_path(self, context: dg.OutputContext, obj: DatasetProfileView, path: UPath) -> None:
        with replacing(path.fs, path.path) as handle:
            handle.write(view_to_bytes(obj))

    def load_from_path(self, context: dg.InputContext, path: UPath) -> DatasetProfileView:
        return view_from_bytes(path.read_bytes())


class ProfileIOManager(_RootedIOManager):
    """Keeps whylogs profile views, one serialized profile per partition."""

    def create_io_manager(self, context: dg.InitResourceContext) -> _ProfileStore:
        return _ProfileStore(base_path=self._base())


class _JsonStore(dg.UPathIOManager):
    extension = ".json"

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        with replacing(path.fs, path.path) as handle:
            handle.write(json.dumps(obj, indent=2, default=str, allow_nan=True).encode())

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        return json.loads(path.read_text())


class JsonIOManager(_RootedIOManager):
    """Keeps reports (drift, performance, service health) as JSON documents."""

    def create_io_manager(self, context: dg.InitResourceContext) -> _JsonStore:
        return _JsonStore(base_path=self._base())
