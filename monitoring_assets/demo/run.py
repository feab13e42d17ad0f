"""`monitoring-assets demo`: a model in production, monitored end to end on embedded defaults.

The home folder holds everything: the Dagster instance (`dagster/`), the MLflow store
(`mlflow/mlflow.db` and `mlflow/artifacts/`), the landing zone, the project's storage and
the config. Running the demo again reuses the registered model and the instance.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import yaml

from monitoring_assets.assets.names import TABLE_CHECKS
from monitoring_assets.config import MonitoringConfig, parse_config
from monitoring_assets.demo.data import CATEGORICAL_FEATURES, FEATURES, write_day
from monitoring_assets.demo.sensors import (
    SensorCursors,
    alert_counts,
    catch_up_sensors,
    evaluate_alert_sensor,
    logged_alert_messages,
)
from monitoring_assets.demo.train import log_and_register, train_demo_model

MODEL_NAME = "churn"
REGISTERED_MODEL = "churn-classifier"
LABEL_DELAY_DAYS = 2
SEED_TAG = "demo.seed"
WEBHOOK_ENV = "MONITORING_WEBHOOK_URL"


def demo_paths(home: Path) -> dict[str, Path]:
    return {
        "home": home,
        "dagster": home / "dagster",
        "mlflow": home / "mlflow",
        "artifacts": home / "mlflow" / "artifacts",
        "inference": home / "landing" / "inference",
        "labels": home / "landing" / "labels",
        "storage": home / "storage",
        "config": home / "monitoring.yaml",
        "summary": home / "demo-summary.json",
    }


def tracking_uri_for(home: Path) -> str:
    return f"sqlite:///{(home / 'mlflow' / 'mlflow.db').as_posix()}"


def demo_config(home: Path, start: dt.date, days: int) -> dict[str, Any]:
    paths = demo_paths(home)
    return {
        "mlflow": {"tracking_uri": tracking_uri_for(home), "artifact_location": paths["artifacts"].as_posix()},
        "storage": {"root": paths["storage"].as_posix()},
        "links": {"dagster_url": "http://127.0.0.1:3000", "mlflow_url": "http://127.0.0.1:5000"},
        "models": [{
            "name": MODEL_NAME,
            "registered_model": REGISTERED_MODEL,
            "task": "binary",
            "columns": {
                "id": "id", "timestamp": "timestamp", "prediction": "prediction", "score": "score",
                "label": "label", "latency": "latency_ms", "model_version": "model_version",
                "error": "error", "features": FEATURES, "categorical": CATEGORICAL_FEATURES,
                "segments": ["plan"],
            },
            "partitions": {"grain": "daily", "start": start.isoformat(),
                           "end": (start + dt.timedelta(days=days)).isoformat()},
            "inference": {"location": paths["inference"].as_posix()},
            "labels": {"location": paths["labels"].as_posix()},
            "drift": {"default": {"warn": 0.1, "error": 0.2}},
            "performance": {
                "accuracy": {"min_relative_change": -0.05},
                "roc_auc": {"min_absolute_change": -0.05},
            },
            "labels_policy": {"min_coverage": 0.5, "deadline_hours": 96},
            "service_level": {"p95_ms": 250, "p99_ms": 500, "max_error_rate": 0.01},
            "promotion": {
                "window_days": 4, "min_labeled_rows": 1000, "max_prediction_drift": 0.5,
                "thresholds": {"accuracy": {"min_absolute_change": 0.02}, "roc_auc": {"min_absolute_change": 0.0}},
            },
            "remediation": {
                "policy": "retrain", "consecutive_failures": 3, "cooldown_hours": 24,
                "training_function": "monitoring_assets.demo.retrain:train_on_window",
                "training_window_days": 4,
            },
        }],
        "notifications": demo_notifications(home),
        # `make ui` should show the demo's history, not launch runs for all of it.
        "sensors": {"default_running": False},
    }


def demo_notifications(home: Path) -> dict[str, Any]:
    channels: dict[str, Any] = {
        "console": {"type": "console"},
        "alerts_log": {"type": "file", "path": (home / "alerts.log").as_posix()},
    }
    if os.environ.get(WEBHOOK_ENV):
        channels["webhook"] = {"type": "webhook", "url_env": WEBHOOK_ENV}
    return {
        "channels": channels,
        "routes": [{"models": ["*"], "min_severity": "WARN", "channels": list(channels)}],
        "repeat_interval_minutes": 24 * 60,
    }


BAD_CANDIDATE_TAG = "demo.bad_candidate"


def remediate_and_gate(config: MonitoringConfig, instance: Any, cursors: SensorCursors, seed: int,
                       say: Any) -> dict[str, Any]:
    """The remediation sensor retrains after the degradation and the gate promotes the new
    version; then a deliberately bad candidate is put to the same gate and rejected."""
    from monitoring_assets.assets.factory import promotion_job_name
    from monitoring_assets.assets.promotion import training_partitions
    from monitoring_assets.promotion.window import labeled_window
    from monitoring_assets.demo.retrain import train_on_window
    from monitoring_assets.registry.registry import registry_for
    from monitoring_assets.resources import MonitoringStorage
    from monitoring_assets.sensors.remediation import remediation_sensor_name
    from monitoring_assets.wiring import code_location_tags

    model = config.models[0]
    defs, result = cursors.tick(config, remediation_sensor_name(model))
    for request in result.run_requests:
        say(f"remediation: launching {request.job_name} ({request.tags.get('monitoring/reason', '')})")
        run = defs.resolve_job_def(request.job_name).execute_in_process(
            instance=instance, tags={**request.tags, **code_location_tags()}, raise_on_error=False,
            run_config=_QUIET_CONSOLE)
        say(f"  run {run.run_id}: {'success' if run.success else 'failed'}")

    registry = registry_for(config)
    bad = [v for v in registry.versions(REGISTERED_MODEL) if v.tags.get(BAD_CANDIDATE_TAG)]
    storage = MonitoringStorage(root=config.storage.root)
    window = labeled_window(model, storage, training_partitions(model, instance)) if not bad else None
    if window is not None and window.empty:
        say("gate: too few labeled days before the evaluation window to train a second candidate")
    elif window is not None:
        version = train_on_window(window, registered_model=REGISTERED_MODEL, tracking_uri=config.mlflow.tracking_uri,
                                  features=model.columns.features, shuffle_labels_seed=seed)
        registry.tag_version(REGISTERED_MODEL, version, {BAD_CANDIDATE_TAG: "true"})
        registry.set_alias(REGISTERED_MODEL, model.candidate_alias, version)
        say(f"gate: a deliberately bad candidate (v{version}, trained on shuffled labels) goes to the gate")
        # The gate failing is the expected outcome here, so its step failure is not printed.
        run = defs.resolve_job_def(promotion_job_name(model)).execute_in_process(
            instance=instance, raise_on_error=False, tags=code_location_tags(),
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
        failed = [e.check_name for e in run.get_asset_check_evaluations() if not e.passed]
        say(f"  gate checks failed: {', '.join(failed) or 'none'}; run {'succeeded' if run.success else 'FAILED'}, "
            "champion unchanged")
    return audit_trail(registry)


def audit_trail(registry: Any) -> dict[str, Any]:
    decisions = []
    for version in registry.versions(REGISTERED_MODEL):
        tags = version.tags
        if "monitoring.decision" in tags:
            decisions.append({
                "version": str(version.version),
                "decision": tags["monitoring.decision"],
                "previous_champion": tags.get("monitoring.previous_champion"),
                "reasons": json.loads(tags.get("monitoring.rejection_reasons", "[]")),
                "metrics": json.loads(tags.get("monitoring.metrics", "{}")),
            })
    champion = registry.version_for_alias(REGISTERED_MODEL, "champion")
    return {"champion": str(champion), "decisions": decisions}


def ensure_champion(home: Path, seed: int) -> tuple[object, str]:
    """Train and register version 1 as champion, or reuse the one a previous run made."""
    from monitoring_assets.registry import ModelRegistry

    tracking_uri = tracking_uri_for(home)
    registry = ModelRegistry(tracking_uri)
    model, validation = train_demo_model(seed)
    for version in registry.versions(REGISTERED_MODEL):
        if version.tags.get(SEED_TAG) == str(seed):
            if registry.alias_version(REGISTERED_MODEL, "champion") is None:
                registry.set_alias(REGISTERED_MODEL, "champion", str(version.version))
            return model, str(version.version)
    version = log_and_register(
        tracking_uri, REGISTERED_MODEL, model, validation,
        artifact_location=(home / "mlflow" / "artifacts").resolve().as_uri(),
        tags={SEED_TAG: str(seed), "demo": "true"}, alias="champion",
    )
    return model, version


# SQLite in DAGSTER_HOME, with one event log (not one per run) so that sensors can read
# check evaluations across runs by cursor. deploy/dagster.yaml is the PostgreSQL version.
EMBEDDED_DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1  # one MLflow writer per model, without `dagster instance concurrency set`
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  cancel_timeout_seconds: 300
  max_runtime_seconds: 3600
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 60
event_log_storage:
  module: dagster.core.storage.event_log
  class: ConsolidatedSqliteEventLogStorage
  config:
    base_dir: {home}/history
python_logs:
  python_log_level: INFO  # debug lines are not stored: one event log write each (deploy/dagster.yaml)
"""


