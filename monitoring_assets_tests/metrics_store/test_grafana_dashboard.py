"""The provisioned Grafana dashboard, checked without Grafana (it cannot be installed here): its
structure against its provisioning files, and every SQL query of its panels, variable and
annotations run against a real PostgreSQL metrics store that the pipeline wrote."""

import json
import re
from pathlib import Path

import pytest
import yaml

from monitoring_assets.config import parse_config
from monitoring_assets.metrics_store.store import MetricsStore
from monitoring_assets_tests.deploy.services import Database, postgres_or_skip
from monitoring_assets_tests.world import World, day

pytestmark = pytest.mark.slow

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = json.loads((GRAFANA / "dashboards" / "model-monitoring.json").read_text())


def panels():
    return [p for p in DASHBOARD["panels"] if p["type"] != "row"]


def sql_targets():
    return [(p["title"], t["rawSql"]) for p in panels() for t in p["targets"] if "rawSql" in t]


def expand(query: str, model: str) -> str:
    """Grafana's macros and variable, as Grafana expands them for PostgreSQL."""
    query = re.sub(r"\$__timeFilter\((\w+)\)",
                   r"\1 BETWEEN '2000-01-01T00:00:00Z' AND '2100-01-01T00:00:00Z'", query)
    return query.replace("IN ($model)", f"IN ('{model}')").replace("$model", model)


def test_the_dashboard_is_one_row_per_model_over_the_provisioned_datasources():
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "monitoring.yml").read_text())
    uids = {d["uid"]: d["type"] for d in datasources["datasources"]}
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "monitoring.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    row = DASHBOARD["panels"][0]
    assert row["type"] == "row" and row["repeat"] == "model"
    assert [v["name"] for v in DASHBOARD["templating"]["list"]] == ["model"]
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels():
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel["targets"]:
            assert uids[target["datasource"]["uid"]] == target["datasource"]["type"], panel["title"]
    kinds = {p["type"] for p in panels()}
    assert {"stat", "heatmap", "timeseries", "table", "state-timeline"} <= kinds
    sources = {t["datasource"]["uid"] for p in panels() for t in p["targets"]}
    assert sources == {"monitoring-metrics", "monitoring-prometheus"}


def test_every_sql_query_returns_rows_from_a_postgresql_store(tmp_path):
    database = Database(postgres_or_skip(), "grafana")
    try:
        world = World(tmp_path)
        world.register()
        world.register(seed=2, alias=None)
        world.write_day(day(0), seed=80)
        world.write_day(day(1), seed=81, version="2")
        raw = world.config_dict()
        raw["storage"]["metrics_url"] = database.url
        config = parse_config(raw)
        world.materialize(day(0), config)
        world.materialize(day(1), config)
        store = MetricsStore(database.url)
        queries = sql_targets() + [("variable", DASHBOARD["templating"]["list"][0]["query"])]
        queries += [(a["name"], a["rawQuery"]) for a in DASHBOARD["annotations"]["list"]]
        import sqlalchemy as sa

        with store.engine.connect() as connection:
            for title, query in queries:
                rows = connection.execute(sa.text(expand(query, "m").replace(":", r"\:"))).all()
                assert rows, f"{title}: no rows"
        store.dispose()
    finally:
        database.drop()
