"""The one place where the project imports whylogs.

whylogs 1.6 still refers to `numpy.unicode_`, which numpy 2 removed; the alias is applied
here, before whylogs is imported (numpy's own name for the same type, so nothing else
changes), and so is the opt-out of whylogs' usage statistics. whylogs' pandas preprocessing also calls Python lambdas on every value of a
column; `_vectorised_pandas_split` replaces the common cases (numeric, boolean and string
columns, plain or nullable) with numpy operations that give the same counts, and hands
everything else to the original code. The replacement is in force only inside `log_frame`.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pandas.api.types as pdt

if not hasattr(np, "unicode_"):
    np.unicode_ = np.str_  # type: ignore[attr-defined]

# whylogs posts usage statistics to its servers from threads it starts on import, unless this
# is set before the import: the project sends nothing off the machine, and a live thread also
# stops the profiler from forking its workers (see `profiler.start_method`).
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "1")

import whylogs  # noqa: E402
from whylogs.core import DatasetProfile, DatasetProfileView  # noqa: E402
from whylogs.core.metrics.maths import (  # noqa: E402
    VarianceM2Result,
    parallel_variance_m2,
    welford_online_variance_m2,
)
from whylogs.core.metrics.metric_components import FractionalComponent  # noqa: E402
from whylogs.core.metrics.metrics import (  # noqa: E402
    _BOOL_LIST_CHUNK_SIZE,
    CardinalityMetric,
    DistributionMetric,
    FrequentItemsMetric,
    OperationResult,
)
from whylogs.core.preprocessing import NumpyView, PandasView, PreprocessedColumn  # noqa: E402

_original_pandas_split = PreprocessedColumn._pandas_split
_original_cardinality_update = CardinalityMetric.columnar_update
_original_frequent_items_update = FrequentItemsMetric.columnar_update
_original_distribution_update = DistributionMetric.columnar_update
_original_distribution_merge = DistributionMetric.merge
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
    if isinstance(dtype, pd.BooleanDtype | pd.Float64Dtype | pd.Float32Dtype) or (
            isinstance(dtype, pd.api.extensions.ExtensionDtype) and pdt.is_integer_dtype(dtype)):
        # Nullable (masked) columns, as validation returns them: whylogs counts pd.NA as a
        # null and never as a NaN, then splits the rest as it would the plain dtype.
        null_mask = series.isna().to_numpy()
        values = series.to_numpy(dtype=_MASKED_AS[dtype.kind], na_value=_MASKED_NA[dtype.kind])
        if dtype.kind == "f" and np.isnan(values[~null_mask]).any():
            return _original_pandas_split(self, series, parse_numeric_string)  # NaN beside NA
        nulls = int(null_mask.sum())
        _vectorised_pandas_split(self, pd.Series(values[~null_mask] if nulls else values), False)
        self.null_count += nulls
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


_MASKED_AS = {"b": bool, "f": float, "i": np.int64, "u": np.uint64}
_MASKED_NA = {"b": False, "f": np.nan, "i": 0, "u": 0}


def _attach_string_counts(column: PreprocessedColumn, strings: pd.Series) -> None:
    # A column (ids) whose first rows alone pass the limit passes it in full: skip its counts.
    if len(strings) > 4 * _MAX_DISTINCT_FOR_COUNTS and strings.iloc[:4 * _MAX_DISTINCT_FOR_COUNTS].nunique() > (
            _MAX_DISTINCT_FOR_COUNTS):
        return
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


def _distribution_update(self: DistributionMetric, view: PreprocessedColumn) -> Any:
    """whylogs feeds booleans to the distribution as chunks of ones and zeros and takes each
    chunk's mean and variance with `statistics` (exact fractions: 0.5 s per 1M booleans).
    The chunks and their order are the same here; a chunk of equal values has its value as
    mean and 0 as variance, which is what `statistics` returns for it."""
    if view.bool_count <= 0:
        return _original_distribution_update(self, view)
    other = copy.copy(view)
    other.bool_count = other.bool_count_where_true = 0
    result = _original_distribution_update(self, other)
    state = VarianceM2Result(n=self.kll.value.get_n(), mean=self.mean.value, m2=self.m2.value)
    for value, count in ((1, view.bool_count_where_true), (0, view.bool_count - view.bool_count_where_true)):
        while count > 0:
            size = min(count, _BOOL_LIST_CHUNK_SIZE)
            self.kll.value.update_list(num_items=[value] * size)
            if size > 1:
                state = parallel_variance_m2(first=state, second=VarianceM2Result(n=size, mean=value, m2=0))
            else:
                state = welford_online_variance_m2(existing=state, new_value=value)
            count -= size
    self.mean.set(state.mean)
    self.m2.set(state.m2)
    return result


def _distribution_merge(self: DistributionMetric, other: DistributionMetric) -> DistributionMetric:
    """whylogs' merge, in numpy arithmetic: its `delta**2` on Python floats raises
    OverflowError once two means differ by more than about 1e154 (one 1e308 among the values
    does it), which failed every window holding that partition. numpy gives inf instead; on
    finite values the result is the same number."""
    with np.errstate(over="ignore", invalid="ignore"):
        a_n, b_n = self.kll.value.get_n(), other.kll.value.get_n()
        new_n = a_n + b_n
        if new_n:
            delta = np.float64(other.avg) - np.float64(self.avg)
            m2 = float(np.float64(self.m2.value) + np.float64(other.m2.value) + delta * delta * a_n * b_n / new_n)
            mean = float((a_n / new_n) * np.float64(self.avg) + (b_n / new_n) * np.float64(other.avg))
        else:
            m2 = mean = 0
    return DistributionMetric(kll=self.kll + other.kll, mean=FractionalComponent(mean), m2=FractionalComponent(m2))


_PATCHES = (
    (PreprocessedColumn, "_pandas_split", _original_pandas_split, _vectorised_pandas_split),
    (CardinalityMetric, "columnar_update", _original_cardinality_update, _cardinality_update),
    (FrequentItemsMetric, "columnar_update", _original_frequent_items_update, _frequent_items_update),
    (DistributionMetric, "columnar_update", _original_distribution_update, _distribution_update),
    (DistributionMetric, "merge", _original_distribution_merge, _distribution_merge),
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


def merge_views(views: Iterable[DatasetProfileView]) -> DatasetProfileView | None:
    """The views merged into one (None for none), safe for every finite value."""
    merged: DatasetProfileView | None = None
    with vectorised_preprocessing():
        for view in views:
            merged = view if merged is None else merged.merge(view)
    return merged


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
    "merge_views",
    "read_view",
    "stock_log",
    "vectorised_preprocessing",
    "view_from_bytes",
    "view_to_bytes",
]
