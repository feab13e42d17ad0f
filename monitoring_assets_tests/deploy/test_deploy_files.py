"""deploy/ files checked syntactically (Docker cannot run on this machine): the compose file,
the Helm values, the Dockerfile and the Dagster instance files."""

import re
from pathlib import Path

import yaml

from monitoring_assets.demo.run import EMBEDDED_DAGSTER_YAML

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def load(name: str):
    return yaml.safe_load((DEPLOY / name).read_text())


def test_compose_has_every_service_and_no_secret_values():
    compose = load("docker-compose.yaml")
    assert set(compose["services"]) == {"postgres", "mlflow", "code-server", "webserver", "daemon", "exporter",
                                        "prometheus", "grafana"}
    assert compose["services"]["exporter"]["entrypoint"][:2] == ["monitoring-assets", "exporter"]
    metrics_url = compose["x-dagster-env"]["MONITORING_METRICS_URL"]
    assert metrics_url.startswith("postgresql") and "${POSTGRES_PASSWORD}" in metrics_url
    assert compose["services"]["daemon"]["entrypoint"][:2] == ["dagster-daemon", "run"]
    text = (DEPLOY / "docker-compose.yaml").read_text()
    for key in ("POSTGRES_PASSWORD", "SLACK_WEBHOOK_URL", "SMTP_PASSWORD", "MONITORING_WEBHOOK_URL",
                "GF_SECURITY_ADMIN_PASSWORD", "METRICS_DB_PASSWORD"):
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


def _instance_from(folder: Path, settings: dict):
    import dagster as dg

    folder.mkdir()
    (folder / "dagster.yaml").write_text(yaml.safe_dump(settings))
    return dg.DagsterInstance.from_config(str(folder))


def test_dagster_instance_files_are_valid_dagster_config(tmp_path, monkeypatch):
    production = load("dagster.yaml")
    assert production["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert production["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    embedded = yaml.safe_load((DEPLOY / "dagster.embedded.yaml").read_text())
    demo = yaml.safe_load(EMBEDDED_DAGSTER_YAML.format(home=(tmp_path / "demo-history").as_posix()))
    # The production file without its PostgreSQL storage (not reachable here): the rest is
    # validated by Dagster itself.
    without_storage = {k: v for k, v in production.items() if k != "storage"}
    for name, settings in (("embedded", embedded), ("demo", demo), ("production", without_storage)):
        instance = _instance_from(tmp_path / name, settings)
        try:
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator" or name == "demo"
            # A dead run worker is failed and its slots freed; one MLflow writer per model.
            assert instance.run_monitoring_enabled, name
            assert instance.run_monitoring_max_runtime_seconds == 3600, name
            assert instance.global_op_concurrency_default_limit == 1, name
            assert instance.python_log_level == "INFO", name  # debug lines cost event log writes
            if name == "embedded":
                assert type(instance.event_log_storage).__name__ == "ConsolidatedSqliteEventLogStorage"
        finally:
            instance.dispose()


def test_dockerfile_builds_the_code_server_image():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11-slim" in text
    assert "-c requirements/constraints-py3.11.txt" in text
    assert '"dagster", "code-server", "start"' in text
    for source in re.findall(r"^COPY (\S+)", text, flags=re.M):
        assert (DEPLOY.parent / source.rstrip("/")).exists(), source
