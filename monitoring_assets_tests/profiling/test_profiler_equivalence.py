"""The project's profiler gives the same whylogs profile as stock `why.log`."""

import numpy as np
import pandas as pd
import pytest

from monitoring_assets.profiling import profiler
from monitoring_assets.profiling.whylogs_compat import (
    DatasetProfileView,
    stock_log,
    view_from_bytes,
    view_to_bytes,
)

ROWS = 60_000
EXACT_FIELDS = [
    "counts/n", "counts/null", "counts/nan", "counts/inf", "counts/true",
    "types/integral", "types/fractional", "types/boolean", "types/string", "types/object",
    "cardinality/est", "distribution/n", "distribution/min", "distribution/max",
]


def mixed_frame(rows: int = ROWS, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(3, 2, rows)
    floats[rng.random(rows) < 0.05] = np.nan
    floats[rng.random(rows) < 0.01] = np.inf
    floats[rng.random(rows) < 0.01] = -np.inf
    objects = rng.choice(["red", "green", "blue", "a-much-longer-category"], rows).astype(object)
    objects[rng.random(rows) < 0.03] = None
    nullable_bool = pd.array(rng.random(rows) < 0.4, dtype="boolean")
    nullable_bool[rng.random(rows) < 0.05] = pd.NA
    nullable_int = pd.array(rng.integers(-5, 500, rows), dtype="Int64")
    nullable_int[rng.random(rows) < 0.05] = pd.NA
    nullable_float = pd.array(rng.normal(0, 1, rows), dtype="Float64")
    nullable_float[rng.random(rows) < 0.05] = pd.NA
    return pd.DataFrame({
        "numeric": floats,
        "skewed": rng.lognormal(0, 1, rows),
        "integer": rng.integers(-50, 5000, rows),
        "category": pd.Series(rng.choice([f"k{i}" for i in range(40)], rows), dtype="str"),
        "category_object": objects,
        "boolean": rng.random(rows) < 0.3,
        "all_null_float": np.full(rows, np.nan),
        "all_null_object": pd.Series([None] * rows, dtype=object),
        # validation returns nullable (masked) columns
        "nullable_bool": nullable_bool,
        "nullable_int": nullable_int,
        "nullable_float": nullable_float,
    })


@pytest.fixture(scope="module")
def frame():
    return mixed_frame()


@pytest.fixture(scope="module")
def stock_view(frame):
    return stock_log(frame).view()


def _summary(view: DatasetProfileView) -> pd.DataFrame:
    return view.to_pandas()


def _assert_same_profile(frame: pd.DataFrame, ours: DatasetProfileView, stock: DatasetProfileView) -> None:
    a, b = _summary(ours), _summary(stock)
    assert sorted(a.index) == sorted(b.index)
    for column in frame.columns:
        for field in EXACT_FIELDS:
            left = a.loc[column].get(field)
            right = b.loc[column].get(field)
            if pd.isna(left) and pd.isna(right):
                continue
            assert left == right, (column, field, left, right)
        ours_items = ours.get_column(column).get_metric("frequent_items")
        stock_items = stock.get_column(column).get_metric("frequent_items")
        if stock_items is not None:
            assert {(i.value, i.est) for i in ours_items.strings} == {(i.value, i.est) for i in stock_items.strings}
        ours_dist = ours.get_column(column).get_metric("distribution")
        stock_dist = stock.get_column(column).get_metric("distribution")
        if stock_dist is not None and not stock_dist.kll.value.is_empty():
            values = np.sort(frame[column].to_numpy(dtype=float))
            values = values[~np.isnan(values)]
            eps = 2 * stock_dist.kll.value.normalized_rank_error(False)
            for q in (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
                for dist in (ours_dist, stock_dist):
                    estimate = dist.kll.value.get_quantile(q)
                    # Ties (inf, repeated integers) span a range of ranks; q must fall in it.
                    low = np.searchsorted(values, estimate, side="left") / len(values)
                    high = np.searchsorted(values, estimate, side="right") / len(values)
                    assert low - eps <= q <= high + eps, (column, q, low, high)
            assert ours_dist.mean.value == pytest.approx(stock_dist.mean.value, rel=1e-9, nan_ok=True)


def test_single_process_profile_equals_stock(frame, stock_view):
    ours = profiler.profile_frame(frame, workers=1)
    _assert_same_profile(frame, ours, stock_view)


def test_parallel_profile_equals_stock(frame, stock_view, monkeypatch):
    monkeypatch.setattr(profiler, "PARALLEL_MIN_CELLS", 1)
    ours = profiler.profile_frame(frame, workers=2)
    _assert_same_profile(frame, ours, stock_view)


def test_streamed_parquet_equals_stock(frame, stock_view, tmp_path):
    path = tmp_path / "batch.parquet"
    frame.drop(columns=["all_null_object"]).to_parquet(path, row_group_size=7_000)
    ours = profiler.profile_parquet(str(path), batch_rows=9_000, workers=1)
    stock_without = stock_view.get_columns()
    del stock_without["all_null_object"]
    a = _summary(ours)
    for column in stock_without:
        if column == "all_null_object":
            continue
        assert a.loc[column, "counts/n"] == ROWS
        assert a.loc[column, "counts/null"] == _summary(stock_view).loc[column, "counts/null"]


def test_the_result_is_an_ordinary_view_that_merges_with_stock(frame, stock_view):
    ours = profiler.profile_frame(frame, workers=1)
    reread = view_from_bytes(view_to_bytes(ours))
    assert isinstance(reread, DatasetProfileView)
    merged = stock_view.merge(reread)
    assert merged.get_column("numeric").get_metric("counts").n.value == 2 * ROWS
    assert merged.get_column("category").get_metric("types").to_summary_dict()["string"] == 2 * ROWS


def test_workers_follow_the_cores_idle_now(monkeypatch):
    """Two cores over the sampled interval: all idle gives two workers, one busy gives one."""
    monkeypatch.setattr(profiler.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(profiler.time, "sleep", lambda seconds: None)
    for idle_jiffies, expected in ((20, 2), (10, 1), (0, 1)):
        readings = iter([(1000, 5000), (1000 + idle_jiffies, 5020)])  # (idle, total) from /proc/stat
        monkeypatch.setattr(profiler, "_cpu_times", lambda: next(readings))
        assert profiler.default_workers() == expected


def test_a_frame_too_small_for_workers_does_not_wait_to_sample_the_cores(monkeypatch):
    def sampled(*_):
        raise AssertionError("the idle cores were sampled for a frame profiled in one process")

    monkeypatch.setattr(profiler, "default_workers", sampled)
    small = pd.DataFrame({"x": np.arange(1_000, dtype=float), "c": ["a", "b"] * 500})
    view = profiler.profile_frame(small)
    assert view.get_column("x").get_metric("counts").n.value == 1_000


def test_streaming_reads_few_columns_at_a_time_and_gives_the_same_profile(frame, tmp_path, monkeypatch):
    path = tmp_path / "wide.parquet"
    frame.drop(columns=["all_null_object"]).to_parquet(path, row_group_size=ROWS)  # one big row group
    read_columns = []
    original = profiler.pq.ParquetFile.iter_batches

    def recording(self, *args, **kwargs):
        read_columns.append(list(kwargs["columns"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(profiler.pq.ParquetFile, "iter_batches", recording)
    streamed = profiler.profile_parquet(str(path), batch_rows=7_000, workers=1)
    assert max(len(c) for c in read_columns) <= profiler._COLUMNS_PER_PASS
    assert sorted(c for group in read_columns for c in group) == sorted(frame.columns.drop("all_null_object"))
    whole = profiler.profile_frame(frame.drop(columns=["all_null_object"]), workers=1)
    a, b = _summary(streamed), _summary(whole)
    for field in ("counts/n", "counts/null", "types/fractional", "types/string", "distribution/min", "distribution/max"):
        pd.testing.assert_series_equal(a[field].sort_index(), b[field].sort_index(), check_names=False)
