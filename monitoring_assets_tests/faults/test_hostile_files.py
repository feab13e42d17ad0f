"""Faults: hostile files in the landing zone.

- A CSV field over 128 KiB raised an uncaught `_csv.Error` naming no file, and `check-file`
  exited 1. A CSV that is one 50 MB line was still being read after 300 s at 2.5 GB.
- A Parquet file with 10,000 extra columns took 102 s and made a 26 MB profile.
- Links in the landing folder were followed to files outside it, and a partition folder that
  is itself a link was seen by the assets and not by the sensor.
"""

import os
import time

import pandas as pd
import pytest
import yaml

from monitoring_assets.assets.names import SCHEMA_CHECK
from monitoring_assets.cli import main
from monitoring_assets.profiling.whylogs_compat import view_from_bytes
from monitoring_assets.sensors.file_scan import scan_partitions
from monitoring_assets_tests.world import World, checks_of, day


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("hostile"))
    world.register()
    return world


def check_file(world, path, capsys) -> tuple[int, str]:
    config = world.root / "monitoring.yaml"
    config.write_text(yaml.safe_dump(world.config_dict()))
    code = main(["check-file", "--model", "m", "--config", str(config), str(path)])
    return code, capsys.readouterr().out


def test_a_field_over_the_limit_makes_the_file_unusable_by_name(world, capsys):
    world.write_day(day(0), with_labels=False)
    frame = pd.read_parquet(next((world.inference / day(0)).iterdir()))
    frame.loc[3, "segment"] = "x" * 200_000
    path = world.root / "long_field.csv"
    frame.to_csv(path, index=False)
    code, out = check_file(world, path, capsys)
    assert code == 2
    assert f"UNUSABLE {path}: a field longer than 128 KiB on line 5" in out


def test_a_runaway_header_is_refused_in_seconds(world, capsys):
    path = world.root / "one_line.csv"
    path.write_text(",".join(f"c{i}" for i in range(2_000_000)) + "\n")  # 16 MB, one line
    started = time.perf_counter()
    code, out = check_file(world, path, capsys)
    assert code == 2 and time.perf_counter() - started < 30
    assert f"UNUSABLE {path}: 2,000,000 columns in the header; at most 4,096 are read" in out


def test_extra_columns_are_reported_and_neither_stored_nor_profiled(world):
    world.write_day(day(1), rows=300, seed=41)
    path = next((world.inference / day(1)).iterdir())
    frame = pd.read_parquet(path)
    extra = pd.DataFrame({f"debug_{i}": range(len(frame)) for i in range(2_000)})
    pd.concat([frame, extra], axis=1).to_parquet(path, index=False)
    result = world.materialize(day(1))
    schema = checks_of(result)[SCHEMA_CHECK]
    assert schema.passed
    assert len(schema.metadata["extra_columns"].value) == 2_000
    stored = pd.read_parquet(world.root / "storage" / "frames" / "m" / "validated_batch" / f"{day(1)}.parquet")
    assert not [c for c in stored.columns if c.startswith("debug_")] and "x1" in stored.columns
    profile = view_from_bytes((world.root / "storage" / "profiles" / "m" / "inference_profile" / f"{day(1)}.bin")
                              .read_bytes())
    assert not [c for c in profile.get_columns() if c.startswith("debug_")]
    # The ids are unique by the schema: they are stored with the batch but not profiled.
    assert "id" in stored.columns and "id" not in profile.get_columns() and "x1" in profile.get_columns()


def test_links_out_of_the_landing_root_are_not_followed_by_assets_or_sensor(world, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = pd.DataFrame({"id": ["stolen-1"], "x1": [1.0]})
    secret.to_parquet(outside / "secret.parquet", index=False)
    world.write_day(day(2), rows=200, seed=42)
    os.symlink(outside / "secret.parquet", world.inference / day(2) / "zz-link.parquet")
    # A partition folder that links inside the root is read; one that links outside is not.
    world.write_day(day(10), rows=200, seed=43)
    os.symlink(world.inference / day(10), world.inference / day(3))
    os.symlink(outside, world.inference / day(4))

    result = world.materialize(day(2))
    batch = result.asset_materializations_for_node("m__inference_batch")[0].metadata
    assert batch["dagster/row_count"].value == 200
    assert batch["ignored_links"].value == [str(world.inference / day(2) / "zz-link.parquet")]
    quarantine = world.root / "storage" / "m" / "quarantine" / f"{day(2)}.parquet"
    assert not quarantine.exists() or "stolen-1" not in set(pd.read_parquet(quarantine)["id"])

    scanned = scan_partitions(str(world.inference), [day(2), day(3), day(4)])
    assert sorted(scanned) == [f"{day(2)}/predictions-42.parquet", f"{day(3)}/predictions-43.parquet"]
    linked_inside = world.materialize(day(3)).asset_materializations_for_node("m__inference_batch")[0].metadata
    assert linked_inside["dagster/row_count"].value == 200
    linked_outside = world.materialize(day(4)).asset_materializations_for_node("m__inference_batch")[0].metadata
    assert linked_outside["dagster/row_count"].value == 0
    assert linked_outside["ignored_links"].value == [str(world.inference / day(4))]
