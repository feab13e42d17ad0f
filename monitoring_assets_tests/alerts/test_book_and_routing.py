"""The alert book and routing on plain values: fire once, repeat, resolve, back off."""

from dataclasses import dataclass, field

from monitoring_assets.alerts.book import Alert, AlertBook
from monitoring_assets.alerts.routing import channels_for


@dataclass
class Route:
    models: list[str]
    min_severity: str
    channels: list[str] = field(default_factory=list)


ROUTES = [Route(["*"], "ERROR", ["pager"]), Route(["churn"], "WARN", ["chat", "pager"])]


def alert(passed: bool, severity: str = "ERROR", model: str = "churn") -> Alert:
    return Alert(key=Alert.make_key(model, "drift_within_limits", "2026-11-17"), model=model,
                 check="drift_within_limits", partition="2026-11-17", asset=f"{model}/feature_drift",
                 severity=severity, passed=passed)


def route(a: Alert) -> list[str]:
    return channels_for(a.model, a.severity, ROUTES)


def sent(book: AlertBook, now: float) -> list[tuple[str, str]]:
    messages = []
    for outbox in book.outboxes(now):
        messages += [(outbox.channel, delivery.kind) for _, delivery in outbox.items]
        book.delivered(outbox)
    return sorted(messages)


def test_routes_match_model_patterns_and_minimum_severity_without_duplicates():
    assert channels_for("churn", "ERROR", ROUTES) == ["pager", "chat"]
    assert channels_for("churn", "WARN", ROUTES) == ["chat", "pager"]
    assert channels_for("fraud", "WARN", ROUTES) == []
    assert channels_for("fraud", "ERROR", ROUTES) == ["pager"]


def test_fires_once_repeats_after_the_interval_and_resolves_once():
    book = AlertBook()
    book.observe(alert(False), route, now=0)
    assert sent(book, 0) == [("chat", "firing"), ("pager", "firing")]
    book.observe(alert(False), route, now=60)
    book.repeat_due(route, 60, repeat_interval_s=3600)
    assert sent(book, 60) == []
    book.repeat_due(route, 3600, repeat_interval_s=3600)
    assert sent(book, 3600) == [("chat", "repeat"), ("pager", "repeat")]
    book.observe(alert(True, severity="WARN"), route, now=4000)
    # The resolution goes where the failure went, although the passing evaluation says WARN.
    assert sent(book, 4000) == [("chat", "resolved"), ("pager", "resolved")]
    book.observe(alert(True), route, now=5000)
    assert sent(book, 5000) == []


def test_a_failed_delivery_backs_off_and_survives_a_round_trip_through_json():
    book = AlertBook()
    book.observe(alert(False, model="fraud"), route, now=0)
    (outbox,) = book.outboxes(0)
    book.failed(outbox, "HTTP 503", now=0, initial_s=30, max_s=1800)
    book.failed(outbox, "HTTP 503", now=0, initial_s=30, max_s=1800)
    restored = AlertBook.from_json(book.to_json())
    assert restored.outboxes(59) == []
    assert sent(restored, 60) == [("pager", "firing")]
    assert restored.pending_count() == 0
