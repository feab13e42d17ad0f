"""`monitoring-assets exporter` scraped by a real Prometheus (Debian's package) on loopback after
the demo; the alert rules pass `promtool test rules` and load into that Prometheus."""

import json
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from monitoring_assets.metrics_store.store import MetricsStore
from monitoring_assets_tests.deploy.services import BIN, Process, binary_or_skip, http_ok, wait_for
from monitoring_assets_tests.servers import free_port

pytestmark = pytest.mark.slow

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
HEALTH_CODES = {"HEALTHY": 0, "WARNING": 1, "DEGRADED": 2}


def prometheus_binary() -> str:
    return binary_or_skip(("prometheus",), "Debian's prometheus is not installed (.ci/run installs it)")


def query(base: str, expression: str) -> list[dict]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_the_rules_pass_their_unit_tests():
    promtool = binary_or_skip(("promtool",), "Debian's prometheus (promtool) is not installed (.ci/run installs it)")
    result = subprocess.run([promtool, "test", "rules", "rules_test.yml"], cwd=RULES, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_prometheus_scrapes_the_models_state_after_the_demo(demo_summary, tmp_path):
    prometheus = prometheus_binary()
    home = demo_summary["home"]
    exporter_port, prometheus_port = free_port(), free_port()
    env = {"PATH": str(BIN) + ":/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true", "HOME": str(tmp_path)}
    exporter = Process("exporter", [str(BIN / "monitoring-assets"), "exporter", "--config", str(home / "monitoring.yaml"),
                                    "--port", str(exporter_port)], env, tmp_path).start()
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{RULES / 'rules.yml'}"]
scrape_configs:
  - job_name: monitoring_assets
    static_configs: [{{targets: ["127.0.0.1:{exporter_port}"]}}]
""")
    server = Process("prometheus", [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
                                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                    f"--web.listen-address=127.0.0.1:{prometheus_port}"], env, tmp_path).start()
    base = f"http://127.0.0.1:{prometheus_port}"
    try:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{exporter_port}/metrics"), 60, "the exporter", processes=[exporter])
        wait_for(lambda: http_ok(f"{base}/-/ready"), 60, "prometheus", processes=[server])
        health = wait_for(lambda: query(base, "monitoring_model_health"), 60, "the health series",
                          processes=[server, exporter])
        assert len(health) == 1
        assert health[0]["metric"]["model"] == demo_summary["model"]
        assert float(health[0]["value"][1]) == HEALTH_CODES[demo_summary["health"]["status"]]

        store = MetricsStore(demo_summary["metrics_url"])
        drift_rows = [r for r in store.rows(demo_summary["model"], ["drift"])]
        newest = max(r["partition_start"] for r in drift_rows)
        worst = max((r for r in drift_rows if r["partition_start"] == newest), key=lambda r: r["value"])
        series = query(base, f'monitoring_feature_drift_score{{feature="{worst["name"]}"}}')
        assert len(series) == 1 and float(series[0]["value"][1]) == pytest.approx(worst["value"], rel=1e-9)
        assert series[0]["metric"]["version"] == worst["version"]

        freshness = query(base, "monitoring_data_freshness_seconds")
        assert freshness and float(freshness[0]["value"][1]) > 0
        assert query(base, "monitoring_exporter_scrape_errors_total")[0]["value"][1] == "0"
        with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=5) as response:
            rules = {r["name"] for g in json.load(response)["data"]["groups"] for r in g["rules"]}
        assert {"ModelDegraded", "ModelDataStale", "MonitoringExporterDown"} <= rules
        store.dispose()
    finally:
        server.stop()
        exporter.stop()
