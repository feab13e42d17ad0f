"""What a notification says: a summary line first, details after, and a documented JSON payload.

Webhook payload (version 2), one per message:
{
  "source": "monitoring_assets", "version": 2, "model": "churn", "channel": "ops",
  "title": "<the summary line>", "text": "<summary, details and links>",
  "notice": null | {"event": "promoted|rejected|rolled_back|retrain_started|retrain_finished|
                              remediation|run_failed", "summary": "...", "details": "...", "links": {...}},
  "alerts": [{"kind": "firing|repeat|resolved", "status": "firing|resolved", "key": "model|check|version",
              "summary": "...", "model": "...", "registered_model": "...", "model_version": "...",
              "check": "...", "asset": "...", "severity": "WARN|ERROR",
              "since": "<first failing partition>", "partition": "<newest failing partition>",
              "partitions": [...], "partition_count": N, "new_partitions": [...],
              "metric": "<worst metric>", "observed": ..., "threshold": ..., "baseline": ...,
              "failed_metrics": [{"metric", "observed", "threshold", "baseline", "comparison", "partition"}],
              "reason": "<why it resolved>", "description": "...",
              "dagster_url": "...", "dagster_check_url": "...", "dagster_partition_url": "...",
              "dagster_run_url": "...", "mlflow_url": "...", "mlflow_run_url": "...", "run_id": "...",
              "first_fired_at": "..."}]
}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from monitoring_assets.alerts.book import Delivery, Incident, Outbox

UNPARTITIONED = "unpartitioned"
PAYLOAD_VERSION = 2
LISTED_IN_TEXT = 10


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "n/a" if value is None else str(value)


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat().replace("+00:00", "Z")


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


def run_link(base: str, run_id: str) -> str:
    return f"{base.rstrip('/')}/runs/{quote(run_id)}"


def mlflow_link(base: str, registered_model: str, version: str | None) -> str:
    if not version:
        return f"{base.rstrip('/')}/#/models/{quote(registered_model)}"
    return f"{base.rstrip('/')}/#/models/{quote(registered_model)}/versions/{quote(str(version))}"


def mlflow_run_link(base: str, experiment_id: str, run_id: str) -> str:
    """The monitoring run's metric charts: one point per partition, over time."""
    return f"{base.rstrip('/')}/#/experiments/{quote(experiment_id)}/runs/{quote(run_id)}/model-metrics"


def _subject(incident: Incident) -> str:
    return f"{incident.model} v{incident.version}" if incident.version else incident.model


def _partitions_phrase(incident: Incident) -> str:
    if incident.failing_count <= 1 and incident.since == UNPARTITIONED:
        return ""
    count = incident.failing_count
    return f" since {incident.since}, {count} partition{'s' if count != 1 else ''}"


def _breach_phrase(breach) -> str:
    text = f"{breach.metric} {fmt(breach.observed)} {breach.comparison} {fmt(breach.threshold)}"
    if isinstance(breach.baseline, (int, float)) and not isinstance(breach.baseline, bool):
        text += f" (baseline {fmt(breach.baseline)})"
    return text


def incident_summary(incident: Incident, delivery: Delivery | None = None) -> str:
    """`[ERROR] churn v1: accuracy 0.32 < 0.68 (baseline 0.715) since 2026-11-17, 8 partitions`"""
    subject = _subject(incident)
    if delivery is not None and delivery.kind == "resolved":
        return f"[RESOLVED] {subject}: {incident.check}: {incident.reason}"
    ranked = [b for b in sorted(incident.breaches.values(), key=lambda b: -b.margin())
              if b.observed is not None and b.threshold is not None]
    if ranked:
        what = ", ".join(_breach_phrase(b) for b in ranked[:2])
        if len(ranked) > 2:
            what += f" and {len(ranked) - 2} more metrics"
    else:
        what = f"{incident.check} failed" + (f": {incident.description[:160]}" if incident.description else "")
    line = f"[{incident.severity}] {subject}: {what}{_partitions_phrase(incident)}"
    if delivery is not None and delivery.kind == "repeat":
        new = delivery.new_count
        line = line.replace(f"[{incident.severity}] ", f"[{incident.severity}] still failing: ", 1)
        line += f" ({new} new)" if new else " (no new partitions)"
    return line


def _listed(partitions: list[str], total: int) -> str:
    shown = partitions[-LISTED_IN_TEXT:]
    more = total - len(shown)
    return ", ".join(shown) + (f" and {more} earlier" if more > 0 else "")


def report_link(dagster_url: str, model: str) -> str:
    """The model's report asset in Dagster: its latest materialization links the HTML report in
    MLflow and names its file. No lookup, so an alert never waits on MLflow for it."""
    return f"{dagster_url.rstrip('/')}/assets/{quote(model)}/report"


