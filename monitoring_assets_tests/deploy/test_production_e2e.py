"""Production end to end with real processes on 127.0.0.1: PostgreSQL behind Dagster and
MLflow, the MLflow server, the code server, dagster-daemon and dagster-webserver. Files
land, the new-data sensor under the daemon requests runs, the drift check fails, the alert
sensor POSTs the alert; the daemon restarts without a duplicate; a real browser sees it."""

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from monitoring_assets.demo.data import CATEGORICAL_FEATURES, FEATURES, write_day
from monitoring_assets.demo.train import log_and_register, train_demo_model
from monitoring_assets_tests.deploy.services import (
    alert_book,
    BIN,
    PG_HOST,
    PG_PORT,
    PG_USER,
    Database,
    Process,
    chromium_path,
    http_ok,
    postgres_or_skip,
    wait_for,
)
from monitoring_assets_tests.servers import HttpReceiver, free_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SENSOR_INTERVAL = 5


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    admin = postgres_or_skip()
    root = tmp_path_factory.mktemp("production")
    databases = [Database(admin, "dagster_e2e"), Database(admin, "mlflow_e2e")]
    receiver = HttpReceiver().start()
    processes: list[Process] = []
    try:
        yield from _run_stack(root, databases, receiver, processes)
    finally:
        for process in reversed(processes):
            process.stop()
        receiver.stop()
        for database in databases:
            database.drop()
        admin.close()


