"""The alert book and routing on plain values: incidents per (model, check, version), repeats
with only the new partitions, resolution with its reason, per-channel state, a bounded cursor."""

import datetime as dt
import json
from dataclasses import dataclass, field

from monitoring_assets.alerts.book import (
    MAX_BOOK_BYTES,
    AlertBook,
    Evaluation,
    MetricBreach,
    Notice,
)
from monitoring_assets.alerts.messages import incident_summary, render, slack_payload
from monitoring_assets.alerts.routing import channels_for


@dataclass
class Route:
    models: list[str]
    min_severity: str
    channels: list[str] = field(default_factory=list)


ROUTES = [Route(["*"], "ERROR", ["pager"]), Route(["churn"], "WARN", ["chat", "pager"])]
HOUR = 3600.0


def route(model: str, severity: str) -> list[str]:
    return channels_for(model, severity, ROUTES)


def accuracy(partition: str, passed: bool, observed: float = 0.32, version: str = "1", check: str = "performance_vs_baseline",
             severity: str = "ERROR", model: str = "churn") -> Evaluation:
    breaches = [] if passed else [MetricBreach("accuracy", observed, 0.68, 0.715, "<")]
    return Evaluation(model=model, check=check, partition=partition, asset=f"{model}/model_performance",
                      severity=severity, passed=passed, version=version, breaches=breaches, run_id=f"run-{partition}")


def sent(book: AlertBook, now: float) -> list[tuple[str, str, str]]:
    """Deliver everything due; returns (channel, kind, incident key or notice event)."""
    messages = []
    for outbox in book.outboxes(now):
        messages += [(outbox.channel, d.kind, i.key) for i, d in outbox.incidents]
        if outbox.notice:
            messages.append((outbox.channel, "notice", outbox.notice[0].event))
        book.delivered(outbox, now)
    return sorted(messages)


def days(first: int, count: int) -> list[str]:
    start = dt.date(2026, 11, 1)
    return [(start + dt.timedelta(days=first + i)).isoformat() for i in range(count)]


def test_routes_match_model_patterns_and_minimum_severity_without_duplicates():
    assert channels_for("churn", "ERROR", ROUTES) == ["pager", "chat"]
    assert channels_for("churn", "WARN", ROUTES) == ["chat", "pager"]
    assert channels_for("fraud", "WARN", ROUTES) == []


def test_one_incident_for_many_failing_partitions_of_one_version():
    book = AlertBook()
    for partition in days(16, 8):
        book.observe(accuracy(partition, passed=False), route, 0)
    assert sent(book, 0) == [("chat", "firing", "churn|performance_vs_baseline|1"),
                             ("pager", "firing", "churn|performance_vs_baseline|1")]
    incident = book.incidents["churn|performance_vs_baseline|1"]
    assert incident.failing_count == 8 and incident.since == "2026-11-17"
    assert incident_summary(incident) == (
        "[ERROR] churn v1: accuracy 0.32 < 0.68 (baseline 0.715) since 2026-11-17, 8 partitions")
    # The same partitions judged again add nothing and send nothing.
    for partition in days(16, 8):
        book.observe(accuracy(partition, passed=False), route, 60)
    assert sent(book, 60) == [] and incident.failing_count == 8


def test_the_worst_value_and_every_failed_metric_are_named():
    book = AlertBook()
    book.observe(accuracy("2026-11-17", False, observed=0.40), route, 0)
    worse = accuracy("2026-11-18", False, observed=0.30)
    worse.breaches.append(MetricBreach("roc_auc", 0.74, 0.745, 0.795, "<"))
    book.observe(worse, route, 0)
    incident = book.incidents["churn|performance_vs_baseline|1"]
    assert incident.worst().observed == 0.30 and incident.worst().partition == "2026-11-18"
    message = render(book.outboxes(0)[0], "churn-classifier", "http://dagster", "http://mlflow")
    record = message["alerts"][0]
    assert [m["metric"] for m in record["failed_metrics"]] == ["accuracy", "roc_auc"]
    assert record["metric"] == "accuracy" and record["observed"] == 0.30 and record["threshold"] == 0.68
    assert message["title"].startswith("[ERROR] churn v1: accuracy 0.3 < 0.68 (baseline 0.715), roc_auc 0.74 < 0.745")


