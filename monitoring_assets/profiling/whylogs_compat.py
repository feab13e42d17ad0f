"""The one place where the project imports whylogs.

whylogs 1.6 still refers to `numpy.unicode_`, which numpy 2 removed; the alias is applied
here, before whylogs is imported. whylogs' pandas preprocessing also calls Python lambdas
on every value of a column; `_vectorised_pandas_split` replaces the common cases (numeric,
boolean and string columns) with numpy operations that give the same counts, and hands
everything else to the original code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pandas.api.types as pdt

if not hasattr(np, "unicode_"):
    np.unicode_ = np.str_  # type: ignore[attr-defined]

import whylogs  # noqa: E402
from whylogs.core import DatasetProfile, DatasetProfileView  # noqa: E402
from whylogs.core.preprocessing import NumpyView, PandasView, PreprocessedColumn  # noqa: E402

_original_pandas_split = PreprocessedColumn._pandas_split


def _vectorised_pandas_split(
    self: PreprocessedColumn, series: pd.Series, parse_numeric_string: bool = False
) -> None:
    if series is None:
        return None
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        values = series.to_numpy()
        if dtype.kind == "f":
            nan_mask = np.isnan(values)
            nulls = int(nan_mask.sum())
            self.null_count = nulls
            self.nan_count = nulls
            finite_or_inf = values[~nan_mask] if nulls else values
            floats = finite_or_inf.astype(float, copy=False)
            self.inf_count = int(np.isinf(floats).sum())
            self.numpy.floats = floats
        else:
            self.null_count = 0
            self.numpy.ints = values.astype(int, copy=False)
        return None
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        values = series.to_numpy()
        self.null_count = 0
        self.bool_count = len(values)
        self.bool_count_where_true = int(values.sum())
        if len(values):
            self.numpy = NumpyView(floats=np.empty(0, dtype=float), ints=np.empty(0, dtype=int))
            self.pandas = PandasView(
                strings=pd.Series(dtype=object),
                tensors=pd.Series(dtype=object),
                objs=pd.Series(dtype=object),
            )
        return None
    if dtype == object and not parse_numeric_string:
        null_mask = series.isna().to_numpy()
        non_null = series[~null_mask] if null_mask.any() else series
        if len(non_null) and pdt.infer_dtype(non_null, skipna=False) == "string":
            self.null_count = int(null_mask.sum())
            if self.null_count:
                nulls = series[null_mask]
                self.nan_count = int(sum(isinstance(v, float) for v in nulls))
            self.pandas.strings = non_null
            return None
    return _original_pandas_split(self, series, parse_numeric_string)


PreprocessedColumn._pandas_split = _vectorised_pandas_split  # type: ignore[method-assign]


def log_frame(frame: pd.DataFrame) -> DatasetProfileView:
    """Profile a frame with whylogs' standard schema; returns an ordinary profile view."""
    profile = DatasetProfile()
    profile.track(pandas=frame)
    return profile.view()


def read_view(path: str) -> DatasetProfileView:
    return DatasetProfileView.read(path)


def view_from_bytes(data: bytes) -> DatasetProfileView:
    return DatasetProfileView.deserialize(data)


def view_to_bytes(view: DatasetProfileView) -> bytes:
    return view.serialize()


def stock_log(frame: pd.DataFrame) -> Any:
    """whylogs' own `why.log`, for comparisons and benchmarks."""
    return whylogs.log(pandas=frame)


__all__ = [
    "DatasetProfile",
    "DatasetProfileView",
    "log_frame",
    "read_view",
    "stock_log",
    "view_from_bytes",
    "view_to_bytes",
]
