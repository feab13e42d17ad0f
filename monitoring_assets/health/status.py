"""One health status per model, HEALTHY, WARNING or DEGRADED, with its reason.

The rules follow Dagster's asset health: a model is DEGRADED when a check failed at ERROR on
its latest judged partition, or when its data is stale; WARNING when a check failed at WARN
there (label coverage past its deadline included); HEALTHY otherwise. A check's latest judged
partition is the newest one where it gave a verdict: "pending" (labels not in yet) is not a
verdict. The reason says since which partition, which checks, the top drifted features and
each metric against its baseline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

HEALTHY, WARNING, DEGRADED = "HEALTHY", "WARNING", "DEGRADED"
STATUS_CODE = {HEALTHY: 0, WARNING: 1, DEGRADED: 2}


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    severity: str  # WARN | ERROR
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return self.metadata.get("status") == "pending"

    @property
    def level(self) -> str:
        if self.passed:
            return HEALTHY
        return DEGRADED if self.severity == "ERROR" else WARNING


@dataclass(frozen=True)
class Freshness:
    """Whether inference data arrived for every partition that should have it by now."""

    fresh: bool
    newest_with_data: str | None
    expected: str | None
    description: str


@dataclass
class HealthReport:
    model: str
    status: str
    since: str | None
    failing: list[dict[str, Any]]
    drifted_features: list[str]
    metrics: list[dict[str, Any]]
    latest_partition: str | None
    freshness: Freshness | None = None

    @property
    def code(self) -> int:
        return STATUS_CODE[self.status]

    def headline(self) -> str:
        if self.status == HEALTHY:
            return f"{self.model}: HEALTHY" + (f" (latest partition {self.latest_partition})" if self.latest_partition else "")
        checks = ", ".join(f["check"] for f in self.failing)
        return f"{self.model}: {self.status} since {self.since or 'n/a'} ({checks})"

    def to_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["headline"] = self.headline()
        return result


def freshness_of(newest_with_data: str | None, expected: str | None, model: str) -> Freshness:
    """`expected`: the newest partition whose data is due by now (None: nothing due yet)."""
    if expected is None:
        return Freshness(True, newest_with_data, None, "no partition is due yet")
    if newest_with_data is not None and newest_with_data >= expected:
        return Freshness(True, newest_with_data, expected, f"inference data up to {newest_with_data}")
    since = f"since {newest_with_data}" if newest_with_data else "at all"
    return Freshness(False, newest_with_data, expected,
                     f"no inference data for {model} {since} (expected up to {expected})")


def _latest_judged(outcomes: Mapping[str, Mapping[str, CheckOutcome]], check: str) -> tuple[str, CheckOutcome] | None:
    for partition in sorted(outcomes, reverse=True):
        outcome = outcomes[partition].get(check)
        if outcome is not None and not outcome.pending:
            return partition, outcome
    return None


def _failing_since(outcomes: Mapping[str, Mapping[str, CheckOutcome]], check: str, latest: str) -> str:
    """The first partition of the unbroken run of failures that ends at `latest`."""
    since = latest
    for partition in sorted((p for p in outcomes if p <= latest), reverse=True):
        outcome = outcomes[partition].get(check)
        if outcome is None or outcome.pending:
            continue
        if outcome.passed:
            break
        since = partition
    return since


def judge_health(model: str, outcomes: Mapping[str, Mapping[str, CheckOutcome]], checks: Sequence[str],
                 freshness: Freshness | None = None) -> HealthReport:
    """`outcomes`: partition -> check name -> the latest evaluation of that check there."""
    failing: list[dict[str, Any]] = []
    status = HEALTHY
    for check in checks:
        judged = _latest_judged(outcomes, check)
        if judged is None:
            continue
        partition, outcome = judged
        if outcome.passed:
            continue
        failing.append({"check": check, "severity": outcome.severity, "partition": partition,
                        "since": _failing_since(outcomes, check, partition), "description": outcome.description,
                        "observed": outcome.metadata.get("observed"), "threshold": outcome.metadata.get("threshold"),
                        "baseline": outcome.metadata.get("baseline")})
        if STATUS_CODE[outcome.level] > STATUS_CODE[status]:
            status = outcome.level
    if freshness is not None and not freshness.fresh:
        failing.append({"check": "data_freshness", "severity": "ERROR", "partition": freshness.expected,
                        "since": freshness.newest_with_data, "description": freshness.description,
                        "observed": freshness.newest_with_data, "threshold": freshness.expected, "baseline": None})
        status = DEGRADED
    worst = [f for f in failing if (f["severity"] == "ERROR") == (status == DEGRADED)]
    since = min((f["since"] for f in worst if f["since"]), default=None)
    latest = max(outcomes, default=None)
    return HealthReport(model=model, status=status, since=since, failing=failing,
                        drifted_features=_drifted(outcomes), metrics=_metrics(outcomes),
                        latest_partition=latest, freshness=freshness)


def _drifted(outcomes: Mapping[str, Mapping[str, CheckOutcome]]) -> list[str]:
    judged = _latest_judged(outcomes, "drift_within_limits")
    if judged is None:
        return []
    drifted = judged[1].metadata.get("drifted_features") or []
    return [str(f) for f in drifted][:5]


def _metrics(outcomes: Mapping[str, Mapping[str, CheckOutcome]]) -> list[dict[str, Any]]:
    judged = _latest_judged(outcomes, "performance_vs_baseline")
    if judged is None:
        return []
    partition, outcome = judged
    rows = outcome.metadata.get("metric_outcomes") or []
    return [dict(row, partition=partition) for row in rows]


def render_markdown(report: HealthReport) -> str:
    """The health asset's summary: status, since, why, drifted features, metrics vs baseline."""
    lines = [f"## {report.model}: **{report.status}**"]
    if report.since:
        lines.append(f"Since partition **{report.since}**.")
    if report.failing:
        lines += ["", "| check | severity | latest judged partition | failing since | why |", "|---|---|---|---|---|"]
        for f in report.failing:
            lines.append(f"| {escape_markdown(f['check'])} | {f['severity']} | {f['partition'] or ''} | "
                         f"{f['since'] or ''} | {escape_markdown(str(f['description']))} |")
    else:
        lines.append("Every check passes on its latest judged partition.")
    if report.drifted_features:
        lines += ["", "Top drifted features: " + ", ".join(escape_markdown(f) for f in report.drifted_features)]
    if report.metrics:
        lines += ["", "| metric | value | baseline | limit | passed | version |", "|---|---|---|---|---|---|"]
        for m in report.metrics:
            lines.append(f"| {escape_markdown(str(m.get('metric')))} | {_num(m.get('value'))} | {_num(m.get('baseline'))} | "
                         f"{_num(m.get('limit'))} | {m.get('passed')} | {escape_markdown(str(m.get('version')))} |")
    if report.freshness is not None:
        lines += ["", f"Data freshness: {escape_markdown(report.freshness.description)}"]
    return "\n".join(lines)


