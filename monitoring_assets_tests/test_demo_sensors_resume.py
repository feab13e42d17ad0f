"""After the demo, turning its sensors on under the real daemon (as `make ui` users do) resumes
from the cursors the demo left in the instance: no alert is sent again and no partition is run
again."""

import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from monitoring_assets.sensors.alert_sensor import ALERT_SENSOR_NAME
from monitoring_assets_tests.deploy.services import BIN, Process, wait_for

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SENSORS = [ALERT_SENSOR_NAME, "churn_inference_sensor", "churn_labels_sensor"]


def _finished_ticks(instance: dg.DagsterInstance, name: str) -> list:
    for state in instance.all_instigator_state():
        if state.instigator_name == name:
            return [t for t in instance.get_ticks(state.instigator_origin_id, state.selector_id)
                    if t.status.value != "STARTED"]
    return []


def test_turning_the_sensors_on_after_the_demo_sends_and_runs_nothing_again(demo_summary, tmp_path):
    home = demo_summary["home"]
    log = home / "alerts.log"
    lines_before = log.read_text().splitlines()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MONITORING_"))},
           "DAGSTER_HOME": str(home / "dagster"), "MONITORING_CONFIG": str(home / "monitoring.yaml"),
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    workspace = REPO / "workspace.yaml"  # the one `make ui` uses
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs_before = len(instance.get_runs())
        for name in SENSORS:
            subprocess.run([str(BIN / "dagster"), "sensor", "start", name, "-w", str(workspace)], env=env,
                           cwd=tmp_path, check=True, capture_output=True, timeout=300)
        daemon = Process("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], env,
                         tmp_path).start()
        try:
            for name in SENSORS:
                wait_for(lambda name=name: _finished_ticks(instance, name), 240, f"a tick of {name}",
                         processes=[daemon])
        finally:
            daemon.stop()
        for name in SENSORS:
            for tick in _finished_ticks(instance, name):
                assert tick.status.value in ("SUCCESS", "SKIPPED"), (name, tick.status, getattr(tick, "error", None))
                assert not tick.run_ids, (name, tick.run_ids)
        assert len(instance.get_runs()) == runs_before
    assert log.read_text().splitlines() == lines_before
