"""The per-model HTML report: one self-contained file (inline CSS and SVG, no script, no CDN),
so that it opens offline, from the storage root or from an MLflow artifact.

It answers "which model, since when, why, and what changed" from the metrics store's rows and
the model's health: a heat map of partitions x checks, drift per feature against its warn and
error lines, each metric against its baseline and threshold (with the estimate and its band),
markers where the served version changed, and the drifted features of the latest failing
partition.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitoring_assets.health.status import unescape_markdown

LEVEL_COLOURS = {"ok": "#2e9e5b", "warn": "#e8a317", "error": "#d62f2f", None: "#c8c8c8"}
STATUS_COLOURS = {"HEALTHY": "#2e9e5b", "WARNING": "#e8a317", "DEGRADED": "#d62f2f"}
_WIDTH, _HEIGHT, _PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 660, 170, 56, 12, 14, 26
_HEAT_ROW = 18


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class _Clock:
    """Partitions are shown in the model's time zone, as their keys are: the store keeps UTC."""

    hourly: bool
    zone: dt.tzinfo


def _day(moment: dt.datetime, clock: _Clock) -> str:
    return moment.astimezone(clock.zone).strftime("%Y-%m-%d %H:00" if clock.hourly else "%Y-%m-%d")


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.4g}"


class _Axis:
    """x: partition index over every partition of the model; y: linear over the values shown."""

    def __init__(self, partitions: Sequence[dt.datetime], values: Sequence[float]):
        self.index = {p: i for i, p in enumerate(partitions)}
        self.count = max(len(partitions), 1)
        finite = [v for v in values if v is not None and math.isfinite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if high - low < 1e-12:
            low, high = low - 0.5 * (abs(low) or 1.0), high + 0.5 * (abs(high) or 1.0)
        margin = 0.06 * (high - low)
        # Scores, rates and counts are never negative: their axis does not go below zero.
        self.low, self.high = (max(0.0, low - margin) if low >= 0 else low - margin), high + margin

    def x(self, partition: dt.datetime) -> float:
        span = _WIDTH - _PAD_LEFT - _PAD_RIGHT
        return _PAD_LEFT + (self.index[partition] + 0.5) * span / self.count

    def y(self, value: float) -> float:
        span = _HEIGHT - _PAD_TOP - _PAD_BOTTOM
        return _PAD_TOP + (self.high - value) / (self.high - self.low) * span


def _frame(axis: _Axis, partitions: Sequence[dt.datetime], clock: _Clock) -> list[str]:
    parts = [f'<rect x="{_PAD_LEFT}" y="{_PAD_TOP}" width="{_WIDTH - _PAD_LEFT - _PAD_RIGHT}" '
             f'height="{_HEIGHT - _PAD_TOP - _PAD_BOTTOM}" class="plot"/>']
    for value in (axis.low, (axis.low + axis.high) / 2, axis.high):
        parts.append(f'<text x="{_PAD_LEFT - 4}" y="{axis.y(value) + 4:.1f}" class="ytick">{_num(value)}</text>')
    step = max(1, len(partitions) // 6)
    for partition in list(partitions)[::step]:
        parts.append(f'<text x="{axis.x(partition):.1f}" y="{_HEIGHT - 8}" class="xtick">'
                     f'{_esc(_day(partition, clock))}</text>')
    return parts


def degradations(rows: Sequence[Mapping[str, Any]]) -> list[dt.datetime]:
    """The first partition of each run of partitions where a check failed at ERROR."""
    failing = {r["partition_start"] for r in rows if r["kind"] == "check" and r.get("level") == "error"}
    judged = sorted({r["partition_start"] for r in rows if r["kind"] == "check"})
    starts, previous = [], False
    for partition in judged:
        now = partition in failing
        if now and not previous:
            starts.append(partition)
        previous = now
    return starts


def _markers(axis: _Axis, changes: Sequence[dict], since: dt.datetime | None, clock: _Clock,
             onsets: Sequence[dt.datetime] = ()) -> list[str]:
    parts = []
    for onset in onsets:
        x = axis.x(onset)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_PAD_TOP}" y2="{_HEIGHT - _PAD_BOTTOM}" '
                     f'class="marker degradation" data-partition="{_esc(_day(onset, clock))}">'
                     f'<title>checks fail at ERROR from {_esc(_day(onset, clock))}</title></line>')
    for change in changes:
        x = axis.x(change["partition"])
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_PAD_TOP}" y2="{_HEIGHT - _PAD_BOTTOM}" '
                     f'class="marker version-change" data-partition="{_esc(_day(change["partition"], clock))}">'
                     f'<title>version {_esc(change["from"])} to {_esc(change["to"])} on '
                     f'{_esc(_day(change["partition"], clock))}</title></line>')
    if since is not None and since in axis.index:
        x = axis.x(since)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_PAD_TOP}" y2="{_HEIGHT - _PAD_BOTTOM}" '
                     f'class="marker degraded-since" data-partition="{_esc(_day(since, clock))}">'
                     f'<title>failing since {_esc(_day(since, clock))}</title></line>')
    return parts