def test_a_repeat_comes_after_the_interval_with_only_the_new_partitions():
    book = AlertBook()
    for partition in days(16, 3):
        book.observe(accuracy(partition, False), route, 0)
    sent(book, 0)
    book.repeat_due(route, HOUR - 1, lambda channel: HOUR)
    assert sent(book, HOUR - 1) == []
    for partition in days(19, 2):
        book.observe(accuracy(partition, False), route, HOUR - 1)
    book.repeat_due(route, HOUR, lambda channel: HOUR)
    boxes = book.outboxes(HOUR)
    assert {b.channel for b in boxes} == {"chat", "pager"}
    for box in boxes:
        (incident, delivery), = box.incidents
        assert delivery.kind == "repeat" and delivery.partitions == ["2026-11-20", "2026-11-21"]
        message = render(box, "churn-classifier", "http://dagster", "http://mlflow")
        assert message["title"].startswith("[ERROR] still failing: churn v1:")
        assert message["title"].endswith("since 2026-11-17, 5 partitions (2 new)")
        assert message["alerts"][0]["new_partitions"] == ["2026-11-20", "2026-11-21"]
        book.delivered(box, HOUR)
    book.repeat_due(route, 2 * HOUR, lambda channel: HOUR)
    (box, *_) = book.outboxes(2 * HOUR)
    assert box.incidents[0][1].partitions == [] and box.incidents[0][1].new_count == 0


def test_resolves_once_when_the_latest_judged_partition_passes():
    book = AlertBook()
    for partition in days(16, 3):
        book.observe(accuracy(partition, False), route, 0)
    sent(book, 0)
    book.observe(accuracy("2026-11-17", True), route, 10)  # an older partition fixed: still open
    assert book.firing() and sent(book, 10) == []
    book.observe(accuracy("2026-11-20", True), route, 20)
    assert sent(book, 20) == [("chat", "resolved", "churn|performance_vs_baseline|1"),
                              ("pager", "resolved", "churn|performance_vs_baseline|1")]
    assert book.incidents["churn|performance_vs_baseline|1"].reason == "the latest judged partition 2026-11-20 passes"
    book.observe(accuracy("2026-11-21", True), route, 30)
    assert sent(book, 30) == []
    pending = accuracy("2026-11-22", True)
    pending.judged = False  # labels not in yet: neither a pass nor a failure
    book.observe(pending, route, 40)
    assert sent(book, 40) == []


def test_a_replaced_version_resolves_and_its_old_partitions_never_realert():
    book = AlertBook()
    for partition in days(16, 8):
        book.observe(accuracy(partition, False), route, 0)
    book.observe(accuracy("2026-11-17", False, check="drift_within_limits"), route, 0)
    sent(book, 0)
    book.retire_version("churn", "2", "promotion", route, 100)
    resolved = sent(book, 100)
    assert len(resolved) == 4 and {kind for _, kind, _ in resolved} == {"resolved"}
    assert all(i.reason == "v1 no longer serves: replaced by v2 (promotion)" for i in book.incidents.values())
    for partition in days(16, 10):  # a late rerun of v1's partitions
        book.observe(accuracy(partition, False), route, 200)
    book.repeat_due(route, 10 * HOUR, lambda channel: HOUR)
    assert sent(book, 10 * HOUR) == [] and book.firing() == []
    # A rollback to v1 makes it serve again: its failures alert again.
    book.retire_version("churn", "1", "rollback", route, 11 * HOUR)
    book.observe(accuracy("2026-11-30", False), route, 11 * HOUR)
    assert ("pager", "firing", "churn|performance_vs_baseline|1") in sent(book, 11 * HOUR)


def test_an_incident_of_a_check_that_no_longer_exists_resolves():
    book = AlertBook()
    book.observe(accuracy("2026-11-17", False, check="latency_slo"), route, 0)
    sent(book, 0)
    book.retire_checks(lambda model, check: check != "latency_slo", route, 5)
    assert sent(book, 5) == [("chat", "resolved", "churn|latency_slo|1"), ("pager", "resolved", "churn|latency_slo|1")]
    assert book.incidents["churn|latency_slo|1"].reason == "the check latency_slo no longer exists"


def test_a_channel_never_told_of_an_incident_gets_no_resolution():
    book = AlertBook()
    book.observe(accuracy("2026-11-17", False), route, 0)
    for outbox in book.outboxes(0):
        if outbox.channel == "chat":
            book.delivered(outbox, 0)  # pager is down
    book.retire_version("churn", "2", "promotion", route, 5)
    assert sent(book, 5) == [("chat", "resolved", "churn|performance_vs_baseline|1")]


