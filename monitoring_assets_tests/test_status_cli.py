"""`monitoring-assets status` reads any deployment's instance: the health line, the per-day
table, and an exit code a cron job or a CI gate can use (1 when a model is DEGRADED)."""

import json

import dagster as dg
import pandas as pd
import pytest
import yaml

from monitoring_assets.cli import main
from monitoring_assets.demo.run import EMBEDDED_DAGSTER_YAML
from monitoring_assets_tests.world import World, day

pytestmark = pytest.mark.slow


def status(config, capsys, *extra):
    code = main(["status", "--config", str(config), *extra])
    return code, capsys.readouterr().out


def test_healthy_warning_degraded_and_stale(tmp_path, capsys, monkeypatch):
    home = tmp_path / "dagster-home"
    home.mkdir()
    (home / "dagster.yaml").write_text(EMBEDDED_DAGSTER_YAML.format(home=home.as_posix()))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    world = World(tmp_path)
    world.instance = dg.DagsterInstance.from_config(str(home))
    world.register()
    # 400 rows a day against a 1,000-row reference: sampling noise alone moves scores past 0.1.
    settings = {"freshness": {"enabled": False}, "drift": {"default": {"warn": 0.25, "error": 0.5}}}
    raw = world.config_dict(**settings)
    config_file = tmp_path / "monitoring.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    config = world.config(**settings)

    world.write_day(day(0))
    world.materialize(day(0), config)
    code, out = status(config_file, capsys)
    assert code == 0 and out.startswith("m: HEALTHY (latest partition 2026-02-01)")
    row = next(line for line in out.splitlines() if line.startswith(day(0)))
    assert row.split()[1:6] == ["ok"] * 5

    world.write_day(day(1), seed=6)
    for path in (world.inference / day(1)).iterdir():
        pd.read_parquet(path).drop(columns=["latency_ms"]).to_parquet(path, index=False)
    world.materialize(day(1), config)
    code, out = status(config_file, capsys)
    assert code == 0 and out.startswith("m: WARNING since 2026-02-02 (latency_slo)")
    assert "latency column 'latency_ms' is missing" in out

    world.write_day(day(2), seed=7, flip=True)
    world.materialize(day(2), config)
    world.write_day(day(3), seed=8, flip=True)
    world.materialize(day(3), config)
    code, out = status(config_file, capsys)
    assert code == 1 and out.startswith("m: DEGRADED since 2026-02-03 (")
    assert "performance_vs_baseline (ERROR) since 2026-02-03" in out
    assert "top drifted features: x1" in out
    row = next(line for line in out.splitlines() if line.startswith(day(3)))
    assert row.split()[3] == "ERROR"  # performance_vs_baseline of the degraded day

    code, out = status(config_file, capsys, "--json")
    report = json.loads(out)["m"]
    assert code == 1 and report["health"]["status"] == "DEGRADED" and report["health"]["since"] == day(2)
    assert report["partitions"][day(0)]["schema_valid"]["passed"] is True

    # With freshness on, the partitions up to the end of February are due and have no data.
    raw["models"][0]["freshness"] = {"enabled": True}
    raw["models"][0]["performance"] = {"accuracy": {"threshold": 0.0}}  # only freshness can fail now
    raw["models"][0]["drift"] = {"default": {"warn": 5.0, "error": 10.0}}
    raw["models"][0]["columns"]["latency"] = None
    config_file.write_text(yaml.safe_dump(raw))
    world.materialize(day(3), world.config(**{k: raw["models"][0][k] for k in ("freshness", "performance", "drift", "columns")}))
    code, out = status(config_file, capsys, "--model", "m")
    assert code == 1 and "data_freshness (ERROR) since 2026-02-04: no inference data for m since 2026-02-04 " \
                          "(expected up to 2026-02-28)" in out
