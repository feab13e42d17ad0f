"""The Alertmanager channel against a real Alertmanager (Debian's prometheus-alertmanager) on
loopback: an incident is active there with its labels, annotations and generator URL, and it
is resolved there when the version is replaced."""

import json
import os
import urllib.request

import dagster as dg
import pytest

from monitoring_assets.assets.lifecycle import lifecycle_event
from monitoring_assets.sensors.alert_sensor import ALERT_SENSOR_NAME
from monitoring_assets.wiring import build_definitions
from monitoring_assets_tests.deploy.services import Process, binary_or_skip, http_ok, wait_for
from monitoring_assets_tests.servers import free_port
from monitoring_assets_tests.world import World, day

AM_CONFIG = """\
route:
  receiver: "null"
  group_by: [model, check]
receivers:
  - name: "null"
"""


@pytest.fixture()
def alertmanager(tmp_path):
    binary = binary_or_skip(("prometheus-alertmanager", "alertmanager"),
                            "Debian's prometheus-alertmanager is not installed (.ci/run installs it)")
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(AM_CONFIG)
    logs = tmp_path / "am-logs"
    logs.mkdir()
    process = Process("alertmanager", [
        binary, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
    ], dict(os.environ), logs).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/-/ready"), 60, "Alertmanager", processes=[process])
        yield url
    finally:
        process.stop()


def _alerts(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as response:
        return json.loads(response.read())


class AmWorld(World):
    def config_dict(self, **overrides):
        data = super().config_dict(**overrides)
        data["notifications"] = {"channels": {"am": {"type": "alertmanager", "url_env": "TEST_AM_URL"}},
                                 "routes": [{"models": ["*"], "min_severity": "WARN", "channels": ["am"]}]}
        return data

    def tick(self, cursor):
        defs = build_definitions(self.config())
        context = dg.build_sensor_context(instance=self.instance, cursor=cursor, definitions=defs)
        return defs.resolve_sensor_def(ALERT_SENSOR_NAME)(context).cursor


def test_an_incident_is_active_in_alertmanager_then_resolved_when_replaced(tmp_path, alertmanager, monkeypatch):
    monkeypatch.setenv("TEST_AM_URL", alertmanager)
    world = AmWorld(tmp_path)
    world.register()
    world.write_day(day(0), flip=True)
    world.materialize(day(0))
    cursor = world.tick(None)

    active = wait_for(lambda: [a for a in _alerts(alertmanager) if a["labels"].get("check") == "performance_vs_baseline"],
                      30, "the incident in Alertmanager")
    (alert,) = active
    assert alert["status"]["state"] == "active"
    assert alert["labels"] | {"alertname": None} == {
        "alertname": None, "model": "m", "check": "performance_vs_baseline", "severity": "error", "version": "1",
        "source": "monitoring_assets"}
    assert alert["annotations"]["summary"].startswith("[ERROR] m v1: accuracy ")
    assert alert["annotations"]["dagster_url"].startswith("http://127.0.0.1:3000/runs/")
    assert alert["generatorURL"] == ("http://127.0.0.1:3000/assets/m/model_performance?view=checks"
                                     "&checkDetail=performance_vs_baseline")
    assert {"performance_vs_baseline", "drift_within_limits"} <= {a["labels"]["check"] for a in _alerts(alertmanager)}

    # Version 2 is promoted: v1's incidents resolve, and Alertmanager no longer lists them active.
    world.instance.report_runless_asset_event(lifecycle_event(
        world.config().models[0], "promoted", "m: v2 promoted over v1", version="2", previous="1"))
    world.tick(cursor)
    wait_for(lambda: not [a for a in _alerts(alertmanager) if a["status"]["state"] == "active"], 30,
             "the incidents to resolve in Alertmanager")
