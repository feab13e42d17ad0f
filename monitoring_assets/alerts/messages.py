"""What a notification says: a text for people and a documented JSON payload for machines.

Webhook payload (version 1):
{
  "source": "monitoring_assets", "version": 1, "model": "churn", "channel": "ops",
  "title": "...", "text": "...",
  "alerts": [{"kind": "firing|repeat|resolved", "status": "firing|resolved", "key": "...",
              "model": "...", "registered_model": "...", "model_version": "...",
              "partition": "...", "check": "...", "asset": "...", "severity": "WARN|ERROR",
              "observed": ..., "threshold": ..., "baseline": ..., "description": "...",
              "dagster_url": "...", "dagster_check_url": "...", "dagster_partition_url": "...",
              "dagster_run_url": "...",
              "mlflow_url": "...", "mlflow_run_url": "...", "run_id": "...", "first_fired_at": ...}]
}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from monitoring_assets.alerts.book import AlertEntry, Delivery, Outbox


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "n/a" if value is None else str(value)


UNPARTITIONED = "unpartitioned"


def evaluation_link(base: str, run_id: str) -> str:
    """The run that judged the partition, showing its check evaluations: the header names the
    partition and the failed check is marked failed. Dagster 1.13 keeps a check page's partition
    in page state, not in the URL, so this is the one URL that lands on a partition's verdict."""
    return f"{base.rstrip('/')}/runs/{quote(run_id)}?logs={quote('type:ASSET_CHECK_EVALUATION')}"


def check_link(base: str, asset: str, check: str) -> str:
    """The check's page: Failed in the check list, and a Partitions tab that marks each partition."""
    path = "/".join(quote(part) for part in asset.split("/"))
    return f"{base.rstrip('/')}/assets/{path}?view=checks&checkDetail={quote(check)}"


def partition_link(base: str, asset: str, partition: str) -> str:
    path = "/".join(quote(part) for part in asset.split("/"))
    return f"{base.rstrip('/')}/assets/{path}?view=partitions&partition={quote(partition)}"


def mlflow_link(base: str, registered_model: str, version: str | None) -> str:
    if not version:
        return f"{base.rstrip('/')}/#/models/{quote(registered_model)}"
    return f"{base.rstrip('/')}/#/models/{quote(registered_model)}/versions/{quote(str(version))}"


def _dagster_url(alert: Any, base: str) -> str:
    if alert.check == "run_failure" and alert.run_id:
        return f"{base.rstrip('/')}/runs/{quote(alert.run_id)}"
    if alert.run_id:
        return evaluation_link(base, alert.run_id)
    return check_link(base, alert.asset, alert.check)


def mlflow_run_link(base: str, experiment_id: str, run_id: str) -> str:
    """The monitoring run's metric charts: one point per partition, over time."""
    return f"{base.rstrip('/')}/#/experiments/{quote(experiment_id)}/runs/{quote(run_id)}/model-metrics"


def alert_record(entry: AlertEntry, delivery: Delivery, registered_model: str,
                 dagster_url: str, mlflow_url: str, mlflow_run_url: str | None = None) -> dict[str, Any]:
    alert = entry.alert
    return {
        "kind": delivery.kind,
        "status": entry.status,
        "key": alert.key,
        "model": alert.model,
        "registered_model": registered_model,
        "model_version": alert.version,
        "partition": alert.partition,
        "check": alert.check,
        "asset": alert.asset,
        "severity": alert.severity,
        "observed": alert.observed,
        "threshold": alert.threshold,
        "baseline": alert.baseline,
        "description": alert.description,
        "dagster_url": _dagster_url(alert, dagster_url),
        "dagster_check_url": (None if alert.check == "run_failure"
                              else check_link(dagster_url, alert.asset, alert.check)),
        "dagster_partition_url": (None if alert.partition == UNPARTITIONED or alert.check == "run_failure"
                                  else partition_link(dagster_url, alert.asset, alert.partition)),
        "dagster_run_url": f"{dagster_url.rstrip('/')}/runs/{alert.run_id}" if alert.run_id else None,
        "mlflow_url": mlflow_link(mlflow_url, registered_model, alert.version),
        "mlflow_run_url": mlflow_run_url,
        "run_id": alert.run_id,
        "first_fired_at": dt.datetime.fromtimestamp(entry.first_fired_at, dt.timezone.utc).isoformat(),
    }


def render(outbox: Outbox, registered_model: str, dagster_url: str, mlflow_url: str,
           run_url_for: Callable[[str | None], str | None] = lambda version: None) -> dict[str, Any]:
    """`run_url_for(version)`: the link to that version's monitoring run charts, if known."""
    records = [alert_record(e, d, registered_model, dagster_url, mlflow_url, run_url_for(e.alert.version))
               for e, d in outbox.items]
    firing = [r for r in records if r["kind"] != "resolved"]
    resolved = [r for r in records if r["kind"] == "resolved"]
    worst = "ERROR" if any(r["severity"] == "ERROR" for r in firing) else ("WARN" if firing else "RESOLVED")
    parts = []
    if firing:
        parts.append(f"{len(firing)} failing")
    if resolved:
        parts.append(f"{len(resolved)} resolved")
    title = f"[{worst}] {outbox.model} ({registered_model}): {', '.join(parts)}"
    lines = [title]
    for r in records:
        label = {"firing": "FIRING", "repeat": "STILL FIRING", "resolved": "RESOLVED"}[r["kind"]]
        lines.append(
            f"- {label} {r['severity']} {r['check']} on {r['asset']}"
            + ("" if r["partition"] == UNPARTITIONED else f" partition {r['partition']}") + " "
            f"(model version {r['model_version'] or 'n/a'}): observed {_fmt(r['observed'])}, "
            f"threshold {_fmt(r['threshold'])}, baseline {_fmt(r['baseline'])}. {r['description']}"
        )
        lines.append(f"  Dagster: {r['dagster_url']}  MLflow: {r['mlflow_url']}"
                     + (f"  Charts: {r['mlflow_run_url']}" if r["mlflow_run_url"] else ""))
    return {
        "source": "monitoring_assets",
        "version": 1,
        "model": outbox.model,
        "channel": outbox.channel,
        "title": title,
        "text": "\n".join(lines),
        "alerts": records,
    }


def slack_payload(message: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook shape (also accepted by Mattermost and Rocket.Chat)."""
    return {
        "text": message["title"],
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message["title"][:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": message["text"][:2900]}},
        ],
    }
