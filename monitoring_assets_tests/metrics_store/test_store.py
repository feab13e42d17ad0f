"""The metrics store: one row per (model, version, partition, kind, name) after reruns and late
labels, through the real pipeline, on SQLite and on PostgreSQL."""

import collections
import datetime as dt

import pytest

from monitoring_assets.metrics_store.store import SCHEMA_VERSION, MetricRow, MetricsStore, MetricsStoreError
from monitoring_assets_tests.deploy.services import Database, postgres_or_skip
from monitoring_assets_tests.world import FEATURES, World, day

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def metrics_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metrics.db'}"
        return
    database = Database(postgres_or_skip(), "metrics")
    try:
        yield database.url
    finally:
        database.drop()


def keys(rows):
    return [(r["model"], r["version"], r["partition_start"], r["kind"], r["name"]) for r in rows]


def test_reruns_and_late_labels_leave_one_row_per_key(tmp_path, metrics_url):
    world = World(tmp_path)
    world.register()
    truth = world.write_day(day(0), seed=70, with_labels=False)
    world.write_labels(day(0), truth.iloc[:100], "labels-early")
    config = world.config_dict()
    config["storage"]["metrics_url"] = metrics_url
    from monitoring_assets.config import parse_config

    config = parse_config(config)
    world.materialize(day(0), config)
    store = MetricsStore(metrics_url)
    first = store.rows("m")
    kinds = collections.Counter(r["kind"] for r in first)
    drifted = {r["name"] for r in first if r["kind"] == "drift"}
    assert set(FEATURES) <= drifted and kinds["drift"] == len(drifted)
    assert {"performance", "service", "check", "estimate"} <= set(kinds)
    coverage = next(r for r in first if r["name"] == "label_coverage")
    assert coverage["value"] == pytest.approx(0.25)
    assert coverage["partition_start"] == dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)

    world.materialize(day(0), config)  # a rerun on the same data
    assert sorted(keys(store.rows("m"))) == sorted(keys(first))

    world.write_labels(day(0), truth.iloc[100:], "labels-late")
    world.materialize(day(0), config)
    after = store.rows("m")
    # Judged now (coverage past min_coverage): the metrics join the rows, none twice.
    assert len(keys(after)) == len(set(keys(after))) > len(first)
    assert next(r for r in after if r["name"] == "label_coverage")["value"] == pytest.approx(1.0)
    accuracy = [r for r in after if r["kind"] == "performance" and r["name"] == "accuracy"]
    assert len(accuracy) == 1 and accuracy[0]["baseline"] is not None and accuracy[0]["threshold"] is not None
    checks = {r["name"]: r["level"] for r in after if r["kind"] == "check"}
    assert checks["performance_vs_baseline"] in ("ok", "error") and "drift_within_limits" in checks
    # The report of the partition was regenerated from the store.
    assert (tmp_path / "storage" / "m" / "report" / "report.html").read_text().count('class="chart drift"') == len(
        drifted)
    store.dispose()


def test_a_feature_gone_from_the_partition_is_gone_from_the_store(metrics_url):
    store = MetricsStore(metrics_url)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(days=1)
    both = [MetricRow("m", "1", start, end, "drift", name, 0.1) for name in ("a", "b")]
    store.write_partition(both + [MetricRow("m", "1", start, end, "check", "schema", 1.0, level="ok")],
                          replace=[("m", start, "drift")])
    store.write_partition([MetricRow("m", "1", start, end, "drift", "a", 0.4, level="warn")],
                          replace=[("m", start, "drift")])
    rows = store.rows("m")
    assert [(r["kind"], r["name"], r["value"], r["level"]) for r in rows] == [
        ("check", "schema", 1.0, "ok"), ("drift", "a", 0.4, "warn")]
    store.dispose()


def test_a_store_from_a_newer_release_is_refused_by_name(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    store = MetricsStore(url)
    store.rows()
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE monitoring_metrics_schema SET version = :v"), {"v": SCHEMA_VERSION + 1})
    store.dispose()
    with pytest.raises(MetricsStoreError, match=f"schema version {SCHEMA_VERSION + 1}.*upgrade"):
        MetricsStore(url).rows()


OPEN_AT = """
import sys, time
from monitoring_assets.metrics_store.store import MetricsStore
start = float(sys.argv[2])
while time.time() < start:
    pass
MetricsStore(sys.argv[1]).engine
print("ok")
"""


def test_processes_that_open_a_new_store_at_once_all_get_it(metrics_url):
    """Two runs of a fresh deployment create the store's tables together: the one that loses the
    race to CREATE finds them made, instead of failing its step ('table already exists')."""
    import subprocess
    import sys
    import time

    import sqlalchemy as sa

    for attempt in range(4):
        if attempt:  # a new store each time
            engine = sa.create_engine(metrics_url)
            with engine.begin() as connection:
                connection.execute(sa.text("DROP TABLE IF EXISTS monitoring_metrics"))
                connection.execute(sa.text("DROP TABLE IF EXISTS monitoring_metrics_schema"))
            engine.dispose()
        start = time.time() + 2.0  # after the interpreters have started and imported
        openers = [subprocess.Popen([sys.executable, "-c", OPEN_AT, metrics_url, str(start)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outputs = [o.communicate(timeout=120) for o in openers]
        assert [out.strip() for out, _ in outputs] == ["ok"] * 3, [err[-1500:] for _, err in outputs]
    store = MetricsStore(metrics_url)
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version FROM monitoring_metrics_schema")).scalars().all() == [
            SCHEMA_VERSION]
    store.dispose()
