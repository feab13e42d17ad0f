"""The alert sensor: check evaluations, failed runs, lifecycle events and failing sensor ticks,
read from the instance, become incidents and notices routed to channels. Its state (the alert
book) lives in the sensor cursor, so a daemon restart neither loses nor repeats an alert; the
cursor is saved on every tick, whatever the channels did."""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg

from monitoring_assets.alerts.book import AlertBook, Evaluation, Notice
from monitoring_assets.alerts.channels import (
    ALERTMANAGER_RESEND_S,
    AlertmanagerChannel,
    Channel,
    ConsoleChannel,
    DeliveryError,
    EmailChannel,
    FileChannel,
    SlackChannel,
    WebhookChannel,
)
from monitoring_assets.alerts.delivery import deliver, timed
from monitoring_assets.alerts.evaluations import breaches_from, is_judged
from monitoring_assets.alerts.messages import mlflow_link, mlflow_run_link, render, run_link
from monitoring_assets.alerts.routing import channels_for
from monitoring_assets.assets.common import finite_or_none
from monitoring_assets.assets.names import FRESHNESS_CHECK, GATE_CHECKS, HEALTH_CHECK, LIFECYCLE, TABLE_CHECKS
from monitoring_assets.config import MonitoringConfig
from monitoring_assets.config.notifications import ChannelConfig

ALERT_SENSOR_NAME = "monitoring_alert_sensor"
PROJECT = "monitoring_assets"
_PAGE = 500
CONSECUTIVE_TICK_FAILURES = 3
LINK_LOOKUP_S = 5.0
UNPARTITIONED = "unpartitioned"


def _now() -> float:
    return time.time()


def build_channel(name: str, config: ChannelConfig) -> Channel:
    """Secrets are read here, at delivery time, through Dagster's EnvVar."""
    if config.type == "console":
        return ConsoleChannel(name)
    if config.type == "file":
        return FileChannel(name, str(config.path))
    if config.type in ("slack", "webhook", "alertmanager"):
        url = dg.EnvVar(str(config.url_env)).get_value()
        if config.type == "alertmanager":
            return AlertmanagerChannel(name, url, config.timeout_seconds, config.url_env, clock=_now)
        cls = SlackChannel if config.type == "slack" else WebhookChannel
        return cls(name, url, config.timeout_seconds, config.url_env)
    password = dg.EnvVar(config.password_env).get_value() if config.password_env else None
    return EmailChannel(
        name, host=str(config.smtp_host), port=config.smtp_port, starttls=config.starttls,
        verify_tls=config.verify_tls, username=config.username, password=password,
        sender=str(config.sender), recipients=config.recipients, timeout=config.timeout_seconds,
        password_env=config.password_env,
    )


def unset_secrets(config: MonitoringConfig) -> list[str]:
    """Each channel whose secret's environment variable is not set, by channel and variable
    name (never a value): what `monitoring-assets status` reports before an alert is lost."""
    missing = []
    for name, channel in config.notifications.channels.items():
        for variable in (channel.url_env, channel.password_env):
            if variable and dg.EnvVar(variable).get_value() is None:
                missing.append(f"channel {name}: ${variable} is not set")
    return missing


_NO_ANSWER = object()


def monitoring_run_link(config: MonitoringConfig, registry: Any, registered_model: str,
                        version: str | None) -> Any:
    """The version's monitoring run charts in MLflow; None when there is none (yet); _NO_ANSWER
    when MLflow did not answer in time. A missing link never holds an alert back."""
    if not version:
        return None

    def lookup():
        return registry.monitoring_run_location(registered_model, version)

    location = timed(lookup, LINK_LOOKUP_S, default=_NO_ANSWER)
    if location is None or location is _NO_ANSWER:
        return location
    return mlflow_run_link(config.links.mlflow_url, *location)


def _plain(value: Any) -> Any:
    raw = getattr(value, "value", value)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return finite_or_none(raw)
    if isinstance(raw, (str, bool, list, dict, type(None))):
        return raw
    return str(raw)


_MARKDOWN_ESCAPE = re.compile(r"\\([\\|\[\]()!<>*_`])")


