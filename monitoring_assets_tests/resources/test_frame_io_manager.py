"""The frame IO manager reads only the columns a step asks for, and keeps the rows."""

import dagster as dg
import pandas as pd

from monitoring_assets.assets.common import reading_only
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

    result = dg.materialize([batch, some_columns, no_column, every_column], partition_key="2026-01-05",
                            resources={"frame_io_manager": FrameIOManager(base_path=str(tmp_path)),
                                       "io_manager": dg.mem_io_manager})
    assert result.success
    assert list(seen["some"].columns) == ["latency_ms"] and seen["some"]["latency_ms"].tolist() == [1.0, 2.0, 3.0]
    assert seen["none"].shape == (3, 0)  # no column asked for is there, and the rows still count
    assert list(seen["all"].columns) == ["id", "latency_ms", "wide"]
    assert (tmp_path / "batch" / "2026-01-05.parquet").exists()
