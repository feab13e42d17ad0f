"""IO managers on UPath: a local folder by default, any fsspec URL in production. Every
object is written under a temporary name and renamed into place (`replace.replacing`)."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from monitoring_assets.profiling.whylogs_compat import (
    DatasetProfileView,
    view_from_bytes,
    view_to_bytes,
)
from monitoring_assets.resources.replace import replacing
from monitoring_assets.validation.readers import local_path

# Input metadata naming the only columns a step reads from a stored frame: the frame IO
# manager reads those (the ones the frame has) instead of the whole batch.
COLUMNS_METADATA = "columns"
# Input metadata naming columns a step does not read (the ids, which the profile leaves out).
COLUMNS_LEFT_OUT_METADATA = "columns_left_out"


def _is_text(field: pa.Field) -> bool:
    return pa.types.is_string(field.type) or pa.types.is_large_string(field.type)


def write_frame(frame: pd.DataFrame, handle: Any) -> None:
    """Parquet with statistics for the columns whose statistics are cheap: the min and max of
    a million distinct strings cost a sixth of the write and no reader here uses them."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, handle, write_statistics=[f.name for f in table.schema if not _is_text(f)] or False)


def read_frame(path: UPath, wanted: list[str] | None = None, left_out: list[str] | None = None) -> pd.DataFrame:
    """The stored frame, or only the named columns of it (the ones it has). A local file is
    memory-mapped and its columns become one block each, so nothing is copied twice."""
    local = local_path(str(path))
    with (pa.memory_map(local, "r") if local is not None else path.open("rb")) as source:
        parquet = pq.ParquetFile(source)
        names = parquet.schema_arrow.names
        if wanted is not None:
            columns = [c for c in dict.fromkeys(wanted) if c in names]
        else:
            columns = [c for c in names if c not in set(left_out or ())]
        # With none of them the rows still count (pandas would return no rows).
        table = parquet.read(columns=columns, use_pandas_metadata=bool(columns))
    return table.to_pandas(split_blocks=True)


class _RootedIOManager(dg.ConfigurableIOManagerFactory):
    base_path: str

    def _base(self) -> UPath:
        return UPath(self.base_path)


class _FrameStore(dg.UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        with replacing(path.fs, path.path) as handle:
            write_frame(obj, handle)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        metadata = context.definition_metadata or {}
        return read_frame(path, metadata.get(COLUMNS_METADATA), metadata.get(COLUMNS_LEFT_OUT_METADATA))


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
