"""The frame IO manager reads only the columns a step asks for, and keeps the rows."""

import dagster as dg
import fsspec
import pandas as pd
import pytest

from monitoring_assets.assets.common import leaving_out, reading_only
from monitoring_assets.resources import FrameIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01")


def test_a_step_reads_only_its_columns_and_every_row(tmp_path):
    seen: dict[str, pd.DataFrame] = {}

    @dg.asset(partitions_def=DAILY, io_manager_key="frame_io_manager")
    def batch() -> pd.DataFrame:
        return pd.DataFrame({"id": ["a", "b", "c"], "latency_ms": [1.0, 2.0, 3.0], "wide": [0, 0, 0]})

    @dg.asset(partitions_def=DAILY, ins={"batch": dg.AssetIn(metadata=reading_only("latency_ms", "not_there"))})
    def some_columns(batch: pd.DataFrame) -> None:
        seen["some"] = batch

    @dg.asset(partitions_def=DAILY, ins={"batch": dg.AssetIn(metadata=reading_only("not_there"))})
    def no_column(batch: pd.DataFrame) -> None:
        seen["none"] = batch

    @dg.asset(partitions_def=DAILY)
    def every_column(batch: pd.DataFrame) -> None:
        seen["all"] = batch

    @dg.asset(partitions_def=DAILY, ins={"batch": dg.AssetIn(metadata=leaving_out("id", "not_there"))})
    def all_but_the_id(batch: pd.DataFrame) -> None:
        seen["but_id"] = batch

    result = dg.materialize([batch, some_columns, no_column, every_column, all_but_the_id], partition_key="2026-01-05",
                            resources={"frame_io_manager": FrameIOManager(base_path=str(tmp_path)),
                                       "io_manager": dg.mem_io_manager})
    assert result.success
    assert list(seen["some"].columns) == ["latency_ms"] and seen["some"]["latency_ms"].tolist() == [1.0, 2.0, 3.0]
    assert seen["none"].shape == (3, 0)  # no column asked for is there, and the rows still count
    assert list(seen["all"].columns) == ["id", "latency_ms", "wide"]
    assert list(seen["but_id"].columns) == ["latency_ms", "wide"] and len(seen["but_id"]) == 3
    assert (tmp_path / "batch" / "2026-01-05.parquet").exists()


@pytest.mark.parametrize("where", ["local", "memory"])
def test_a_stored_frame_reads_back_as_written_and_as_pandas_reads_it(tmp_path, where):
    """Local files are memory-mapped, other filesystems read through fsspec: the same frame."""
    base = str(tmp_path / "frames") if where == "local" else f"memory://frames-{tmp_path.name}"
    written = pd.DataFrame({
        "id": pd.Series(["a", "b", None], dtype="str"),
        "score": [0.25, float("nan"), 1.0],
        "count": [1, 2, 3],
        "flag": pd.array([True, None, False], dtype="boolean"),
        "at": pd.to_datetime(["2026-01-05 01:00", "2026-01-05 02:00", None], utc=True),
        "plan": pd.Categorical(["basic", "pro", "basic"]),
    })
    seen: dict[str, pd.DataFrame] = {}

    @dg.asset(partitions_def=DAILY, io_manager_key="frame_io_manager")
    def batch() -> pd.DataFrame:
        return written

    @dg.asset(partitions_def=DAILY, ins={"batch": dg.AssetIn(input_manager_key="frame_io_manager")})
    def reader(batch: pd.DataFrame) -> None:
        seen["read"] = batch

    result = dg.materialize([batch, reader], partition_key="2026-01-05",
                            resources={"frame_io_manager": FrameIOManager(base_path=base),
                                       "io_manager": dg.mem_io_manager})
    assert result.success
    pd.testing.assert_frame_equal(seen["read"], written)
    with fsspec.open(f"{base}/batch/2026-01-05.parquet", "rb") as handle:
        pd.testing.assert_frame_equal(pd.read_parquet(handle), written)
