"""New-data and labels sensors: one request per file version, cursors that survive restarts."""

import json
import os

import dagster as dg
import fsspec
import pandas as pd

from monitoring_assets.sensors.file_scan import changed_partitions, scan_partitions
from monitoring_assets.config import parse_config
from monitoring_assets.wiring import build_definitions
from monitoring_assets_tests.world import World, day


def evaluate(defs: dg.Definitions, name: str, cursor: str | None, instance: dg.DagsterInstance) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(name)
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))


def test_new_file_requests_once_then_again_when_rewritten(tmp_path):
    world = World(tmp_path)
    world.register()
    defs = build_definitions(world.config())
    instance = dg.DagsterInstance.ephemeral()

    first = evaluate(defs, "m_inference_sensor", None, instance)
    assert first.run_requests == [] and json.loads(first.cursor)["files"] == {}

    world.write_day(day(20), with_labels=False)
    second = evaluate(defs, "m_inference_sensor", first.cursor, instance)
    assert [r.partition_key for r in second.run_requests] == [day(20)]
    assert second.run_requests[0].tags["monitoring/trigger"] == "inference"
    assert list(json.loads(second.cursor)["files"]) == [f"{day(20)}/predictions-5.parquet"]

    # A restart resumes from the stored cursor: the same file requests nothing.
    third = evaluate(build_definitions(world.config()), "m_inference_sensor", second.cursor, instance)
    assert third.run_requests == [] and third.cursor == second.cursor

    path = world.inference / day(20) / "predictions-5.parquet"
    frame = pd.read_parquet(path)
    pd.concat([frame, frame.assign(id=frame["id"] + "-b")]).to_parquet(path, index=False)
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
    fourth = evaluate(defs, "m_inference_sensor", third.cursor, instance)
    assert [r.partition_key for r in fourth.run_requests] == [day(20)]
    assert fourth.run_requests[0].run_key != second.run_requests[0].run_key
    assert fourth.cursor != third.cursor


def test_a_tick_looks_only_inside_its_window_and_the_cursor_forgets_older_files(tmp_path):
    world = World(tmp_path)
    world.register()
    config = world.config_dict()
    config["sensors"] = {"lookback_partitions": 3}
    defs = build_definitions(parse_config(config))
    instance = dg.DagsterInstance.ephemeral()
    world.write_day(day(10), with_labels=False)  # 2026-02-11: outside the newest three days
    world.write_day(day(26), with_labels=False)  # 2026-02-27: inside
    first = evaluate(defs, "m_inference_sensor", None, instance)
    assert [r.partition_key for r in first.run_requests] == [day(26)]
    state = json.loads(first.cursor)
    assert state["watermark"] == day(25) and list(state["files"]) == [f"{day(26)}/predictions-5.parquet"]
    # A cursor of the old, unbounded shape is read once and trimmed to the window.
    legacy = json.dumps({f"{day(10)}/predictions-5.parquet": "x", f"{day(26)}/predictions-5.parquet":
                         state["files"][f"{day(26)}/predictions-5.parquet"]})
    migrated = evaluate(defs, "m_inference_sensor", legacy, instance)
    assert migrated.run_requests == [] and json.loads(migrated.cursor) == state


def test_labels_sensor_targets_the_labels_job_and_ignores_unknown_folders(tmp_path):
    world = World(tmp_path)
    world.register()
    truth = world.write_day(day(1), with_labels=False)
    world.write_labels(day(1), truth.iloc[:100], "batch-1")
    (world.labels / "not-a-date").mkdir(parents=True)
    truth.to_parquet(world.labels / "not-a-date" / "stray.parquet")
    defs = build_definitions(world.config())
    sensor = defs.resolve_sensor_def("m_labels_sensor")
    assert sensor.job_name == "m_labels_refresh"
    result = evaluate(defs, "m_labels_sensor", None, dg.DagsterInstance.ephemeral())
    assert [r.partition_key for r in result.run_requests] == [day(1)]
    world.write_labels(day(1), truth.iloc[100:], "batch-2")
    again = evaluate(defs, "m_labels_sensor", result.cursor, dg.DagsterInstance.ephemeral())
    assert [r.partition_key for r in again.run_requests] == [day(1)]
    assert json.loads(again.cursor)["files"].keys() >= {f"{day(1)}/batch-1.parquet", f"{day(1)}/batch-2.parquet"}


def test_scanning_works_on_any_fsspec_filesystem():
    fs = fsspec.filesystem("memory")
    fs.pipe("/landing/2026-02-01/a.parquet", b"one")
    fs.pipe("/landing/2026-02-01/notes.txt", b"ignored")
    days = ["2026-02-01", "2026-02-02"]
    first = scan_partitions("memory://landing", days)
    assert list(first) == ["2026-02-01/a.parquet"]
    fs.pipe("/landing/2026-02-02/b.csv", b"two")
    second = scan_partitions("memory://landing", days)
    assert changed_partitions(first, second) == {"2026-02-02": ["2026-02-02/b.csv"]}
    fs.pipe("/landing/2026-02-01/a.parquet", b"one, rewritten")
    assert changed_partitions(second, scan_partitions("memory://landing", days)) == {"2026-02-01": ["2026-02-01/a.parquet"]}
    assert scan_partitions("memory://landing", ["2026-02-03"]) == {}