def _hline(axis: _Axis, value: float | None, css: str, label: str) -> str:
    if value is None or not math.isfinite(value):
        return ""
    y = axis.y(value)
    return (f'<line x1="{_PAD_LEFT}" x2="{_WIDTH - _PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="{css}" '
            f'data-value="{value:.6g}"><title>{_esc(label)} {_num(value)}</title></line>')


def _polyline(axis: _Axis, points: Sequence[tuple[dt.datetime, float | None]], css: str) -> str:
    coords = " ".join(f"{axis.x(p):.1f},{axis.y(v):.1f}" for p, v in points if v is not None and math.isfinite(v))
    return f'<polyline points="{coords}" class="{css}"/>' if coords else ""


def _chart(title: str, body: list[str], css: str = "", data: str = "") -> str:
    return (f'<figure class="chart {css}" {data}><figcaption>{_esc(title)}</figcaption>'
            f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" role="img">'
            f'{"".join(body)}</svg></figure>')


def version_changes(rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Where the version a partition was judged against (its drift reference, else its
    performance) differs from the previous partition's: a promotion or a rollback."""
    main: dict[dt.datetime, str] = {}
    for row in rows:
        if row["kind"] in ("drift", "service"):
            main.setdefault(row["partition_start"], row["version"])
    changes, previous = [], None
    for partition in sorted(main):
        if previous is not None and main[partition] != previous:
            changes.append({"partition": partition, "from": previous, "to": main[partition]})
        previous = main[partition]
    return changes


def _partition_of(key: str | None, partitions: Sequence[dt.datetime], clock: _Clock) -> dt.datetime | None:
    return next((p for p in partitions if _day(p, clock) == key
                 or p.astimezone(clock.zone).strftime("%Y-%m-%d-%H:00") == key), None)


def _heat_map(rows: Sequence[Mapping[str, Any]], partitions: Sequence[dt.datetime], clock: _Clock) -> str:
    cells: dict[str, dict[dt.datetime, Mapping[str, Any]]] = defaultdict(dict)
    for row in rows:
        if row["kind"] == "check":
            cells[row["name"]][row["partition_start"]] = row
    checks = sorted(cells)
    label_width, cell = 230, max(2.0, min(16.0, (2 * _WIDTH - 230) / max(len(partitions), 1)))
    height = _HEAT_ROW * len(checks) + 24
    index = {p: i for i, p in enumerate(partitions)}
    parts = []
    for r, check in enumerate(checks):
        y = r * _HEAT_ROW
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" class="ytick">{_esc(check)}</text>')
        for partition, row in cells[check].items():
            level = row.get("level")
            parts.append(
                f'<rect x="{label_width + index[partition] * cell:.1f}" y="{y + 2}" width="{cell:.1f}" '
                f'height="{_HEAT_ROW - 4}" fill="{LEVEL_COLOURS.get(level, LEVEL_COLOURS[None])}" '
                f'class="cell {_esc(level or "none")}" data-check="{_esc(check)}" '
                f'data-partition="{_esc(_day(partition, clock))}"><title>{_esc(check)} '
                f'{_esc(_day(partition, clock))}: {_esc(level or "no verdict")}'
                f'{"" if row.get("value") is None else " (observed " + _num(row["value"]) + ")"}</title></rect>')
    step = max(1, len(partitions) // 6)
    for partition in list(partitions)[::step]:
        parts.append(f'<text x="{label_width + index[partition] * cell:.1f}" y="{height - 6}" class="xtick-left">'
                     f'{_esc(_day(partition, clock))}</text>')
    width = label_width + cell * len(partitions) + 10
    return (f'<svg class="heatmap" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
            f'role="img">{"".join(parts)}</svg>')


def _series(rows: Sequence[Mapping[str, Any]], kind: str) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    series: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["kind"] == kind:
            series[(row["name"], row["version"])].append(row)
    return series


def _drift_charts(rows, partitions, changes, since, clock, onsets) -> list[str]:
    by_feature: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["kind"] == "drift":
            by_feature[row["name"]].append(row)
    order = {"error": 0, "warn": 1}
    # Features that drifted most recently and worst come first.
    ranked = sorted(by_feature, key=lambda f: (order.get(by_feature[f][-1].get("level"), 2),
                                               -(by_feature[f][-1].get("value") or 0.0), f))
    charts = []
    for feature in ranked:
        points = by_feature[feature]
        last = points[-1]
        axis = _Axis(partitions, [p["value"] for p in points] + [last.get("threshold"), last.get("warn_threshold"), 0.0])
        body = _frame(axis, partitions, clock)
        body.append(_hline(axis, last.get("warn_threshold"), "threshold warn", "warn"))
        body.append(_hline(axis, last.get("threshold"), "threshold error", "error"))
        body += _markers(axis, changes, since, clock, onsets)
        body.append(_polyline(axis, [(p["partition_start"], p["value"]) for p in points], "series"))
        for p in points:
            if p.get("level") in ("warn", "error") and p.get("value") is not None:
                body.append(f'<circle cx="{axis.x(p["partition_start"]):.1f}" cy="{axis.y(p["value"]):.1f}" r="3" '
                            f'class="point {p["level"]}"><title>{_esc(_day(p["partition_start"], clock))}: '
                            f'{_num(p["value"])} ({p["level"]})</title></circle>')
        charts.append(_chart(f"{feature}: {_num(last.get('value'))} (warn {_num(last.get('warn_threshold'))}, "
                             f"error {_num(last.get('threshold'))})", body, "drift",
                             f'data-feature="{_esc(feature)}" data-level="{_esc(last.get("level") or "ok")}"'))
    return charts


def _metric_charts(rows, partitions, changes, since, clock, main_versions, onsets) -> list[str]:
    realized = _series(rows, "performance")
    estimated = _series(rows, "estimate")
    names = sorted({name for name, _ in realized} | {name for name, _ in estimated})
    charts = []
    for name in names:
        if name == "labeled_rows":
            continue
        lines = [(v, pts) for (n, v), pts in realized.items() if n == name]
        estimates = [(v, pts) for (n, v), pts in estimated.items() if n == name]
        values = [p[k] for _, pts in lines + estimates for p in pts for k in ("value", "baseline", "threshold", "low", "high")
                  if p.get(k) is not None]
        if not values:
            continue
        axis = _Axis(partitions, values)
        body = _frame(axis, partitions, clock)
        for version, pts in estimates:
            band = [(p["partition_start"], p.get("low"), p.get("high")) for p in pts
                    if p.get("low") is not None and p.get("high") is not None]
            if band:
                upper = " ".join(f"{axis.x(t):.1f},{axis.y(h):.1f}" for t, _, h in band)
                lower = " ".join(f"{axis.x(t):.1f},{axis.y(lo):.1f}" for t, lo, _ in reversed(band))
                body.append(f'<polygon points="{upper} {lower}" class="band"><title>estimate band, version '
                            f'{_esc(version)}</title></polygon>')
            body.append(_polyline(axis, [(p["partition_start"], p["value"]) for p in pts], "series estimate"))
        for version, pts in lines:
            main = version in main_versions
            body.append(_polyline(axis, [(p["partition_start"], p.get("baseline")) for p in pts], "baseline"))
            body.append(_polyline(axis, [(p["partition_start"], p.get("threshold")) for p in pts], "threshold error"))
            body.append(_polyline(axis, [(p["partition_start"], p["value"]) for p in pts],
                                  "series" + ("" if main else " other-version")))
            for p in pts:
                if p.get("level") in ("warn", "error") and p.get("value") is not None:
                    body.append(f'<circle cx="{axis.x(p["partition_start"]):.1f}" cy="{axis.y(p["value"]):.1f}" '
                                f'r="3" class="point {p["level"]}"><title>v{_esc(version)} '
                                f'{_esc(_day(p["partition_start"], clock))}: {_num(p["value"])}</title></circle>')
        body += _markers(axis, changes, since, clock, onsets)
        latest = (lines or estimates)[0][1][-1]
        charts.append(_chart(f"{name}: {_num(latest.get('value'))} (baseline {_num(latest.get('baseline'))}, "
                             f"threshold {_num(latest.get('threshold'))})", body, "metric", f'data-metric="{_esc(name)}"'))
    return charts


def _service_charts(rows, partitions, changes, since, clock, onsets) -> list[str]:
    charts = []
    for (name, _version), pts in sorted(_series(rows, "service").items()):
        axis = _Axis(partitions, [p["value"] for p in pts] + [pts[-1].get("threshold")])
        body = _frame(axis, partitions, clock)
        body.append(_hline(axis, pts[-1].get("threshold"), "threshold error", "limit"))
        body += _markers(axis, changes, since, clock, onsets)
        body.append(_polyline(axis, [(p["partition_start"], p["value"]) for p in pts], "series"))
        charts.append(_chart(f"{name}: {_num(pts[-1].get('value'))}", body, "service", f'data-metric="{_esc(name)}"'))
    return charts


def _latest_failing_table(rows, clock) -> str:
    failing = sorted({r["partition_start"] for r in rows if r["kind"] == "check" and r.get("level") in ("warn", "error")})
    if not failing:
        return "<p>No partition has a failing check.</p>"
    latest = failing[-1]
    drifted = sorted((r for r in rows if r["kind"] == "drift" and r["partition_start"] == latest
                      and r.get("level") in ("warn", "error")), key=lambda r: -(r.get("value") or 0.0))
    checks = [r for r in rows if r["kind"] == "check" and r["partition_start"] == latest and r.get("level") != "ok"]
    out = [f'<p>Latest failing partition: <strong id="latest-failing">{_esc(_day(latest, clock))}</strong>; '
           f'failing checks: {_esc(", ".join(r["name"] + " (" + r["level"] + ")" for r in checks))}.</p>']
    if drifted:
        out.append('<table class="drifted"><tr><th>feature</th><th>score</th><th>warn</th><th>error</th>'
                   '<th>level</th><th>version</th></tr>')
        for r in drifted:
            out.append(f'<tr class="{_esc(r["level"])}"><td>{_esc(r["name"])}</td><td>{_num(r["value"])}</td>'
                       f'<td>{_num(r.get("warn_threshold"))}</td><td>{_num(r.get("threshold"))}</td>'
                       f'<td>{_esc(r["level"])}</td><td>{_esc(r["version"])}</td></tr>')
        out.append("</table>")
    else:
        out.append("<p>No feature drifted in that partition.</p>")
    return "".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d1d1f;max-width:1500px}
h1{margin:0 0 4px}h2{margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.status{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:600}
.muted{color:#666}.grid{display:flex;flex-wrap:wrap;gap:8px}
figure.chart{margin:0;border:1px solid #e4e4e4;border-radius:4px;padding:4px}
figcaption{font-size:13px;font-weight:600;padding:2px 4px}
svg text{font-size:10px;fill:#555}.ytick{text-anchor:end}.xtick{text-anchor:middle}.xtick-left{text-anchor:start}
.plot{fill:#fafafa;stroke:#e0e0e0}
.series{fill:none;stroke:#1f5fbf;stroke-width:1.6}.series.estimate{stroke:#7b3fbf;stroke-dasharray:2 2}
.series.other-version{stroke:#888}
.baseline{fill:none;stroke:#333;stroke-width:1;stroke-dasharray:6 3}
.threshold{fill:none;stroke-width:1.2;stroke-dasharray:4 3}.threshold.warn{stroke:#e8a317}.threshold.error{stroke:#d62f2f}
.band{fill:#7b3fbf;fill-opacity:.15;stroke:none}
.marker.version-change{stroke:#1f9e9e;stroke-width:2}.marker.degradation{stroke:#8b0000;stroke-width:1.5}.marker.degraded-since{stroke:#d62f2f;stroke-width:2;stroke-dasharray:1 2}
.point.warn{fill:#e8a317}.point.error{fill:#d62f2f}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
tr.error td{background:#fde8e8}tr.warn td{background:#fff4dc}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
"""


def render_report(model: str, registered_model: str, health: Mapping[str, Any], rows: Sequence[Mapping[str, Any]],
                  hourly: bool = False, links: Mapping[str, str] | None = None,
                  generated_at: dt.datetime | None = None, timezone: str = "UTC",
                  lifecycle: Sequence[Mapping[str, Any]] = ()) -> str:
    """`health`: a HealthReport's dict (status, since, headline, failing, ...); `rows`: the
    store's rows of the model; `lifecycle`: the latest audit events ({at, event, summary,
    version}), newest first."""
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc)
    clock = _Clock(hourly, zoneinfo.ZoneInfo(timezone))
    rows = sorted(rows, key=lambda r: (r["partition_start"], r["kind"], r["name"], r["version"]))
    partitions = sorted({r["partition_start"] for r in rows if r["kind"] != "health"})
    changes = version_changes(rows)
    status = health.get("status", "HEALTHY")
    since = _partition_of(health.get("since"), partitions, clock)
    main_versions = {r["version"] for r in rows if r["kind"] in ("drift", "service")}
    failing = health.get("failing") or []
    reasons = "".join(f"<li><strong>{_esc(f.get('check'))}</strong>: {_esc(unescape_markdown(f.get('description', '')))}</li>"
                      for f in failing)
    link_items = "".join(f'<li><a href="{_esc(url)}">{_esc(label)}</a></li>' for label, url in (links or {}).items())
    onset_items = "".join(f'<li class="degradation" data-partition="{_esc(_day(o, clock))}">'
                          f'{_esc(_day(o, clock))}: checks start failing at ERROR</li>' for o in degradations(rows))
    lifecycle_items = "".join(
        f'<li class="lifecycle {_esc(e["event"])}" data-version="{_esc(e.get("version", ""))}">'
        f'{_esc(e["at"].astimezone(clock.zone).strftime("%Y-%m-%d %H:%M"))}: <strong>{_esc(e["event"])}</strong> '
        f'{_esc(unescape_markdown(e.get("summary", "")))}</li>' for e in lifecycle)
    change_items = lifecycle_items + onset_items + "".join(
        f'<li class="version-change">{_esc(_day(c["partition"], clock))}: version {_esc(c["from"])} '
        f'&rarr; {_esc(c["to"])}</li>' for c in changes) or "<li>No version change in this window.</li>"
    onsets = degradations(rows)
    drift = _drift_charts(rows, partitions, changes, since, clock, onsets)
    metrics = _metric_charts(rows, partitions, changes, since, clock, main_versions, onsets)
    service = _service_charts(rows, partitions, changes, since, clock, onsets)
    window = (f"{_day(partitions[0], clock)} to {_day(partitions[-1], clock)}, {len(partitions)} partitions"
              if partitions else "no partition yet")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(model)}: {_esc(status)}</title>
<style>{_CSS}</style></head><body>
<h1>{_esc(model)} <span class="muted">({_esc(registered_model)})</span></h1>
<p class="muted">{_esc(window)}; generated {_esc(generated_at.strftime("%Y-%m-%d %H:%M UTC"))}</p>
<section id="health"><h2>Health</h2>
<p><span class="status" id="health-status" style="background:{STATUS_COLOURS.get(status, '#888')}">{_esc(status)}</span>
 <span id="health-since">{_esc("since " + health["since"]) if health.get("since") and status != "HEALTHY" else ""}</span></p>
<p id="health-headline">{_esc(unescape_markdown(health.get("headline", "")))}</p>
<ul id="health-reasons">{reasons}</ul>
{f'<ul class="links">{link_items}</ul>' if link_items else ""}</section>
<section id="changes"><h2>What changed</h2><ul>{change_items}</ul></section>
<section id="checks"><h2>Checks per partition</h2>
<p class="legend"><span style="background:{LEVEL_COLOURS['ok']}"></span>passed<span style="background:{LEVEL_COLOURS['warn']}"></span>failed (WARN)<span style="background:{LEVEL_COLOURS['error']}"></span>failed (ERROR)<span style="background:{LEVEL_COLOURS[None]}"></span>no verdict</p>
{_heat_map(rows, partitions, clock)}</section>
<section id="latest-failing-partition"><h2>Latest failing partition</h2>{_latest_failing_table(rows, clock)}</section>
<section id="drift"><h2>Drift per feature</h2>
<p class="muted">Score per partition; dashed lines: warn (amber) and error (red) thresholds; teal: version change; dark red: checks start failing at ERROR; dotted red: failing since.</p>
<div class="grid">{"".join(drift) or "<p>No drift scored yet.</p>"}</div></section>
<section id="performance"><h2>Performance against the baseline</h2>
<p class="muted">Blue: realized; purple dashed with band: estimated before labels; black dashed: baseline; red dashed: threshold.</p>
<div class="grid">{"".join(metrics) or "<p>No metric yet.</p>"}</div></section>
<section id="service"><h2>Service</h2><div class="grid">{"".join(service) or "<p>No service metric yet.</p>"}</div></section>
</body></html>
"""