def _partition_of(instance: dg.DagsterInstance, run_id: str, cache: dict) -> str:
    if run_id not in cache:
        run = instance.get_run_by_id(run_id)
        cache[run_id] = (run.tags.get("dagster/partition") if run else None) or UNPARTITIONED
    return cache[run_id]


def read_check_evaluations(instance: dg.DagsterInstance, after: int, config: MonitoringConfig,
                           models: set[str] | None = None) -> tuple[list[Evaluation], int]:
    """Check evaluations of the configured models stored after `after`, and the new cursor."""
    wanted = models if models is not None else {m.name for m in config.models}
    directions = {m.name: {k: v.greater_is_better for k, v in m.performance.items()} for m in config.models}
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
    evaluations, partitions = [], {}
    for record in records:
        after = max(after, record.storage_id)
        entry = record.event_log_entry
        data = entry.dagster_event.asset_check_evaluation_data
        model = data.asset_key.path[0]
        if model not in wanted or data.check_name in GATE_CHECKS:
            continue  # the gate judges candidates: its verdict reaches on-call as a lifecycle notice
        partition = data.partition or (_partition_of(instance, entry.run_id, partitions) if entry.run_id
                                       else UNPARTITIONED)
        metadata = {k: _plain(v) for k, v in data.metadata.items()}
        severity = data.severity.value
        version = metadata.get("version") or None
        greater = directions.get(model, {})
        evaluations.append(Evaluation(
            model=model, check=data.check_name, partition=partition, asset=data.asset_key.to_user_string(),
            severity=severity, passed=bool(data.passed), judged=is_judged(metadata),
            version=str(version) if version else None,
            breaches=breaches_from(data.check_name, bool(data.passed), severity, metadata,
                                   lambda metric: greater.get(metric, True)),
            # Descriptions are Markdown-escaped for the UI; messages are plain text.
            description=_MARKDOWN_ESCAPE.sub(r"\1", data.description or ""), run_id=entry.run_id or None,
            observed_at=entry.timestamp,
        ))
    return evaluations, after