def _dagster_instance(dagster_home: Path):
    import dagster as dg

    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = dagster_home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(EMBEDDED_DAGSTER_YAML.format(home=dagster_home.as_posix()))
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return dg.DagsterInstance.get()


# The console logger at WARNING keeps the demo's output to the table; the event log has it all.
_QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def materialize_partitions(config: MonitoringConfig, instance: Any, partition_keys: list[str],
                           say: Any = None) -> dict[str, dict]:
    """Run the monitoring job of the (first) model for each partition; returns check outcomes."""
    from monitoring_assets.assets.factory import comparison_job_name, monitoring_job_name
    from monitoring_assets.health.history import plain
    from monitoring_assets.wiring import build_definitions, code_location_tags

    defs = build_definitions(config)
    model = config.models[0]
    job = defs.resolve_job_def(monitoring_job_name(model))
    outcomes: dict[str, dict] = {}
    for key in partition_keys:
        result = job.execute_in_process(
            partition_key=key, instance=instance, raise_on_error=False, run_config=_QUIET_CONSOLE,
            tags=code_location_tags(),
        )
        checks: dict[str, dict] = {}
        for evaluation in result.get_asset_check_evaluations():
            checks[evaluation.check_name] = {
                "passed": bool(evaluation.passed),
                "severity": evaluation.severity.value,
                "description": evaluation.description or "",
                "metadata": {k: plain(v) for k, v in evaluation.metadata.items()},
            }
        if say is not None:
            verdicts = " ".join(f"{name}={'ok' if c['passed'] else c['severity']}" for name, c in checks.items())
            say(f"  {key} ({len(outcomes) + 1}/{len(partition_keys)}): {verdicts}")
        outcomes[key] = {"run_id": result.run_id, "success": result.success, "checks": checks}
    defs.resolve_job_def(comparison_job_name(model)).execute_in_process(
        instance=instance, raise_on_error=True, run_config=_QUIET_CONSOLE, tags=code_location_tags(),
    )
    return outcomes


