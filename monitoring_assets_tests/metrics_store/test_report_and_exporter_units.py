"""The report's markers and the exporter's families from hand-made store rows (a SQLite file)."""

import datetime as dt

from prometheus_client import CollectorRegistry, generate_latest

from monitoring_assets.metrics_store.exporter import StoreCollector, freshness_limit_seconds
from monitoring_assets.metrics_store.report import degradations, render_report, version_changes
from monitoring_assets.metrics_store.store import MetricRow, MetricsStore

START = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


def day(i: int) -> dt.datetime:
    return START + dt.timedelta(days=i)


def rows_of(versions: list[str], failing: set[int]) -> list[MetricRow]:
    rows = []
    for i, version in enumerate(versions):
        rows.append(MetricRow("m", version, day(i), day(i + 1), "drift", "x", 0.3 if i in failing else 0.01,
                              warn_threshold=0.1, threshold=0.2, level="error" if i in failing else "ok"))
        rows.append(MetricRow("m", version, day(i), day(i + 1), "service", "rows", 100))
        rows.append(MetricRow("m", version, day(i), day(i + 1), "check", "drift_within_limits",
                              level="error" if i in failing else "ok"))
    return rows


def as_dicts(rows):
    return [vars(r) | {"value": r.value} for r in rows]


def test_version_changes_and_degradation_onsets():
    rows = as_dicts(rows_of(["1", "1", "2", "2", "1"], failing={1, 3, 4}))
    assert [(c["partition"], c["from"], c["to"]) for c in version_changes(rows)] == [
        (day(2), "1", "2"), (day(4), "2", "1")]
    assert degradations(rows) == [day(1), day(3)]


def test_the_report_marks_each_onset_and_change_and_escapes_names():
    rows = as_dicts(rows_of(["1", "2"], failing={1}))
    rows.append(vars(MetricRow("m", "2", day(1), day(2), "drift", "<b>x</b>", 0.5, threshold=0.2, level="error")))
    html = render_report("m", "m-model", {"status": "DEGRADED", "since": "2026-05-02",
                                          "headline": "m: DEGRADED since 2026-05-02 (drift_within_limits)",
                                          "failing": [{"check": "drift_within_limits",
                                                       "description": r"1 feature\(s\) drifted"}]}, rows)
    assert 'class="marker degradation" data-partition="2026-05-02"' in html
    assert 'class="marker version-change" data-partition="2026-05-02"' in html
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "1 feature(s) drifted" in html
    assert "<script" not in html


def test_the_exporter_serves_the_latest_partition_and_counts_store_failures(tmp_path):
    store = MetricsStore(f"sqlite:///{tmp_path / 'metrics.db'}")
    store.write_partition(rows_of(["1", "2"], failing={1}) + [
        MetricRow("m", "2", day(1), day(2), "health", "status", 2, level="error")])
    now = day(2).timestamp() + 3600
    registry = CollectorRegistry()
    collector = StoreCollector(store, {"m": freshness_limit_seconds("daily", None)}, clock=lambda: now)
    registry.register(collector)
    text = generate_latest(registry).decode()
    assert 'monitoring_model_health{model="m",version="2"} 2.0' in text
    assert 'monitoring_feature_drift_score{feature="x",model="m",version="2"} 0.3' in text
    assert 'monitoring_data_freshness_seconds{model="m"} 3600.0' in text
    assert 'monitoring_data_freshness_limit_seconds{model="m"} 259200.0' in text
    assert 'monitoring_check_level{check="drift_within_limits",model="m"} 2.0' in text
    assert "monitoring_exporter_scrape_errors_total 0.0" in text
    store.dispose()
    (tmp_path / "metrics.db").unlink()
    (tmp_path / "metrics.db").mkdir()  # the store cannot be opened any more
    text = generate_latest(registry).decode()
    assert "monitoring_exporter_scrape_errors_total 1.0" in text and "monitoring_model_health{" not in text


def test_unescape_markdown_gives_back_what_escape_markdown_was_given():
    from monitoring_assets.health.status import escape_markdown, unescape_markdown

    text = r"5 feature(s) drifted: sessions_per_week | a\b [x] <y> *z* `q` !"
    assert escape_markdown(text) != text
    assert unescape_markdown(escape_markdown(text)) == text