def escape_markdown(text: str) -> str:
    """Data values in Markdown stay text: no table breaks, links, images or HTML."""
    for char in ("\\", "|", "[", "]", "(", ")", "!", "<", ">", "*", "_", "`"):
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


_ESCAPED = re.compile(r"\\([\\|\[\]()!<>*_`])")


def unescape_markdown(text: str) -> str:
    """The text `escape_markdown` was given back, for places that show plain text (the report,
    the command line)."""
    return _ESCAPED.sub(r"\1", text)


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else ("" if value is None else str(value))


def cell(outcome: CheckOutcome | None) -> str:
    if outcome is None:
        return "-"
    if outcome.pending:
        return "pending"
    return "ok" if outcome.passed else outcome.severity


def render_table(outcomes: Mapping[str, Mapping[str, CheckOutcome]], checks: Sequence[str]) -> str:
    """One row per partition, one column per check: ok, WARN, ERROR, pending or -."""
    widths = [max(26, len(c) + 2) for c in checks]
    header = f"{'partition':<17}" + "".join(f"{c:<{w}}" for c, w in zip(checks, widths)) + "detail"
    lines = [header, "-" * len(header)]
    for partition in sorted(outcomes):
        row = outcomes[partition]
        details = []
        drift = row.get("drift_within_limits")
        if drift is not None and isinstance(drift.metadata.get("observed"), (int, float)):
            details.append(f"max drift {drift.metadata['observed']:.3f} ({drift.metadata.get('observed_feature')})")
        perf = row.get("performance_vs_baseline")
        if perf is not None and isinstance(perf.metadata.get("observed"), (int, float)) \
                and isinstance(perf.metadata.get("baseline"), (int, float)):
            details.append(f"{perf.metadata.get('metric', 'metric')} {perf.metadata['observed']:.3f} "
                           f"vs {perf.metadata['baseline']:.3f}")
        estimate = row.get("estimated_performance_vs_baseline")
        if estimate is not None and isinstance(estimate.metadata.get("observed"), (int, float)):
            details.append(f"{estimate.metadata.get('metric', 'estimate')} {estimate.metadata['observed']:.3f}")
        lines.append(f"{partition:<17}" + "".join(f"{cell(row.get(c)):<{w}}" for c, w in zip(checks, widths))
                     + "; ".join(details))
    return "\n".join(lines)