def test_a_pending_delivery_holds_back_only_its_own_channel():
    book = AlertBook()
    book.observe(accuracy("2026-11-17", False), route, 0)
    for outbox in book.outboxes(0):
        if outbox.channel == "chat":
            book.delivered(outbox, 0)
        else:
            book.failed(outbox, "pager: SMTP refused", 0, initial_s=10 * HOUR, max_s=10 * HOUR)
    book.repeat_due(route, 2 * HOUR, lambda channel: HOUR)
    assert sent(book, 2 * HOUR) == [("chat", "repeat", "churn|performance_vs_baseline|1")]
    book.repeat_due(route, 4 * HOUR, lambda channel: HOUR)
    assert sent(book, 4 * HOUR) == [("chat", "repeat", "churn|performance_vs_baseline|1")]
    # The pager recovers: it gets its first message once, not the repeats it missed.
    assert sent(book, 10 * HOUR) == [("pager", "firing", "churn|performance_vs_baseline|1")]


def test_notices_go_once_per_channel_with_backoff_and_survive_a_round_trip():
    book = AlertBook()
    notice = Notice(key="life:7", model="churn", event="promoted", severity="INFO",
                    summary="churn: v2 promoted over v1 (accuracy 0.705 vs 0.323)", at=5)
    book.notify(notice, route)
    book.notify(Notice(key="life:7", model="churn", event="promoted", severity="INFO", summary="again"), route)
    boxes = book.outboxes(10)
    assert len(boxes) == 2
    book.failed(boxes[0], "pager: HTTP 503", 10, initial_s=30, max_s=300)
    book.delivered(boxes[1], 10)
    restored = AlertBook.from_dict(json.loads(json.dumps(book.to_dict())))
    assert restored.outboxes(20) == []
    (box,) = restored.outboxes(40)
    assert box.notice[1].attempts == 1 and box.notice[1].last_error == "pager: HTTP 503"
    message = render(box, "churn-classifier", "http://dagster", "http://mlflow")
    assert message["title"] == "[INFO] churn: v2 promoted over v1 (accuracy 0.705 vs 0.323)"
    assert message["notice"]["event"] == "promoted"
    restored.delivered(box, 40)
    restored.prune(40)
    assert restored.notices == {}


def test_the_cursor_stays_bounded_over_2000_hourly_partitions():
    book = AlertBook()
    start = dt.datetime(2026, 1, 1)
    now = 0.0
    sizes = []
    for hour in range(2000):
        partition = (start + dt.timedelta(hours=hour)).strftime("%Y-%m-%d-%H:%M")
        version = str(1 + hour // 200)  # a new version every 200 hours
        if hour % 200 == 0 and hour:
            book.retire_version("churn", version, "promotion", route, now)
        for check in ("performance_vs_baseline", "drift_within_limits", "latency_slo"):
            failed = (hour // 7) % 3 != 0  # long failing stretches, broken by passes
            book.observe(accuracy(partition, not failed, version=version, check=check), route, now)
        book.notify(Notice(key=f"life:{hour}", model="churn", event="remediation", severity="INFO",
                           summary="x" * 200, at=now), route)
        for outbox in book.outboxes(now):
            if outbox.channel == "pager":
                book.delivered(outbox, now)
            else:  # chat is down the whole time: its deliveries pile up
                book.failed(outbox, "chat: down", now, 60, 600)
        book.repeat_due(route, now, lambda channel: 4 * HOUR)
        book.prune(now)
        sizes.append(len(json.dumps(book.to_dict(), separators=(",", ":"))))
        now += HOUR
    assert max(sizes) <= MAX_BOOK_BYTES
    assert sizes[-1] < 40_000, sizes[-1]  # well under the cap in this run: the bounds, not the cap, hold it
    assert max(len(i.partitions) for i in book.incidents.values()) <= 24


def test_slack_cannot_be_commanded_by_data():
    book = AlertBook()
    hostile = accuracy("2026-11-17", False)
    hostile.breaches = []
    hostile.description = "unseen category <!channel> and <http://evil|click> & more"
    book.observe(hostile, route, 0)
    message = render(book.outboxes(0)[0], "churn-classifier", "http://dagster", "http://mlflow")
    payload = json.dumps(slack_payload(message))
    assert "<!channel>" not in payload and "<http://evil|click>" not in payload
    assert "&lt;!channel&gt;" in payload and "&amp; more" in payload