def root_message(error: Any) -> str:
    """The innermost cause of a serialized error, on one line: Dagster wraps a step's or a
    sensor's own exception in its own ("Error occurred while executing op ...")."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    message = getattr(error, "message", None) or ""
    return " ".join(message.strip().split())[:300]


def _step_error(instance: dg.DagsterInstance, run_id: str) -> str:
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        message = root_message(getattr(getattr(entry.dagster_event, "event_specific_data", None), "error", None))
        if message:
            return message
    return ""


def read_run_failures(instance: dg.DagsterInstance, cursor: str | None, jobs: Mapping[str, str],
                      dagster_url: str) -> tuple[list[Notice], str | None]:
    notices = []
    result = instance.fetch_run_status_changes(
        dg.DagsterEventType.RUN_FAILURE, limit=_PAGE, cursor=cursor, ascending=True
    )
    for record in result.records:
        entry = record.event_log_entry
        model = jobs.get(entry.job_name or "")
        if model is None:
            continue
        run = instance.get_run_by_id(entry.run_id)
        partition = run.tags.get("dagster/partition") if run else None
        cause = _step_error(instance, entry.run_id) or (entry.dagster_event.message if entry.dagster_event else "")
        notices.append(Notice(
            key=f"run:{entry.run_id}", model=model, event="run_failed", severity="ERROR",
            summary=f"{model}: run of {entry.job_name}" + (f" for {partition}" if partition else "")
            + " failed: the monitor itself is broken, so this model is not being judged",
            details=(cause or "")[:400], links={"Dagster": run_link(dagster_url, entry.run_id)},
            at=entry.timestamp,
        ))
    return notices, result.cursor or cursor


def read_lifecycle(instance: dg.DagsterInstance, model: str, cursor: str | None,
                   ) -> tuple[list[tuple[int, dict[str, Any], float]], str | None]:
    result = instance.fetch_observations(dg.AssetKey([model, LIFECYCLE]), limit=_PAGE, cursor=cursor, ascending=True)
    events = []
    for record in result.records:
        observation = record.asset_observation
        if observation is None:
            continue
        events.append((record.storage_id, {k: _plain(v) for k, v in observation.metadata.items()},
                       record.timestamp))
    return events, result.cursor or cursor


def sensor_tick_evaluations(instance: dg.DagsterInstance, watched: Mapping[str, str]) -> list[Evaluation]:
    """A project sensor whose last CONSECUTIVE_TICK_FAILURES ticks raised is failing; one whose
    newest finished tick did not raise is passing. Only sensors the daemon ran have ticks."""
    evaluations = []
    if getattr(instance, "schedule_storage", None) is None:
        return evaluations  # an ephemeral instance keeps no ticks
    for state in instance.all_instigator_state():
        name = getattr(state, "instigator_name", None)
        if name not in watched or getattr(getattr(state, "instigator_type", None), "value", "") != "SENSOR":
            continue
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=CONSECUTIVE_TICK_FAILURES + 2)
        finished = [t for t in ticks if t.status.value in ("SUCCESS", "SKIPPED", "FAILURE")][:CONSECUTIVE_TICK_FAILURES]
        if not finished:
            continue
        failing = len(finished) == CONSECUTIVE_TICK_FAILURES and all(t.status.value == "FAILURE" for t in finished)
        if not failing and finished[0].status.value == "FAILURE":
            continue  # raising, but not yet three times in a row
        error = root_message(getattr(finished[0], "error", None))
        evaluations.append(Evaluation(
            model=watched[name], check=name, partition=UNPARTITIONED, asset=f"sensor {name}", severity="ERROR",
            passed=not failing,
            description=f"{CONSECUTIVE_TICK_FAILURES} ticks in a row raised: {error}",
        ))
    return evaluations


def _notice_from_lifecycle(model: str, storage_id: int, metadata: dict[str, Any], at: float, config: MonitoringConfig,
                           registered_model: str) -> Notice:
    version = metadata.get("version") or None
    # `time` selects the event itself in the asset's Events tab (milliseconds, as Dagster keeps them).
    links = {"Dagster": f"{config.links.dagster_url.rstrip('/')}/assets/{model}/{LIFECYCLE}"
                        f"?view=events&time={int(at * 1000)}"}
    links["MLflow"] = mlflow_link(config.links.mlflow_url, registered_model, version)
    return Notice(key=f"life:{storage_id}", model=model, event=str(metadata.get("event") or "remediation"),
                  severity=str(metadata.get("severity") or "INFO"), summary=str(metadata.get("summary") or ""),
                  details=str(metadata.get("details") or ""), links=links, at=at)


def existing_checks(config: MonitoringConfig, watched: Mapping[str, str]) -> Callable[[str, str], bool]:
    known = set(TABLE_CHECKS) | {HEALTH_CHECK, FRESHNESS_CHECK}
    models = {m.name for m in config.models}

    def exists(model: str, check: str) -> bool:
        if check in watched:
            return True
        return model in models and check in known

    return exists


def build_alert_sensor(config: MonitoringConfig, job_models: Mapping[str, str],
                       watched_sensors: Mapping[str, str] | None = None,
                       channel_factory: Callable[[str, ChannelConfig], Channel] = build_channel) -> dg.SensorDefinition:
    """`job_models` maps the project's jobs to their model, for failed-run notices;
    `watched_sensors` maps the project's other sensors to their model (or the project)."""
    notifications = config.notifications
    models = {m.name: m for m in config.models}
    watched = dict(watched_sensors or {})

    def route(model: str, severity: str) -> list[str]:
        if severity == "WARN" and not notifications.alert_on_warn:
            return []
        return channels_for(model, severity, notifications.routes)

    def interval_for(channel: str) -> float:
        settings = notifications.channels.get(channel)
        if settings is not None and settings.type == "alertmanager":
            return ALERTMANAGER_RESEND_S
        return notifications.repeat_interval_minutes * 60

    @dg.sensor(
        name=ALERT_SENSOR_NAME,
        minimum_interval_seconds=config.sensors.alert_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING if config.sensors.default_running else dg.DefaultSensorStatus.STOPPED,
        description="Turns failing asset checks into incidents per (model, check, version) and routes "
        "them to the configured channels: once when they open, again after the repeat interval with "
        "the partitions added since, once when they resolve. Lifecycle events and failures of the "
        "monitor itself (failed runs, sensors raising) are sent once each.",
    )
    def monitoring_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {}
        if state.get("v") != 2:
            state = {"checks": state.get("events", 0), "runs": state.get("runs")}  # an earlier format
        book = AlertBook.from_dict(state.get("book"))
        now = _now()
        evaluations, checks_after = read_check_evaluations(context.instance, int(state.get("checks") or 0), config)
        for evaluation in evaluations:
            book.observe(evaluation, route, now)
        lifecycle_cursors: dict[str, str | None] = dict(state.get("lifecycle") or {})
        for name, model in models.items():
            events, lifecycle_cursors[name] = read_lifecycle(context.instance, name, lifecycle_cursors.get(name))
            for storage_id, metadata, at in events:
                if metadata.get("event") in ("promoted", "rolled_back") and metadata.get("version"):
                    how = "promotion" if metadata["event"] == "promoted" else "rollback"
                    book.retire_version(name, str(metadata["version"]), how, route, now)
                book.notify(_notice_from_lifecycle(name, storage_id, metadata, at, config, model.registered_model),
                            route)
        notices, runs_cursor = read_run_failures(context.instance, state.get("runs"), job_models,
                                                 config.links.dagster_url)
        for notice in notices:
            book.notify(notice, route)
        for evaluation in sensor_tick_evaluations(context.instance, watched):
            book.observe(evaluation, route, now)
        book.retire_checks(existing_checks(config, watched), route, now)
        book.repeat_due(route, now, interval_for)

        registry = None  # built on the first link a message needs: one MLflow client per tick
        run_links: dict[tuple[str, str | None], str | None] = {}
        mlflow_silent = False  # after one lookup without an answer, the tick asks MLflow no more
        messages: dict[int, dict[str, Any]] = {}
        outboxes = []
        for outbox in book.outboxes(now):
            if outbox.channel not in notifications.channels:
                book.delivered(outbox, now)  # the channel was removed from the config
                continue
            model = models.get(outbox.model)
            registered = model.registered_model if model else outbox.model

            def run_url_for(version: str | None, registered: str = registered) -> str | None:
                nonlocal registry, mlflow_silent
                if mlflow_silent:
                    return None
                if (registered, version) not in run_links:
                    if registry is None:
                        from monitoring_assets.registry.registry import registry_for

                        registry = registry_for(config)
                    link = monitoring_run_link(config, registry, registered, version)
                    if link is _NO_ANSWER:
                        context.log.warning(f"MLflow did not answer within {LINK_LOOKUP_S:.0f} s: this tick's "
                                            "messages go without their MLflow chart links")
                        mlflow_silent, link = True, None
                    run_links[(registered, version)] = link
                return run_links[(registered, version)]

            messages[id(outbox)] = render(outbox, registered, config.links.dagster_url, config.links.mlflow_url,
                                          run_url_for if model else (lambda version: None))
            outboxes.append(outbox)

        def send(outbox, seconds_left: float) -> None:
            try:
                channel = channel_factory(outbox.channel, notifications.channels[outbox.channel])
                channel.send(messages[id(outbox)], seconds_left)
            except DeliveryError:
                raise
            except Exception as exc:  # noqa: BLE001 - the text may hold a secret: name the kind only
                raise DeliveryError(f"{outbox.channel}: {type(exc).__name__}") from None

        started = time.monotonic()
        outcomes = deliver(outboxes, send, notifications.delivery_budget_seconds)
        sent = failed = waiting = 0
        for outcome in outcomes:
            if outcome.error is None:
                book.delivered(outcome.outbox, now)
                sent += 1
            elif not outcome.attempted:
                waiting += 1
            else:
                failed += 1
                book.failed(outcome.outbox, outcome.error, now, notifications.retry_initial_seconds,
                            notifications.retry_max_seconds)
                context.log.warning(f"alert delivery failed, will retry: {outcome.error}")
        book.prune(now)
        if outcomes:
            context.log.info(f"alerts: {sent} message(s) delivered, {failed} failed, {waiting} left for the next "
                             f"tick, {book.pending_count()} pending ({time.monotonic() - started:.1f} s)")
        cursor = {"v": 2, "checks": checks_after, "runs": runs_cursor, "lifecycle": lifecycle_cursors,
                  "book": book.to_dict()}
        return dg.SensorResult(cursor=json.dumps(cursor, separators=(",", ":"), sort_keys=True))

    return monitoring_alert_sensor
