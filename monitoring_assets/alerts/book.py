"""The alert book: open incidents, lifecycle notices, and what each channel still has to receive.

An incident is keyed by (model, check, served version). It fires once when the check first
fails, repeats after the repeat interval while it stays open (each repeat carries only the
partitions that failed since that channel's last message), and resolves once, with its
reason: the latest judged partition passes, the version no longer serves, or the check no
longer exists. A notice (promotion, rejection, rollback, retraining, a failed run) is sent
once per channel. Every (item, channel) delivery stays pending until the channel accepts it,
retried with exponential backoff, and one channel's state never holds back another's.

The book serializes to compact JSON for the alert sensor's cursor. Its size is bounded: an
incident keeps its partition count and at most `LISTED_PARTITIONS` names, resolved incidents
are kept `RESOLVED_RETENTION_S`, at most `MAX_PENDING_NOTICES` notices wait per channel, and
`MAX_BOOK_BYTES` is a hard cap that drops the oldest finished entries first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["firing", "repeat", "resolved", "notice"]
_SEVERITY_RANK = {"INFO": 0, "WARN": 1, "ERROR": 2}
RESOLVED_RETENTION_S = 7 * 86_400
LISTED_PARTITIONS = 24
MAX_PENDING_NOTICES = 50
MAX_RETIRED_VERSIONS = 20
MAX_BOOK_BYTES = 64_000


def severity_at_least(severity: str, minimum: str) -> bool:
    return _SEVERITY_RANK.get(severity, 0) >= _SEVERITY_RANK.get(minimum, 0)


@dataclass
class MetricBreach:
    """One metric past its limit. `comparison` is how observed relates to the limit on failure:
    "<" (fell below a floor) or ">" (rose above a ceiling)."""

    metric: str
    observed: float | None
    threshold: float | None
    baseline: Any = None
    comparison: str = "<"
    partition: str = ""

    def margin(self) -> float:
        if self.observed is None or self.threshold is None:
            return 0.0
        scale = abs(self.threshold) or 1.0
        gap = self.threshold - self.observed if self.comparison == "<" else self.observed - self.threshold
        return gap / scale


@dataclass
class Evaluation:
    """One check's verdict on one partition, as the alert sensor read it from the instance."""

    model: str
    check: str
    partition: str
    asset: str
    severity: str
    passed: bool
    judged: bool = True  # False: pending (labels not in yet), no data: neither a pass nor a failure
    version: str | None = None
    breaches: list[MetricBreach] = field(default_factory=list)
    description: str = ""
    run_id: str | None = None
    observed_at: float = 0.0


@dataclass
class Delivery:
    channel: str
    kind: Kind
    attempts: int = 0
    next_try_at: float = 0.0
    last_error: str | None = None
    partitions: list[str] = field(default_factory=list)  # new since this channel's last message
    new_count: int = 0
    told_count: int = 0


@dataclass
class Incident:
    key: str
    model: str
    check: str
    version: str | None
    asset: str
    severity: str
    status: Literal["firing", "resolved"]
    opened_at: float
    since: str
    failing_count: int = 0
    partitions: list[str] = field(default_factory=list)  # the newest failing ones, sorted
    latest_failing: str = ""
    breaches: dict[str, MetricBreach] = field(default_factory=dict)  # the worst per metric
    description: str = ""
    run_id: str | None = None
    resolved_at: float | None = None
    reason: str = ""
    told: dict[str, int] = field(default_factory=dict)  # channel -> failing_count it was told
    last_notified: dict[str, float] = field(default_factory=dict)
    pending: list[Delivery] = field(default_factory=list)

    @staticmethod
    def make_key(model: str, check: str, version: str | None) -> str:
        return f"{model}|{check}|{version or '-'}"

    def worst(self) -> MetricBreach | None:
        return max(self.breaches.values(), key=MetricBreach.margin, default=None)


@dataclass
class Notice:
    """A one-off event: sent once to each routed channel, with retries."""

    key: str
    model: str
    event: str
    severity: str
    summary: str
    details: str = ""
    links: dict[str, str] = field(default_factory=dict)
    at: float = 0.0
    pending: list[Delivery] = field(default_factory=list)


@dataclass
class Outbox:
    """One message for one channel: a model's incidents of one tick, or one notice."""

    channel: str
    model: str
    incidents: list[tuple[Incident, Delivery]] = field(default_factory=list)
    notice: tuple[Notice, Delivery] | None = None

    def deliveries(self) -> list[Delivery]:
        return [d for _, d in self.incidents] + ([self.notice[1]] if self.notice else [])


Route = Callable[[str, str], list[str]]  # (model, severity) -> channels


