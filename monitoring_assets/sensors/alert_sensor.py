"""The alert sensor: asset check evaluations and run failures, read from the instance by
cursor, become alerts routed to channels. Its state (the alert book) lives in the cursor, so
a daemon restart neither loses nor repeats an alert."""

import json
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg

from monitoring_assets.alerts.book import Alert, AlertBook
from monitoring_assets.alerts.channels import (
    Channel,
    ConsoleChannel,
    DeliveryError,
    EmailChannel,
    FileChannel,
    SlackChannel,
    WebhookChannel,
)
from monitoring_assets.alerts.messages import mlflow_run_link, render
from monitoring_assets.alerts.routing import channels_for
from monitoring_assets.assets.common import finite_or_none
from monitoring_assets.config import MonitoringConfig
from monitoring_assets.config.models import ChannelConfig

ALERT_SENSOR_NAME = "monitoring_alert_sensor"
RUN_FAILURE_CHECK = "run_failure"
_PAGE = 500


def _now() -> float:
    return time.time()


def build_channel(name: str, config: ChannelConfig) -> Channel:
    """Secrets are read here, at delivery time, through Dagster's EnvVar."""
    if config.type == "console":
        return ConsoleChannel(name)
    if config.type == "file":
        return FileChannel(name, str(config.path))
    if config.type in ("slack", "webhook"):
        url = dg.EnvVar(str(config.url_env)).get_value()
        cls = SlackChannel if config.type == "slack" else WebhookChannel
        return cls(name, url, config.timeout_seconds)
    password = dg.EnvVar(config.password_env).get_value() if config.password_env else None
    return EmailChannel(
        name, host=str(config.smtp_host), port=config.smtp_port, starttls=config.starttls,
        verify_tls=config.verify_tls, username=config.username, password=password,
        sender=str(config.sender), recipients=config.recipients, timeout=config.timeout_seconds,
    )


def monitoring_run_link(config: MonitoringConfig, registry: Any, registered_model: str, version: str | None,
                        log: Any) -> str | None:
    """The version's monitoring run charts in MLflow, or None when there is none (yet) or MLflow
    cannot be reached: a missing link never holds an alert back."""
    if not version:
        return None
    try:
        location = registry.monitoring_run_location(registered_model, version)
    except Exception as exc:  # noqa: BLE001 - an unreachable MLflow costs the link, not the alert
        log.warning(f"no MLflow run link for {registered_model} v{version}: {type(exc).__name__}")
        return None
    return mlflow_run_link(config.links.mlflow_url, *location) if location else None


def _metadata_value(metadata: Mapping, key: str):
    value = metadata.get(key)
    raw = getattr(value, "value", value)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return finite_or_none(raw)
    return raw if isinstance(raw, (str, type(None))) else str(raw)


def _partition_of(instance: dg.DagsterInstance, run_id: str, cache: dict) -> str:
    if run_id not in cache:
        run = instance.get_run_by_id(run_id)
        cache[run_id] = (run.tags.get("dagster/partition") if run else None) or "unpartitioned"
    return cache[run_id]


def read_check_alerts(instance: dg.DagsterInstance, after: int, models: set[str]) -> tuple[list[Alert], int]:
    """Check evaluations of the given models stored after `after`, as alerts, and the new cursor."""
    with warnings.catch_warnings():
        # The check-evaluation query has no successor API yet in Dagster 1.13.
        warnings.simplefilter("ignore")
        try:
            records = instance.get_event_records(
                dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=after),
                limit=_PAGE, ascending=True,
            )
        except Exception as exc:
            if "run-sharded" not in str(exc):
                raise
            raise RuntimeError(
                "the alert sensor reads check evaluations across runs, which the default per-run "
                "SQLite event log cannot do: use PostgreSQL or ConsolidatedSqliteEventLogStorage "
                "in dagster.yaml (see deploy/dagster.yaml)"
            ) from None
    alerts, partitions = [], {}
    for record in records:
        after = max(after, record.storage_id)
        entry = record.event_log_entry
        evaluation = entry.dagster_event.asset_check_evaluation_data
        model = evaluation.asset_key.path[0]
        if model not in models:
            continue
        partition = evaluation.partition or _partition_of(instance, entry.run_id, partitions)
        metadata = evaluation.metadata
        alerts.append(Alert(
            key=Alert.make_key(model, evaluation.check_name, partition),
            model=model, check=evaluation.check_name, partition=partition,
            asset=evaluation.asset_key.to_user_string(), severity=evaluation.severity.value,
            passed=bool(evaluation.passed), description=evaluation.description or "",
            version=_metadata_value(metadata, "version"), observed=_metadata_value(metadata, "observed"),
            threshold=_metadata_value(metadata, "threshold"), baseline=_metadata_value(metadata, "baseline"),
            run_id=entry.run_id, observed_at=entry.timestamp, status=_metadata_value(metadata, "status"),
        ))
    return alerts, after


