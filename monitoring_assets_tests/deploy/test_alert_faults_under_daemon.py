"""The alert sensor under the real dagster-daemon while its channels misbehave: six webhooks that
accept and never answer, one that drips a byte a second, one whose URL is malformed, and an
SMTP server that refuses connections past the repeat interval. The healthy file channel gets
each message exactly once in the tick it is due, every tick ends within its budget and saves
its cursor, and each broken channel delivers exactly once after it recovers."""

import json
import os
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from monitoring_assets.demo.run import EMBEDDED_DAGSTER_YAML
from monitoring_assets.sensors.alert_sensor import ALERT_SENSOR_NAME
from monitoring_assets_tests.deploy.services import BIN, Process, alert_book, alert_sensor_state, wait_for
from monitoring_assets_tests.servers import FaultyHttpServer, SmtpServer
from monitoring_assets_tests.world import World, day

pytestmark = pytest.mark.slow

BUDGET_S = 12
CHANNEL_DEADLINE_S = 4
REPEAT_MINUTES = 1
HANGING = [f"hang{i}" for i in range(1, 7)]
SMTP_USER, SMTP_PASSWORD = "alerts@example.test", "pw-smtp-1"


class DaemonWorld(World):
    """A World whose Dagster instance lives on disk, shared with the daemon."""

    def __init__(self, root: Path, servers: FaultyHttpServer, smtp: SmtpServer) -> None:
        self.home = root / "dagster"
        self.home.mkdir(parents=True)
        (self.home / "dagster.yaml").write_text(EMBEDDED_DAGSTER_YAML.format(home=self.home.as_posix()))
        super().__init__(root)
        self.instance = dg.DagsterInstance.from_config(str(self.home))
        self.servers, self.smtp = servers, smtp
        self.log = root / "alerts.jsonl"

    def config_dict(self, **overrides):
        data = super().config_dict(**overrides)
        channels = {"file": {"type": "file", "path": str(self.log)},
                    "drip": {"type": "webhook", "url_env": "FAULT_DRIP_URL", "timeout_seconds": CHANNEL_DEADLINE_S},
                    "bad": {"type": "webhook", "url_env": "FAULT_BAD_URL", "timeout_seconds": CHANNEL_DEADLINE_S},
                    "mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": self.smtp.port,
                             "username": SMTP_USER, "password_env": "FAULT_SMTP_PASSWORD", "verify_tls": False,
                             "sender": SMTP_USER, "recipients": ["oncall@example.test"],
                             "timeout_seconds": CHANNEL_DEADLINE_S}}
        channels |= {name: {"type": "webhook", "url_env": f"FAULT_{name.upper()}_URL",
                            "timeout_seconds": CHANNEL_DEADLINE_S} for name in HANGING}
        data["notifications"] = {
            "channels": channels,
            "routes": [{"models": ["*"], "min_severity": "WARN", "channels": list(channels)}],
            "repeat_interval_minutes": REPEAT_MINUTES, "retry_initial_seconds": 1, "retry_max_seconds": 4,
            "delivery_budget_seconds": BUDGET_S,
        }
        data["sensors"] = {"default_running": False, "alert_interval_seconds": 2, "landing_interval_seconds": 2}
        return data