def _run_stack(root: Path, databases, receiver, processes):
    dagster_db, mlflow_db = databases
    logs = root / "logs"
    logs.mkdir()
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    ports = {name: free_port() for name in ("mlflow", "code", "web")}
    mlflow_uri = f"http://127.0.0.1:{ports['mlflow']}"
    today = dt.datetime.now(dt.timezone.utc).date()
    days = [today - dt.timedelta(days=3), today - dt.timedelta(days=2)]
    landing = root / "landing"
    config = {
        "mlflow": {"tracking_uri": mlflow_uri},
        "storage": {"root": str(root / "storage")},
        "links": {"dagster_url": f"http://127.0.0.1:{ports['web']}", "mlflow_url": mlflow_uri},
        "sensors": {"default_running": True, "landing_interval_seconds": SENSOR_INTERVAL,
                    "alert_interval_seconds": SENSOR_INTERVAL},
        "notifications": {
            "channels": {"hook": {"type": "webhook", "url_env": "E2E_WEBHOOK_URL"}},
            "routes": [{"models": ["churn"], "min_severity": "ERROR", "channels": ["hook"]}],
        },
        "models": [{
            "name": "churn", "registered_model": "churn-e2e", "task": "binary",
            "columns": {"features": FEATURES, "categorical": CATEGORICAL_FEATURES, "error": "error"},
            "partitions": {"grain": "daily", "start": (today - dt.timedelta(days=10)).isoformat()},
            "inference": {"location": str(landing / "inference")},
            "labels": {"location": str(landing / "labels")},
            "labels_policy": {"deadline_hours": 24 * 30},
        }],
    }
    config_path = root / "monitoring.yaml"
    config_path.write_text(yaml.safe_dump(config))
    workspace = root / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": {
        "host": "127.0.0.1", "port": ports["code"], "location_name": "monitoring_assets"}}]}))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MLFLOW_"))},
        "DAGSTER_HOME": str(home), "MONITORING_CONFIG": str(config_path),
        "DAGSTER_PG_HOST": PG_HOST, "DAGSTER_PG_PORT": str(PG_PORT), "DAGSTER_PG_USER": PG_USER,
        "DAGSTER_PG_PASSWORD": "unused-with-trust-auth", "DAGSTER_PG_DB": dagster_db.name,
        "E2E_WEBHOOK_URL": receiver.url("/e2e-hook"),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }

    mlflow_server = Process("mlflow", [
        str(BIN / "mlflow"), "server", "--backend-store-uri", mlflow_db.url,
        "--artifacts-destination", (root / "mlflow-artifacts").as_uri(), "--serve-artifacts",
        "--host", "127.0.0.1", "--port", str(ports["mlflow"]), "--workers", "1",
    ], env, logs).start()
    processes.append(mlflow_server)
    wait_for(lambda: http_ok(f"{mlflow_uri}/health"), 180, "the MLflow server", processes=[mlflow_server])

    # 1. The champion and its baseline, registered through the server.
    model, validation = train_demo_model(seed=3, rows=6000)
    version = log_and_register(mlflow_uri, "churn-e2e", model, validation, artifact_location="",
                               alias="champion")

    code_server = Process("code-server", [
        str(BIN / "dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(ports["code"]),
        "-m", "monitoring_assets.definitions"], env, logs).start()
    processes.append(code_server)
    daemon = Process("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], env, logs)
    webserver = Process("webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(ports["web"]),
                                      "-w", str(workspace)], env, logs)
    processes.extend([daemon.start(), webserver.start()])
    web = f"http://127.0.0.1:{ports['web']}"
    wait_for(lambda: http_ok(f"{web}/server_info"), 180, "the webserver", processes=processes)

    os.environ["DAGSTER_HOME"] = str(home)
    for key in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        os.environ[key] = env[key]
    instance = dg.DagsterInstance.from_config(str(home))
    yield {
        "root": root, "days": [d.isoformat() for d in days], "day_dates": days, "model": model,
        "version": version, "landing": landing, "instance": instance, "daemon": daemon,
        "processes": processes, "receiver": receiver, "web": web, "mlflow": mlflow_uri,
    }
    instance.dispose()


def _runs_for(instance, partition: str, job: str = "churn_monitoring"):
    return [r for r in instance.get_runs(filters=dg.RunsFilter(job_name=job, tags={"dagster/partition": partition}))]


def _drift_alerts(receiver, partition: str) -> list[dict]:
    return [a for body in receiver.bodies("/e2e-hook") for a in body["alerts"]
            if a["check"] == "drift_within_limits" and a["partition"] == partition]


def _drop(stack, index: int, drifted: bool) -> float:
    day = stack["day_dates"][index]
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    staging = stack["root"] / "staging"
    write_day(stack["model"], day, 30 if drifted else 1, 2000, 21, 3, staging / "inference", staging / "labels",
              start, 2, stack["version"])
    target = stack["landing"] / "inference" / day.isoformat()
    target.parent.mkdir(parents=True, exist_ok=True)
    dropped_at = time.time()
    (staging / "inference" / day.isoformat()).rename(target)  # one atomic drop of the folder
    return dropped_at


def test_sensors_runs_and_alerts_under_the_real_daemon(stack):
    instance, receiver, processes = stack["instance"], stack["receiver"], stack["processes"]
    clean, drifted = stack["days"]

    _drop(stack, 0, drifted=False)
    runs = wait_for(lambda: [r for r in _runs_for(instance, clean) if r.status == dg.DagsterRunStatus.SUCCESS],
                    300, f"a successful run for the clean day {clean}", interval=2, processes=processes)
    assert len(runs) == 1 and runs[0].tags.get("monitoring/trigger") == "inference"

    dropped_at = _drop(stack, 1, drifted=True)
    alerts = wait_for(lambda: _drift_alerts(receiver, drifted), 300, "the drift alert", interval=0.5,
                      processes=processes)
    latency = time.time() - dropped_at
    print(f"\nfile drop to alert arrival: {latency:.1f} s (sensor interval {SENSOR_INTERVAL} s)")
    (ARTIFACTS).mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-latency.json").write_text(json.dumps({"file_to_alert_seconds": latency}))

    alert = alerts[0]
    assert alert["kind"] == "firing" and alert["severity"] == "ERROR"
    assert alert["model"] == "churn" and alert["registered_model"] == "churn-e2e"
    assert alert["model_version"] == stack["version"]
    # An ERROR drift names the feature and the error threshold it passed.
    assert alert["observed"] > alert["threshold"] == 0.2 and alert["metric"].startswith("drift(")
    assert alert["summary"].startswith(f"[ERROR] churn v{stack['version']}: drift(")
    assert alert["dagster_url"] == f"{stack['web']}/runs/{alert['run_id']}?logs=type%3AASSET_CHECK_EVALUATION"
    assert alert["dagster_check_url"] == stack["web"] + "/assets/churn/feature_drift?view=checks&checkDetail=drift_within_limits"
    assert alert["dagster_partition_url"].endswith("?view=partitions&partition=" + drifted)
    assert alert["mlflow_url"] == f"{stack['mlflow']}/#/models/churn-e2e/versions/{stack['version']}"
    assert not any(a["partition"] == clean for body in receiver.bodies() for a in body["alerts"])
    assert len(_runs_for(instance, drifted)) == 1

    # The daemon restarts; its sensors resume from their stored cursors. It is stopped once the
    # tick that sent the alert has stored its cursor: a kill between a delivery and that store
    # sends the message again on restart (at-least-once; see the README's Alerts section).
    def stored() -> bool:
        incidents = alert_book(instance).get("incidents", [])
        return any(i.get("key") == alert["key"] and not i.get("pending") for i in incidents)

    wait_for(stored, 120, "the alert sensor to store the delivered alert", processes=processes)
    daemon = stack["daemon"]
    daemon.stop()
    daemon.start()
    time.sleep(SENSOR_INTERVAL * 6)
    assert daemon.alive(), daemon.log_text()
    # Nothing was sent twice: per alert, a firing is only ever followed by a resolution (the
    # model's health may fire, resolve when the clean day lands, and fire again at the drift).
    sequence: dict[str, list[str]] = {}
    for body in receiver.bodies("/e2e-hook"):
        for a in body["alerts"]:
            if a["kind"] in ("firing", "resolved"):
                sequence.setdefault(a["key"], []).append(a["kind"])
    for key, kinds in sequence.items():
        assert all(a != b for a, b in zip(kinds, kinds[1:])), (key, kinds)
    assert len(_drift_alerts(receiver, drifted)) == 1
    assert len(_runs_for(instance, drifted)) == 1 and len(_runs_for(instance, clean)) == 1


def test_the_failed_check_shows_in_a_real_browser(stack, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    drifted = stack["days"][1]
    wait_for(lambda: _drift_alerts(stack["receiver"], drifted), 300, "the drift alert", processes=stack["processes"])
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=chromium, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            viewport={"width": 1500, "height": 1000},
        )
        page = context.new_page()
        page.goto(f"{stack['web']}/assets/churn/feature_drift?view=checks", wait_until="networkidle")
        page.get_by_text("drift_within_limits").first.wait_for(timeout=60_000)
        skip = page.get_by_role("button", name="Skip")  # the first-visit community dialog
        if skip.count():
            skip.first.click()
        page.get_by_text("Failed").first.wait_for(timeout=60_000)
        if skip.count():  # the dialog can open after the first look
            skip.first.click()
        page.screenshot(path=str(ARTIFACTS / "failed-drift-check.png"), full_page=True)
        text = page.inner_text("body")
        # With several groups (the model's, its promotion group, model_health), a group's own page
        # lives under its code location.
        page.goto(f"{stack['web']}/locations/monitoring_assets/asset-groups/churn", wait_until="networkidle")
        page.get_by_text("feature_drift").first.wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "asset-graph.png"))
        context.close()
    assert "drift_within_limits" in text and "Failed" in text
