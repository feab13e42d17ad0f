"""A new user's own binary classifier, with no latency and no model-version column, set up as
the README says: the first materialization works, the score is checked for drift, and the
roles the logs do not have are said, not silently passed."""

import re

import pandas as pd
import pytest

from monitoring_assets.assets.names import DRIFT_CHECK, LATENCY_SLO_CHECK, SCHEMA_CHECK
from monitoring_assets.wiring import build_definitions
from monitoring_assets_tests.world import World, checks_of, day

pytestmark = pytest.mark.slow


def strip_columns(world: World, partition: str, columns: list[str]) -> None:
    for path in (world.inference / partition).iterdir():
        pd.read_parquet(path).drop(columns=columns).to_parquet(path, index=False)


def test_a_classifier_without_latency_or_versions(tmp_path):
    world = World(tmp_path)
    world.register()
    world.write_day(day(3))
    strip_columns(world, day(3), ["latency_ms", "model_version"])

    # First with the default roles: the missing columns are named, at WARN.
    checks = checks_of(world.materialize(day(3)))
    latency = checks[LATENCY_SLO_CHECK]
    assert not latency.passed and latency.severity.value == "WARN"
    assert latency.metadata["status"].value == "no_data"
    assert "latency column 'latency_ms' is missing" in latency.description
    schema = checks[SCHEMA_CHECK]
    # The description is Markdown with the data's own characters escaped; a person reads it unescaped.
    readable = re.sub(r"\\(.)", r"\1", schema.description)
    assert not schema.passed and schema.severity.value == "WARN" and "model_version" in readable

    # Then as the README says: roles the service does not log are set to null.
    config = world.config_dict()
    config["models"][0]["columns"] |= {"latency": None, "model_version": None}
    from monitoring_assets.config import parse_config

    parsed = parse_config(config)
    checks = checks_of(world.materialize(day(3), config=parsed))
    assert checks[LATENCY_SLO_CHECK].passed and checks[SCHEMA_CHECK].passed
    drift = checks[DRIFT_CHECK]
    table = drift.metadata["features"].value
    assert "| score |" in table and "| prediction | categorical |" in table

    # `--select group:m --partition P` picks one partition's work, and nothing that spans them.
    graph = build_definitions(parsed).resolve_asset_graph()
    group = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == "m"}
    assert "m/champion_promotion" not in group and "m/retrained_candidate" not in group
    assert "m/feature_drift" in group