class AlertBook:
    def __init__(self) -> None:
        self.incidents: dict[str, Incident] = {}
        self.notices: dict[str, Notice] = {}
        self.retired: dict[str, list[str]] = {}  # model -> versions that no longer serve

    # -- incidents -----------------------------------------------------------------------
    def observe(self, evaluation: Evaluation, route: Route, now: float) -> None:
        if not evaluation.judged:
            return
        key = Incident.make_key(evaluation.model, evaluation.check, evaluation.version)
        incident = self.incidents.get(key)
        if evaluation.passed:
            if incident is not None and incident.status == "firing":
                self._passed(incident, evaluation, route, now)
            return
        if evaluation.version and evaluation.version in self.retired.get(evaluation.model, []):
            return  # an old partition of a replaced version never re-alerts
        if incident is not None and incident.status == "firing":
            self._add_failure(incident, evaluation)
            return
        incident = Incident(key=key, model=evaluation.model, check=evaluation.check, version=evaluation.version,
                            asset=evaluation.asset, severity=evaluation.severity, status="firing",
                            opened_at=now, since=evaluation.partition)
        self._add_failure(incident, evaluation)
        self.incidents[key] = incident
        for channel in route(incident.model, incident.severity):
            incident.pending.append(Delivery(channel, "firing", partitions=list(incident.partitions),
                                             new_count=incident.failing_count, told_count=incident.failing_count))

    def _add_failure(self, incident: Incident, evaluation: Evaluation) -> None:
        partition = evaluation.partition
        if partition not in incident.partitions:
            incident.failing_count += 1
            incident.partitions = sorted(incident.partitions + [partition])[-LISTED_PARTITIONS:]
        incident.since = min(incident.since, partition)
        incident.latest_failing = max(incident.latest_failing, partition)
        if severity_at_least(evaluation.severity, incident.severity):
            incident.severity = evaluation.severity
        for breach in evaluation.breaches:
            breach.partition = breach.partition or partition
            known = incident.breaches.get(breach.metric)
            if known is None or breach.margin() >= known.margin():
                incident.breaches[breach.metric] = breach
        incident.description = evaluation.description[:500]
        incident.run_id = evaluation.run_id or incident.run_id

    def _passed(self, incident: Incident, evaluation: Evaluation, route: Route, now: float) -> None:
        partition = evaluation.partition
        if partition in incident.partitions:
            incident.partitions.remove(partition)
        if partition >= incident.latest_failing:
            self._resolve(incident, f"the latest judged partition {partition} passes", route, now)

    def retire_version(self, model: str, serving: str, how: str, route: Route, now: float) -> None:
        """`serving` became the model's served version: incidents of every other version resolve."""
        retired = [v for v in self.retired.get(model, []) if v != serving]
        for incident in self.firing():
            if incident.model == model and incident.version and incident.version != serving:
                self._resolve(incident, f"v{incident.version} no longer serves: replaced by v{serving} ({how})",
                              route, now)
                retired.append(incident.version)
        self.retired[model] = list(dict.fromkeys(retired))[-MAX_RETIRED_VERSIONS:]

    def retire_checks(self, existing: Callable[[str, str], bool], route: Route, now: float) -> None:
        for incident in self.firing():
            if not existing(incident.model, incident.check):
                self._resolve(incident, f"the check {incident.check} no longer exists", route, now)

    def _resolve(self, incident: Incident, reason: str, route: Route, now: float) -> None:
        incident.status = "resolved"
        incident.resolved_at = now
        incident.reason = reason
        # A channel that was never told of the incident has nothing to resolve.
        incident.pending = [d for d in incident.pending if d.kind not in ("firing", "repeat")]
        for channel in route(incident.model, incident.severity):
            if channel in incident.told:
                incident.pending.append(Delivery(channel, "resolved"))

    def repeat_due(self, route: Route, now: float, interval_for: Callable[[str], float]) -> None:
        """Per channel: a channel with a delivery still pending is not repeated to, and does
        not hold back the others."""
        for incident in self.firing():
            for channel in route(incident.model, incident.severity):
                if channel not in incident.last_notified:
                    continue
                if any(d.channel == channel for d in incident.pending):
                    continue
                if now - incident.last_notified[channel] < interval_for(channel):
                    continue
                told = incident.told.get(channel, 0)
                new = max(0, incident.failing_count - told)
                incident.pending.append(Delivery(channel, "repeat", partitions=incident.partitions[-new:] if new else [],
                                                 new_count=new, told_count=incident.failing_count))

    # -- notices -------------------------------------------------------------------------
    def notify(self, notice: Notice, route: Route) -> None:
        if notice.key in self.notices:
            return
        notice.pending = [Delivery(channel, "notice") for channel in route(notice.model, "ERROR")]
        self.notices[notice.key] = notice

    # -- delivery ------------------------------------------------------------------------
    def outboxes(self, now: float) -> list[Outbox]:
        grouped: dict[tuple[str, str], Outbox] = {}
        for incident in sorted(self.incidents.values(), key=lambda i: (i.model, i.check, i.version or "")):
            for delivery in incident.pending:
                if delivery.next_try_at <= now:
                    box = grouped.setdefault((delivery.channel, incident.model),
                                             Outbox(delivery.channel, incident.model))
                    box.incidents.append((incident, delivery))
        boxes = [grouped[k] for k in sorted(grouped)]
        for notice in sorted(self.notices.values(), key=lambda n: n.at):
            for delivery in notice.pending:
                if delivery.next_try_at <= now:
                    boxes.append(Outbox(delivery.channel, notice.model, notice=(notice, delivery)))
        return boxes

    def delivered(self, outbox: Outbox, now: float) -> None:
        for incident, delivery in outbox.incidents:
            if delivery in incident.pending:
                incident.pending.remove(delivery)
            if delivery.kind in ("firing", "repeat"):
                # A first message shows the incident as it is when sent; a repeat, what it listed.
                incident.told[delivery.channel] = (incident.failing_count if delivery.kind == "firing"
                                                   else delivery.told_count)
                incident.last_notified[delivery.channel] = now
        if outbox.notice:
            notice, delivery = outbox.notice
            if delivery in notice.pending:
                notice.pending.remove(delivery)

    def failed(self, outbox: Outbox, error: str, now: float, initial_s: float, max_s: float) -> None:
        for delivery in outbox.deliveries():
            delivery.attempts += 1
            delivery.last_error = error[:300]
            delivery.next_try_at = now + min(max_s, initial_s * (2 ** (delivery.attempts - 1)))

    def prune(self, now: float) -> None:
        for key in [k for k, i in self.incidents.items()
                    if i.status == "resolved" and not i.pending and now - (i.resolved_at or now) > RESOLVED_RETENTION_S]:
            del self.incidents[key]
        for key in [k for k, n in self.notices.items() if not n.pending]:
            del self.notices[key]
        waiting: dict[str, list[tuple[float, Notice, Delivery]]] = {}
        for notice in self.notices.values():
            for delivery in notice.pending:
                waiting.setdefault(delivery.channel, []).append((notice.at, notice, delivery))
        for entries in waiting.values():
            for _, notice, delivery in sorted(entries, key=lambda e: e[0])[:-MAX_PENDING_NOTICES]:
                notice.pending.remove(delivery)
        for key in [k for k, n in self.notices.items() if not n.pending]:
            del self.notices[key]

    # -- queries and persistence ------------------------------------------------------------
    def firing(self) -> list[Incident]:
        return [i for i in self.incidents.values() if i.status == "firing"]

    def pending_count(self) -> int:
        return (sum(len(i.pending) for i in self.incidents.values())
                + sum(len(n.pending) for n in self.notices.values()))

    def to_dict(self) -> dict[str, Any]:
        data = {"incidents": [_compact(asdict(i)) for i in self.incidents.values()],
                "notices": [_compact(asdict(n)) for n in self.notices.values()],
                "retired": self.retired}
        while len(json.dumps(data, separators=(",", ":"))) > MAX_BOOK_BYTES:
            finished = sorted((i for i in data["incidents"] if i["status"] == "resolved"),
                              key=lambda i: i.get("resolved_at") or 0)
            if finished:
                data["incidents"].remove(finished[0])
            elif data["notices"]:
                data["notices"].pop(0)
            elif data["incidents"]:
                oldest = min(data["incidents"], key=lambda i: i["opened_at"])
                oldest["partitions"] = oldest["partitions"][-1:]
                if len(oldest["partitions"]) <= 1 and len(data["incidents"]) > 1:
                    data["incidents"].remove(oldest)
            else:
                break
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AlertBook:
        book = cls()
        if not data:
            return book
        for raw in data.get("incidents", []):
            raw["pending"] = [Delivery(**d) for d in raw.get("pending", [])]
            raw["breaches"] = {k: MetricBreach(**b) for k, b in raw.get("breaches", {}).items()}
            incident = Incident(**raw)
            book.incidents[incident.key] = incident
        for raw in data.get("notices", []):
            raw["pending"] = [Delivery(**d) for d in raw.get("pending", [])]
            notice = Notice(**raw)
            book.notices[notice.key] = notice
        book.retired = {k: list(v) for k, v in data.get("retired", {}).items()}
        return book


_DEFAULTS = {"attempts": 0, "next_try_at": 0.0, "last_error": None, "partitions": [], "new_count": 0,
             "told_count": 0, "details": "", "links": {}, "reason": "", "resolved_at": None, "baseline": None,
             "description": "", "run_id": None}


def _compact(value: Any) -> Any:
    """Default-valued fields are left out of the cursor; the dataclasses restore them."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if not (k in _DEFAULTS and v == _DEFAULTS[k])}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value
