"""Which channels an alert goes to: routes match the model and a minimum severity."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Protocol

from monitoring_assets.alerts.book import severity_at_least


class RouteLike(Protocol):
    models: list[str]
    min_severity: str
    channels: list[str]


def channels_for(model: str, severity: str, routes: Iterable[RouteLike]) -> list[str]:
    chosen: list[str] = []
    for route in routes:
        if not any(fnmatch.fnmatchcase(model, pattern) for pattern in route.models):
            continue
        if not severity_at_least(severity, route.min_severity):
            continue
        for channel in route.channels:
            if channel not in chosen:
                chosen.append(channel)
    return chosen