def judge_and_show_health(config: MonitoringConfig, instance: Any) -> dict[str, Any]:
    """Materialize the model's health asset, as its sensor would, and read it back."""
    from monitoring_assets.assets.health import health_job_name, model_health
    from monitoring_assets.health.status import render_table
    from monitoring_assets.wiring import build_definitions, code_location_tags

    model = config.models[0]
    build_definitions(config).resolve_job_def(health_job_name(model)).execute_in_process(
        instance=instance, raise_on_error=False, run_config=_QUIET_CONSOLE, tags=code_location_tags())
    report, outcomes = model_health(instance, model)
    return {"report": report.to_dict(), "headline": report.headline(),
            "table": render_table(outcomes, TABLE_CHECKS)}


def run_demo(home: str | Path = ".demo", days: int = 30, seed: int = 7, start: dt.date | None = None,
             rows_per_day: int = 1500, drift_day: int = 21, echo: bool = True) -> dict[str, Any]:
    home = Path(home).resolve()
    paths = demo_paths(home)
    for key in ("mlflow", "artifacts", "inference", "labels", "storage"):
        paths[key].mkdir(parents=True, exist_ok=True)
    today = dt.datetime.now(dt.timezone.utc).date()
    start = start or (today - dt.timedelta(days=days))
    now = dt.datetime.combine(start + dt.timedelta(days=days), dt.time(), tzinfo=dt.timezone.utc)

    def say(message: str) -> None:
        if echo:
            print(message, flush=True)

    say(f"demo home: {home}")
    model, version = ensure_champion(home, seed)
    say(f"champion: {REGISTERED_MODEL} version {version} (MLflow {tracking_uri_for(home)})")

    partition_keys = []
    labeled_days = 0
    for index in range(days):
        day = start + dt.timedelta(days=index)
        partition_keys.append(day.isoformat())
        labeled_days += write_day(
            model, day, index + 1, rows_per_day, drift_day, seed, paths["inference"], paths["labels"],
            now, LABEL_DELAY_DAYS, version,
        )
    say(f"landing zone: {days} days of inference logs, labels for {labeled_days} days; drift from day {drift_day}")

    raw_config = demo_config(home, start, days)
    paths["config"].write_text(yaml.safe_dump(raw_config, sort_keys=False))
    config = parse_config(raw_config, source=str(paths["config"]))

    instance = _dagster_instance(paths["dagster"])
    say(f"materializing {days} partitions into the Dagster instance at {paths['dagster']} ...")
    outcomes = materialize_partitions(config, instance, partition_keys, say)

    cursors = SensorCursors(instance, home, paths["config"])
    messages_before = logged_alert_messages(home)
    # The daemon's alert sensor would have looked while the degradation unfolded: it does so
    # here once the health is judged, before anything is done about it.
    judge_and_show_health(config, instance)
    say("")
    say("evaluating the alert sensor, as the daemon would ...")
    evaluate_alert_sensor(config, cursors, home)
    catch_up_sensors(config, cursors)

    say("")
    say("evaluating the remediation sensor and the promotion gate ...")
    promotion = remediate_and_gate(config, instance, cursors, seed, say)
    for decision in promotion["decisions"]:
        say(f"  v{decision['version']}: {decision['decision']}"
            + (f" (previous champion v{decision['previous_champion']})" if decision["previous_champion"] else "")
            + (f"; {decision['reasons'][0]}" if decision["reasons"] else ""))
    say(f"  champion is now v{promotion['champion']}")

    health = judge_and_show_health(config, instance)
    say("")
    say("evaluating the alert sensor again: lifecycle notices and resolutions ...")
    messages_after = evaluate_alert_sensor(config, cursors, home)
    alerts = alert_counts(home, messages_before)
    say(f"alerts: {alerts['messages']} new message(s) per channel this run ({alerts['firing']} incident(s) "
        f"opened, {alerts['repeat']} repeated, {alerts['resolved']} resolved, {alerts['notices']} notice(s)); "
        f"{messages_after} in {home / 'alerts.log'}")
    cursors.save(say)

    from monitoring_assets.assets.report import report_path
    from monitoring_assets.metrics_store.store import store_url

    summary = {
        "model": MODEL_NAME,
        "registered_model": REGISTERED_MODEL,
        "champion_version": version,
        "dagster_home": str(paths["dagster"]),
        "mlflow_tracking_uri": tracking_uri_for(home),
        "config": str(paths["config"]),
        "drift_day": partition_keys[drift_day - 1] if drift_day <= days else None,
        "alerts": alerts | {"log": str(home / "alerts.log")},
        "promotion": promotion,
        "health": health["report"],
        "report": report_path(config.storage.root, MODEL_NAME),
        "metrics_url": store_url(config.storage.root, config.storage.metrics_url),
        "partitions": {key: {"run_id": o["run_id"], "checks": o["checks"]} for key, o in outcomes.items()},
    }
    paths["summary"].write_text(json.dumps(summary, indent=2, default=str))
    say("")
    say(health["headline"])
    say(health["table"])
    say("")
    say(f"report: {summary['report']}")
    say(f"summary: {paths['summary']}")
    say("look at it: make ui  (Dagster on http://127.0.0.1:3000, MLflow on http://127.0.0.1:5000)")
    return summary