def incident_record(incident: Incident, delivery: Delivery, registered_model: str, dagster_url: str,
                    mlflow_url: str, mlflow_run_url: str | None) -> dict[str, Any]:
    worst = incident.worst()
    latest = incident.latest_failing or UNPARTITIONED
    return {
        "kind": delivery.kind,
        "status": incident.status,
        "key": incident.key,
        "summary": incident_summary(incident, delivery),
        "model": incident.model,
        "registered_model": registered_model,
        "model_version": incident.version,
        "check": incident.check,
        "asset": incident.asset,
        "severity": incident.severity,
        "since": incident.since,
        "partition": latest,
        "partitions": list(incident.partitions),
        "partition_count": incident.failing_count,
        "new_partitions": list(delivery.partitions) if delivery.kind == "repeat" else list(incident.partitions),
        "metric": worst.metric if worst else None,
        "observed": worst.observed if worst else None,
        "threshold": worst.threshold if worst else None,
        "baseline": worst.baseline if worst else None,
        "failed_metrics": [vars(b).copy() for b in sorted(incident.breaches.values(), key=lambda b: -b.margin())],
        "reason": incident.reason or None,
        "description": incident.description,
        "dagster_url": evaluation_link(dagster_url, incident.run_id) if incident.run_id
        else check_link(dagster_url, incident.asset, incident.check),
        "dagster_check_url": check_link(dagster_url, incident.asset, incident.check),
        "dagster_partition_url": None if latest == UNPARTITIONED else partition_link(dagster_url, incident.asset, latest),
        "dagster_run_url": run_link(dagster_url, incident.run_id) if incident.run_id else None,
        "mlflow_url": mlflow_link(mlflow_url, registered_model, incident.version),
        "mlflow_run_url": mlflow_run_url,
        "report_url": report_link(dagster_url, incident.model),
        "run_id": incident.run_id,
        "first_fired_at": iso(incident.opened_at),
    }


def _incident_lines(record: dict[str, Any]) -> list[str]:
    lines = [record["summary"], f"  check {record['check']} on {record['asset']}"]
    if record["kind"] != "resolved":
        listed = record["new_partitions"] if record["kind"] == "repeat" else record["partitions"]
        if listed and listed != [UNPARTITIONED]:
            label = "new failing partitions" if record["kind"] == "repeat" else "failing partitions"
            total = len(listed) if record["kind"] == "repeat" else record["partition_count"]
            lines.append(f"  {label}: {_listed(listed, total)}")
        for breach in record["failed_metrics"]:
            baseline = f", baseline {fmt(breach['baseline'])}" if breach.get("baseline") is not None else ""
            lines.append(f"  {breach['metric']}: {fmt(breach['observed'])} {breach['comparison']} "
                         f"{fmt(breach['threshold'])}{baseline} (worst on {breach['partition']})")
        if record["description"] and not record["failed_metrics"]:
            lines.append(f"  {record['description']}")
    lines.append(f"  Dagster: {record['dagster_url']}")
    lines.append(f"  MLflow: {record['mlflow_url']}" + (f"  Charts: {record['mlflow_run_url']}"
                                                       if record["mlflow_run_url"] else ""))
    lines.append(f"  Report: {record['report_url']}")
    return lines


def render(outbox: Outbox, registered_model: str, dagster_url: str, mlflow_url: str,
           run_url_for: Callable[[str | None], str | None] = lambda version: None) -> dict[str, Any]:
    """`run_url_for(version)`: the link to that version's monitoring run charts, if known."""
    base = {"source": "monitoring_assets", "version": PAYLOAD_VERSION, "model": outbox.model,
            "channel": outbox.channel}
    if outbox.notice is not None:
        notice, _ = outbox.notice
        lines = [f"[{notice.severity}] {notice.summary}"]
        if notice.details:
            lines.append(notice.details)
        links = {**notice.links, "Report": report_link(dagster_url, notice.model)}
        lines += [f"  {name}: {url}" for name, url in links.items()]
        return base | {"title": lines[0], "text": "\n".join(lines), "alerts": [],
                       "notice": {"event": notice.event, "summary": notice.summary, "details": notice.details,
                                  "severity": notice.severity, "links": links, "at": iso(notice.at)}}
    records = [incident_record(i, d, registered_model, dagster_url, mlflow_url, run_url_for(i.version))
               for i, d in outbox.incidents]
    open_first = sorted(records, key=lambda r: (r["kind"] == "resolved", r["severity"] != "ERROR"))
    title = open_first[0]["summary"]
    if len(records) > 1:
        title += f" (+{len(records) - 1} more)"
    lines = [title, ""]
    for record in open_first:
        lines += _incident_lines(record)
    return base | {"title": title, "text": "\n".join(lines), "alerts": open_first, "notice": None}


def slack_escape(text: str) -> str:
    """Slack's control characters: data can neither mention (`<!channel>`) nor link (`<url|x>`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook shape (also accepted by Mattermost and Rocket.Chat)."""
    title = slack_escape(message["title"])
    return {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(message["text"])[:2900]}},
        ],
    }


def alertmanager_alerts(message: dict[str, Any], now: float, ttl_s: float) -> list[dict[str, Any]]:
    """Alertmanager's /api/v2/alerts body: a firing incident is re-posted while open with an
    `endsAt` of now + ttl (as Prometheus does), a resolved one is posted with its end."""
    alerts = []
    for record in message["alerts"]:
        resolved = record["kind"] == "resolved"
        labels = {"alertname": record["check"], "model": record["model"], "check": record["check"],
                  "severity": record["severity"].lower(), "version": record["model_version"] or "none",
                  "source": "monitoring_assets"}
        annotations = {"summary": record["summary"][:1000], "description": (record["description"] or "")[:1000]}
        for name in ("dagster_url", "dagster_check_url", "mlflow_url", "mlflow_run_url", "report_url"):
            if record.get(name):
                annotations[name] = record[name]
        alerts.append({
            "labels": labels, "annotations": annotations, "startsAt": record["first_fired_at"],
            "endsAt": iso(now) if resolved else iso(now + ttl_s),
            "generatorURL": record["dagster_check_url"],
        })
    return alerts