def _env(world: DaemonWorld, config_path: Path, bad_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MONITORING_"))}
    env |= {"DAGSTER_HOME": str(world.home), "MONITORING_CONFIG": str(config_path),
            "FAULT_DRIP_URL": world.servers.url("/drip"), "FAULT_BAD_URL": bad_url,
            "FAULT_SMTP_PASSWORD": SMTP_PASSWORD, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env |= {f"FAULT_{name.upper()}_URL": world.servers.url(f"/{name}") for name in HANGING}
    return env


def _ticks(instance: dg.DagsterInstance) -> list:
    state = alert_sensor_state(instance)
    return list(instance.get_ticks(state.instigator_origin_id, state.selector_id)) if state else []


def _pending(instance: dg.DagsterInstance) -> dict[str, list[dict]]:
    pending: dict[str, list[dict]] = {}
    for entry in alert_book(instance).get("incidents", []) + alert_book(instance).get("notices", []):
        for delivery in entry.get("pending", []):
            pending.setdefault(delivery["channel"], []).append(delivery)
    return pending


def _file_messages(world: DaemonWorld) -> list[dict]:
    return [json.loads(line) for line in world.log.read_text().splitlines()] if world.log.exists() else []


def test_broken_channels_cost_only_themselves_under_the_real_daemon(tmp_path):
    # One server plays every broken webhook: /drip drips a byte a second, the others hang.
    servers = FaultyHttpServer(mode="hang", drip_interval=1.0)
    servers.modes = {"/drip": "drip"}
    smtp = SmtpServer(tmp_path, SMTP_USER, SMTP_PASSWORD)  # not started: connections are refused
    world = DaemonWorld(tmp_path, servers, smtp)
    world.register()
    world.write_day(day(0), flip=True)
    world.materialize(day(0))  # incidents of v1: performance, drift, the estimate's reconciliation
    config_path = tmp_path / "monitoring.yaml"
    daemon_config = world.config_dict()
    # The labels sensor, once started, raises on every tick: a landing zone it cannot read.
    daemon_config["models"][0]["labels"]["location"] = "nosuchproto://labels"
    config_path.write_text(yaml.safe_dump(daemon_config))
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "monitoring_assets.definitions", "location_name": "monitoring_assets"}}]}))
    logs = tmp_path / "logs"
    logs.mkdir()
    bad_url = "http://[::1/hook"  # malformed: an unclosed IPv6 bracket
    env = _env(world, config_path, bad_url)
    daemon = Process("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], env, logs)
    try:
        subprocess.run([str(BIN / "dagster"), "sensor", "start", ALERT_SENSOR_NAME, "-w", str(workspace)],
                       env=env, cwd=tmp_path, check=True, capture_output=True, timeout=300)
        daemon.start()
        _run_faults(world, servers, smtp, daemon, env, workspace, logs)
    finally:
        daemon.stop()
        servers.stop()
        try:
            smtp.stop()
        except Exception:  # noqa: BLE001 - it may never have started
            pass
        world.instance.dispose()


def _run_faults(world, servers, smtp, daemon, env, workspace, logs):
    instance = world.instance

    # 1. The first tick that finishes: the file channel has its one firing message.
    wait_for(lambda: _file_messages(world), 180, "the first message on the healthy channel", processes=[daemon])
    first = _file_messages(world)
    assert len(first) == 1 and {a["kind"] for a in first[0]["alerts"]} == {"firing"}
    opened = {a["check"] for a in first[0]["alerts"]}
    # The flipped day's labels also contradict the estimate (a WARN, routed here too).
    assert {"performance_vs_baseline", "drift_within_limits"} <= opened <= {
        "performance_vs_baseline", "drift_within_limits", "estimate_reconciled", "estimated_performance_vs_baseline"}
    pending = wait_for(lambda: (p := _pending(instance)) and set(p) >= {"drip", "bad", "mail", *HANGING} and p,
                       60, "the broken channels' pending deliveries", processes=[daemon])
    errors = {channel: deliveries[0].get("last_error") or "" for channel, deliveries in pending.items()}
    assert all("deadline" in errors[name] for name in HANGING + ["drip"]), errors
    assert "InvalidURL" in errors["bad"] and "[::1" not in errors["bad"], errors
    assert errors["mail"].startswith("mail:"), errors
    assert "file" not in pending

    # 2. Past the repeat interval: the file channel repeats, the pending email holds nobody back.
    wait_for(lambda: any(a["kind"] == "repeat" for m in _file_messages(world) for a in m["alerts"]),
             REPEAT_MINUTES * 60 + 90, "the repeat on the healthy channel", processes=[daemon])

    # 3. Every tick so far ended within its budget, succeeded and saved its cursor.
    ticks = [t for t in _ticks(instance) if t.status.value != "STARTED"]
    assert len(ticks) >= 5
    for tick in ticks:
        assert tick.status.value in ("SUCCESS", "SKIPPED"), (tick.status, getattr(tick, "error", None))
        assert tick.end_timestamp - tick.timestamp < BUDGET_S + 15, tick.end_timestamp - tick.timestamp
        assert tick.cursor and json.loads(tick.cursor)["v"] == 2
    longest = max(t.end_timestamp - t.timestamp for t in ticks)
    print(f"\n{len(ticks)} ticks with six hanging webhooks, a drip and a malformed URL: longest {longest:.1f} s "
          f"(budget {BUDGET_S} s, channel deadline {CHANNEL_DEADLINE_S} s)")

    # 4. Recovery: the webhooks answer, SMTP accepts, the URL is fixed (a restart picks up the
    #    new environment; the book survives in the cursor).
    #    The daemon stops first: a tick still in flight would otherwise be answered 200 by the
    #    recovered server and killed before saving its cursor, and the next daemon would send
    #    again (at-least-once across a kill, which is not what this test is about).
    daemon.stop()
    servers.mode, servers.modes = "ok", {}
    smtp.start()
    daemon.env = env | {"FAULT_BAD_URL": servers.url("/bad")}
    daemon.start()
    wait_for(lambda: not _pending(instance) and len(smtp.messages) >= 1 and all(
        servers.bodies(f"/{name}") for name in HANGING + ["drip", "bad"]), 180, "every channel to catch up",
        processes=[daemon])
    time.sleep(8)  # a few more ticks: nothing is delivered twice
    for name in HANGING + ["drip", "bad"]:
        bodies = servers.bodies(f"/{name}")
        assert len(bodies) == 1, (name, [(b.get("summary"), [(a["kind"], a.get("check")) for a in b["alerts"]],
                                          (b.get("notice") or {}).get("event")) for b in bodies])
        assert {a["kind"] for a in bodies[0]["alerts"]} == {"firing"}
    assert len(smtp.messages) == 1
    file_kinds = [a["kind"] for m in _file_messages(world) for a in m["alerts"]]
    assert file_kinds.count("firing") == len(opened)  # one message, one entry per incident
    assert set(file_kinds) <= {"firing", "repeat"}

    # 5. A project sensor that raises on three ticks in a row is an incident about the monitor.
    subprocess.run([str(BIN / "dagster"), "sensor", "start", "m_labels_sensor", "-w", str(workspace)],
                   env=daemon.env, cwd=workspace.parent, check=True, capture_output=True, timeout=300)

    def sensor_alerts():
        return [a for m in _file_messages(world) for a in m["alerts"] if a["check"] == "m_labels_sensor"]

    (alert,) = wait_for(sensor_alerts, 120, "the failing-sensor incident", processes=[daemon])
    assert alert["kind"] == "firing" and alert["severity"] == "ERROR"
    assert alert["summary"].startswith("[ERROR] m: m_labels_sensor failed: 3 ticks in a row raised: ")
    assert "Protocol not known: nosuchproto" in alert["summary"]
    wait_for(lambda: all(any(a["check"] == "m_labels_sensor" for b in servers.bodies(f"/{name}") for a in b["alerts"])
                         for name in HANGING + ["drip", "bad"]), 60, "the incident on every webhook",
             processes=[daemon])
    time.sleep(6)
    assert len(sensor_alerts()) == 1
    for name in HANGING + ["drip", "bad"]:
        fired = [a["key"] for b in servers.bodies(f"/{name}") for a in b["alerts"] if a["kind"] == "firing"]
        assert len(fired) == len(set(fired)) == len(opened) + 1, (name, fired)  # each incident once
