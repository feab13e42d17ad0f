"""The alert book: what is firing, what was sent where, and what still has to be delivered.

It follows Alertmanager's semantics: a failing check fires once, repeats after the repeat
interval while it still fails, and resolves once when it passes again. Each (alert,
channel) delivery stays pending until the channel accepts it, retried with exponential
backoff. The whole book serializes to JSON, so it can live in a sensor cursor.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from collections.abc import Callable
from typing import Any, Literal

Kind = Literal["firing", "repeat", "resolved"]
_SEVERITY_RANK = {"WARN": 1, "ERROR": 2}
# Resolved alerts are kept this long so that a late duplicate evaluation does not re-fire.
RESOLVED_RETENTION_S = 7 * 86_400


@dataclass
class Alert:
    key: str
    model: str
    check: str
    partition: str
    asset: str
    severity: str
    passed: bool
    description: str = ""
    version: str | None = None
    observed: Any = None
    threshold: Any = None
    baseline: Any = None
    run_id: str | None = None
    observed_at: float = 0.0
    status: str | None = None

    @staticmethod
    def make_key(model: str, check: str, partition: str) -> str:
        return f"{model}|{check}|{partition}"


@dataclass
class Delivery:
    channel: str
    kind: Kind
    attempts: int = 0
    next_try_at: float = 0.0
    last_error: str | None = None


@dataclass
class AlertEntry:
    alert: Alert
    status: Literal["firing", "resolved"]
    first_fired_at: float
    last_notified_at: float = 0.0
    resolved_at: float | None = None
    pending: list[Delivery] = field(default_factory=list)


@dataclass
class Outbox:
    """One message's worth of alerts for one channel and one model (grouping)."""

    channel: str
    model: str
    items: list[tuple[AlertEntry, Delivery]]


class AlertBook:
    def __init__(self, entries: dict[str, AlertEntry] | None = None) -> None:
        self.entries: dict[str, AlertEntry] = entries or {}

    # -- state changes -------------------------------------------------------------------
    def observe(self, alert: Alert, route: Callable[[Alert], list[str]], now: float,
                one_shot: bool = False) -> None:
        """Record one check evaluation; enqueue deliveries for what changed.

        A one-shot alert (a failed run) is sent once and has no "resolved" to wait for. A
        resolution goes where the failure went, so it keeps the failure's severity.
        """
        entry = self.entries.get(alert.key)
        if not alert.passed:
            channels = route(alert)
            if entry is None or entry.status == "resolved":
                self.entries[alert.key] = AlertEntry(alert, "firing", first_fired_at=now,
                                                     last_notified_at=now)
                self._enqueue(self.entries[alert.key], channels, "firing")
                if one_shot:
                    self.entries[alert.key].status = "resolved"
                    self.entries[alert.key].resolved_at = now
            else:
                entry.alert = alert  # keep the latest values, do not notify again
        elif entry is not None and entry.status == "firing":
            channels = route(entry.alert)
            alert.severity = entry.alert.severity
            entry.alert = alert
            entry.status = "resolved"
            entry.resolved_at = now
            # A pending "firing" that never went out is superseded by the resolution.
            entry.pending = [d for d in entry.pending if d.kind == "resolved"]
            self._enqueue(entry, channels, "resolved")

    def repeat_due(self, channels_for: Any, now: float, repeat_interval_s: float) -> None:
        """Re-notify alerts that are still firing after the repeat interval."""
        for entry in self.entries.values():
            if entry.status != "firing" or entry.pending:
                continue
            if now - entry.last_notified_at >= repeat_interval_s:
                entry.last_notified_at = now
                self._enqueue(entry, channels_for(entry.alert), "repeat")

    def _enqueue(self, entry: AlertEntry, channels: list[str], kind: Kind) -> None:
        for channel in channels:
            if not any(d.channel == channel and d.kind == kind for d in entry.pending):
                entry.pending.append(Delivery(channel=channel, kind=kind))

    # -- delivery ------------------------------------------------------------------------
    def outboxes(self, now: float) -> list[Outbox]:
        grouped: dict[tuple[str, str], list[tuple[AlertEntry, Delivery]]] = {}
        for entry in self.entries.values():
            for delivery in entry.pending:
                if delivery.next_try_at <= now:
                    grouped.setdefault((delivery.channel, entry.alert.model), []).append((entry, delivery))
        return [Outbox(channel, model, items) for (channel, model), items in sorted(grouped.items())]

    def delivered(self, outbox: Outbox) -> None:
        for entry, delivery in outbox.items:
            if delivery in entry.pending:
                entry.pending.remove(delivery)

    def failed(self, outbox: Outbox, error: str, now: float, initial_s: float, max_s: float) -> None:
        for _, delivery in outbox.items:
            delivery.attempts += 1
            delivery.last_error = error[:500]
            delivery.next_try_at = now + min(max_s, initial_s * (2 ** (delivery.attempts - 1)))

    def prune(self, now: float) -> None:
        for key in [k for k, e in self.entries.items()
                    if e.status == "resolved" and not e.pending
                    and e.resolved_at is not None and now - e.resolved_at > RESOLVED_RETENTION_S]:
            del self.entries[key]

    # -- queries and persistence ------------------------------------------------------------
    def firing(self) -> list[AlertEntry]:
        return [e for e in self.entries.values() if e.status == "firing"]

    def pending_count(self) -> int:
        return sum(len(e.pending) for e in self.entries.values())

    def to_json(self) -> str:
        return json.dumps({k: asdict(v) for k, v in self.entries.items()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> AlertBook:
        if not text:
            return cls()
        entries = {}
        for key, raw in json.loads(text).items():
            raw["alert"] = Alert(**raw["alert"])
            raw["pending"] = [Delivery(**d) for d in raw["pending"]]
            entries[key] = AlertEntry(**raw)
        return cls(entries)


def severity_at_least(severity: str, minimum: str) -> bool:
    return _SEVERITY_RANK.get(severity, 0) >= _SEVERITY_RANK.get(minimum, 0)
