"""The one place where the project imports whylogs.

whylogs 1.6 still refers to `numpy.unicode_`, which numpy 2 removed; the alias is applied
here, before whylogs is imported (numpy's own name for the same type, so nothing else
changes). whylogs' pandas preprocessing also calls Python lambdas on every value of a
column; `_vectorised_pandas_split` replaces the common cases (numeric, boolean and string
columns) with numpy operations that give the same counts, and hands everything else to the
original code. The replacement is in force only inside `log_frame`.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pandas.api.types as pdt

if not hasattr(np, "unicode_"):
    np.unicode_ = np.str_  # type: ignore[attr-defined]

import whylogs  # noqa: E402
from whylogs.core import DatasetProfile, DatasetProfileView  # noqa: E402
from whylogs.core.metrics.metrics import (  # noqa: E402
    CardinalityMetric,
    FrequentItemsMetric,
    OperationResult,
)
from whylogs.core.preprocessing import NumpyView, PandasView, PreprocessedColumn  # noqa: E402

_original_pandas_split = PreprocessedColumn._pandas_split
_original_cardinality_update = CardinalityMetric.columnar_update
_original_frequent_items_update = FrequentItemsMetric.columnar_update
# Past this many distinct values (ids, free text) a Python loop over them costs more than
# whylogs' own list update, so the value-count path is not taken.
_MAX_DISTINCT_FOR_COUNTS = 20_000
_STRING_COUNTS = "_monitoring_string_counts"


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
    if isinstance(dtype, pd.StringDtype):
        null_mask = series.isna().to_numpy()
        nulls = int(null_mask.sum())
        self.null_count = nulls
        # whylogs counts a null as NaN when it is a float NaN (pandas 3's default "str").
        na_value = dtype.na_value
        self.nan_count = nulls if isinstance(na_value, float) and na_value != na_value else 0
        non_null = series[~null_mask] if nulls else series
        if len(non_null):
            self.pandas.strings = non_null
            _attach_string_counts(self, non_null)
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
            _attach_string_counts(self, non_null)
            return None
    return _original_pandas_split(self, series, parse_numeric_string)


def _attach_string_counts(column: PreprocessedColumn, strings: pd.Series) -> None:
    counts = strings.value_counts(sort=False)
    if len(counts) <= _MAX_DISTINCT_FOR_COUNTS:
        setattr(column, _STRING_COUNTS, counts)


def _without_strings(view: PreprocessedColumn) -> PreprocessedColumn:
    other = copy.copy(view)
    other.pandas = copy.copy(view.pandas)
    other.pandas.strings = None
    return other


def _cardinality_update(self: CardinalityMetric, view: PreprocessedColumn) -> Any:
    counts = getattr(view, _STRING_COUNTS, None)
    if counts is None:
        return _original_cardinality_update(self, view)
    # HyperLogLog ignores repeats, so the distinct values give the very same sketch.
    self.hll.value.update_str_list([str(v) for v in counts.index])
    result = _original_cardinality_update(self, _without_strings(view))
    return OperationResult(successes=result.successes + int(counts.sum()), failures=result.failures)


def _frequent_items_update(self: FrequentItemsMetric, view: PreprocessedColumn) -> Any:
    counts = getattr(view, _STRING_COUNTS, None)
    if counts is None:
        return _original_frequent_items_update(self, view)
    sketch = self.frequent_strings.value
    size = self.max_frequent_item_size
    for value, count in zip(counts.index, counts.to_numpy()):
        sketch.update(str(value)[0:size], int(count))
    result = _original_frequent_items_update(self, _without_strings(view))
    return OperationResult(successes=result.successes + int(counts.sum()), failures=result.failures)


_PATCHES = (
    (PreprocessedColumn, "_pandas_split", _original_pandas_split, _vectorised_pandas_split),
    (CardinalityMetric, "columnar_update", _original_cardinality_update, _cardinality_update),
    (FrequentItemsMetric, "columnar_update", _original_frequent_items_update, _frequent_items_update),
)
_patch_lock = threading.Lock()
_patch_users = 0


@contextlib.contextmanager
def vectorised_preprocessing() -> Iterator[None]:
    """whylogs' classes carry the vectorised methods only while a profile is being made here:
    importing this module changes nothing, and other users of whylogs in the process get its
    own behaviour outside these calls. Nested and concurrent calls share one patch."""
    global _patch_users
    with _patch_lock:
        if _patch_users == 0:
            for owner, name, _, replacement in _PATCHES:
                setattr(owner, name, replacement)
        _patch_users += 1
    try:
        yield
    finally:
        with _patch_lock:
            _patch_users -= 1
            if _patch_users == 0:
                for owner, name, original, _ in _PATCHES:
                    setattr(owner, name, original)


def log_frame(frame: pd.DataFrame) -> DatasetProfileView:
    """Profile a frame with whylogs' standard schema; returns an ordinary profile view."""
    with vectorised_preprocessing():
        profile = DatasetProfile()
        profile.track(pandas=frame)
        return profile.view()


def stock_log(frame: pd.DataFrame) -> Any:
    """whylogs' own `why.log` with its own preprocessing, for comparisons and benchmarks."""
    return whylogs.log(pandas=frame)


def read_view(path: str) -> DatasetProfileView:
    return DatasetProfileView.read(path)


def view_from_bytes(data: bytes) -> DatasetProfileView:
    return DatasetProfileView.deserialize(data)


def view_to_bytes(view: DatasetProfileView) -> bytes:
    return view.serialize()


__all__ = [
    "DatasetProfile",
    "DatasetProfileView",
    "log_frame",
    "read_view",
    "stock_log",
    "vectorised_preprocessing",
    "view_from_bytes",
    "view_to_bytes",
]