def _run_alerts(instance: dg.DagsterInstance, cursor: str | None, jobs: Mapping[str, str]) -> tuple[list[Alert], str | None]:
    alerts = []
    result = instance.fetch_run_status_changes(
        dg.DagsterEventType.RUN_FAILURE, limit=_PAGE, cursor=cursor, ascending=True
    )
    for record in result.records:
        entry = record.event_log_entry
        model = jobs.get(entry.job_name or "")
        if model is None:
            continue
        run = instance.get_run_by_id(entry.run_id)
        partition = (run.tags.get("dagster/partition") if run else None) or "unpartitioned"
        message = entry.dagster_event.message if entry.dagster_event else ""
        alerts.append(Alert(
            key=Alert.make_key(model, RUN_FAILURE_CHECK, partition), model=model, check=RUN_FAILURE_CHECK,
            partition=partition, asset=f"{model}/{entry.job_name}", severity="ERROR", passed=False,
            description=f"run {entry.run_id} of {entry.job_name} failed: {(message or '')[:300]}",
            run_id=entry.run_id, observed_at=entry.timestamp,
        ))
    return alerts, result.cursor or cursor


def notify_channels(config: MonitoringConfig, model_name: str, severity: str, title: str, text: str,
                    log: object, channel_factory: Callable[[str, ChannelConfig], Channel] = build_channel) -> int:
    """One-off notices (remediation actions): sent once to the routed channels, failures logged."""
    notifications = config.notifications
    sent = 0
    for name in channels_for(model_name, severity, notifications.routes):
        message = {"source": "monitoring_assets", "version": 1, "model": model_name, "channel": name,
                   "title": title, "text": f"{title}\n{text}", "alerts": []}
        try:
            channel_factory(name, notifications.channels[name]).send(message)
            sent += 1
        except DeliveryError as exc:
            log.warning(f"notice delivery failed: {exc}")  # type: ignore[attr-defined]
    return sent


def build_alert_sensor(config: MonitoringConfig, job_models: Mapping[str, str],
                       channel_factory: Callable[[str, ChannelConfig], Channel] = build_channel) -> dg.SensorDefinition:
    """`job_models` maps the monitored jobs to their model, for run-failure alerts."""
    notifications = config.notifications
    models = {m.name: m for m in config.models}

    def route(alert: Alert) -> list[str]:
        if alert.severity == "WARN" and not notifications.alert_on_warn:
            return []
        return channels_for(alert.model, alert.severity, notifications.routes)

    @dg.sensor(
        name=ALERT_SENSOR_NAME,
        minimum_interval_seconds=config.sensors.alert_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING if config.sensors.default_running else dg.DefaultSensorStatus.STOPPED,
        description="Routes failing asset checks and failed runs of the monitored models to the "
        "configured channels: once on failure, again after the repeat interval, once when resolved.",
    )
    def monitoring_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {}
        book = AlertBook.from_json(state.get("book"))
        now = _now()
        check_alerts, events_after = read_check_alerts(context.instance, int(state.get("events", 0)), set(models))
        run_alerts, runs_cursor = _run_alerts(context.instance, state.get("runs"), job_models)
        for alert in check_alerts:
            book.observe(alert, route, now)
        for alert in run_alerts:
            book.observe(alert, route, now, one_shot=True)
        book.repeat_due(route, now, notifications.repeat_interval_minutes * 60)
        sent, failed = 0, 0
        run_links: dict[tuple[str, str | None], str | None] = {}
        registry = None  # built on the first link a message needs: one MLflow client per tick
        for outbox in book.outboxes(now):
            settings = notifications.channels[outbox.channel]
            model = models.get(outbox.model)
            registered = model.registered_model if model else outbox.model

            def run_url_for(version: str | None, registered: str = registered) -> str | None:
                nonlocal registry
                if (registered, version) not in run_links:
                    if registry is None:
                        from monitoring_assets.registry.registry import registry_for

                        registry = registry_for(config)
                    run_links[(registered, version)] = monitoring_run_link(config, registry, registered, version,
                                                                           context.log)
                return run_links[(registered, version)]

            message = render(outbox, registered, config.links.dagster_url, config.links.mlflow_url, run_url_for)
            try:
                channel_factory(outbox.channel, settings).send(message)
            except DeliveryError as exc:
                failed += 1
                book.failed(outbox, str(exc), now, notifications.retry_initial_seconds, notifications.retry_max_seconds)
                context.log.warning(f"alert delivery failed, will retry: {exc}")
                continue
            book.delivered(outbox)
            sent += 1
        book.prune(now)
        if sent or failed:
            context.log.info(f"alerts: {sent} message(s) delivered, {failed} failed, {book.pending_count()} pending")
        cursor = json.dumps({"events": events_after, "runs": runs_cursor, "book": book.to_json()})
        return dg.SensorResult(cursor=cursor)

    return monitoring_alert_sensor
