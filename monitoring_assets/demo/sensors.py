"""The demo's sensors, evaluated as the daemon would, with their cursors kept in the Dagster
instance; and what the alert sensor's file channel received."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from monitoring_assets.config import MonitoringConfig


class SensorCursors:
    """The demo evaluates sensors itself, as the daemon would, and keeps their cursors where the
    daemon keeps them: in the Dagster instance. Turning a sensor on after the demo then resumes
    from what the demo did, and sends nothing twice. Cursors are read from the instance and
    written back through `dagster sensor cursor`, the public way to set one."""

    def __init__(self, instance: Any, home: Path, config_path: Path) -> None:
        self.instance = instance
        self.home = home
        self.config_path = config_path
        self.cursors: dict[str, str | None] = {}
        for state in instance.all_instigator_state():
            data = getattr(state, "instigator_data", None)
            if getattr(state, "instigator_name", None) and getattr(data, "cursor", None) is not None:
                self.cursors[state.instigator_name] = data.cursor
        self.changed: set[str] = set()

    def tick(self, config: MonitoringConfig, name: str):
        import dagster as dg

        from monitoring_assets.wiring import build_definitions, build_resources

        defs = build_definitions(config)
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursors.get(name), definitions=defs,
                                          resources={"mlflow": build_resources(config)["mlflow"]})
        result = defs.resolve_sensor_def(name)(context)
        # The daemon stores what a sensor reports; so does the demo.
        for event in result.asset_events or []:
            self.instance.report_runless_asset_event(event)
        if result.cursor is not None and result.cursor != self.cursors.get(name):
            self.cursors[name] = result.cursor
            self.changed.add(name)
        return defs, result

    def save(self, say: Any) -> None:
        """One `dagster sensor cursor --set` per changed sensor, in parallel, against a workspace
        in the home that names the code location as workspace.yaml does."""
        import subprocess
        import sys

        from monitoring_assets.wiring import CODE_LOCATION

        if not self.changed:
            return
        workspace = self.home / "workspace.yaml"
        workspace.write_text(yaml.safe_dump({"load_from": [{"python_module": {
            "module_name": "monitoring_assets.definitions", "location_name": CODE_LOCATION}}]}))
        env = {**os.environ, "DAGSTER_HOME": str(self.instance.root_directory),
               "MONITORING_CONFIG": str(self.config_path)}
        dagster = Path(sys.executable).with_name("dagster")
        processes = {
            name: subprocess.Popen([str(dagster), "sensor", "cursor", name, "--set", self.cursors[name] or "",
                                    "-w", str(workspace)], env=env, cwd=self.home,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for name in sorted(self.changed)
        }
        failed = []
        for name, process in processes.items():
            _, err = process.communicate(timeout=300)
            if process.returncode != 0:
                failed.append(f"{name}: {err.decode(errors='replace').strip().splitlines()[-1:]}")
        if failed:
            raise RuntimeError(f"could not store the sensor cursors in the instance: {failed}")
        say(f"sensor cursors stored in the Dagster instance: {', '.join(sorted(self.changed))}")
        self.changed.clear()


def alert_counts(home: Path, skip: int = 0) -> dict[str, Any]:
    """What the file channel received after its first `skip` messages: messages, incidents by
    kind, and notices by event."""
    counts: dict[str, Any] = {"messages": 0, "firing": 0, "repeat": 0, "resolved": 0, "notices": 0, "events": {}}
    log = home / "alerts.log"
    if not log.exists():
        return counts
    with log.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if index < skip:
                continue
            message = json.loads(line)
            counts["messages"] += 1
            for alert in message.get("alerts", []):
                counts[alert["kind"]] += 1
            if message.get("notice"):
                counts["notices"] += 1
                event = message["notice"]["event"]
                counts["events"][event] = counts["events"].get(event, 0) + 1
    return counts


def logged_alert_messages(home: Path) -> int:
    log = home / "alerts.log"
    return sum(1 for _ in log.open()) if log.exists() else 0


def evaluate_alert_sensor(config: MonitoringConfig, cursors: SensorCursors, home: Path) -> int:
    """Evaluate the alert sensor once, as the daemon would; returns the messages logged so far."""
    from monitoring_assets.sensors.alert_sensor import ALERT_SENSOR_NAME

    cursors.tick(config, ALERT_SENSOR_NAME)
    return logged_alert_messages(home)


def catch_up_sensors(config: MonitoringConfig, cursors: SensorCursors) -> None:
    """The landing and health sensors look once at what the demo already ran, so that turning
    them on later does not launch it again: their run requests are dropped, their cursors kept."""
    from monitoring_assets.assets.health import health_sensor_name
    from monitoring_assets.sensors.landing import landing_sensor_name

    model = config.models[0]
    for name in (landing_sensor_name(model, "inference"), landing_sensor_name(model, "labels"),
                 health_sensor_name(model)):
        cursors.tick(config, name)
