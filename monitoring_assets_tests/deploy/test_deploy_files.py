"""deploy/ files checked syntactically (Docker cannot run on this machine): the compose file,
the Helm values, the Dockerfile and the Dagster instance files."""

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def load(name: str):
    return yaml.safe_load((DEPLOY / name).read_text())


def test_compose_has_every_service_and_no_secret_values():
    compose = load("docker-compose.yaml")
    assert set(compose["services"]) == {"postgres", "mlflow", "code-server", "webserver", "daemon"}
    assert compose["services"]["daemon"]["entrypoint"][:2] == ["dagster-daemon", "run"]
    text = (DEPLOY / "docker-compose.yaml").read_text()
    for key in ("POSTGRES_PASSWORD", "SLACK_WEBHOOK_URL", "SMTP_PASSWORD", "MONITORING_WEBHOOK_URL"):
        for value in re.findall(rf"{key}: (.+)", text):
            assert value.strip().startswith("${"), (key, value)
    for service in compose["services"].values():
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"]


def test_helm_values_use_user_deployments_and_the_k8s_run_launcher():
    values = load("helm/values.yaml")
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert values["dagster-user-deployments"]["enabled"] is True
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "monitoring_assets.definitions"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert {"name": "monitoring-secrets"} in deployment["envSecrets"]


def test_dagster_instance_files_are_valid_dagster_config(tmp_path, monkeypatch):
    import dagster as dg

    production = load("dagster.yaml")
    assert production["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert production["run_coordinator"]["config"]["max_concurrent_runs"] == {"env": "DAGSTER_MAX_CONCURRENT_RUNS"}
    assert production["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    embedded = DEPLOY / "dagster.embedded.yaml"
    (tmp_path / "dagster.yaml").write_text(embedded.read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert type(instance.event_log_storage).__name__ == "ConsolidatedSqliteEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    finally:
        instance.dispose()


def test_dockerfile_builds_the_code_server_image():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11-slim" in text
    assert "-c requirements/constraints-py3.11.txt" in text
    assert '"dagster", "code-server", "start"' in text
    for source in re.findall(r"^COPY (\S+)", text, flags=re.M):
        assert (DEPLOY.parent / source.rstrip("/")).exists(), source
