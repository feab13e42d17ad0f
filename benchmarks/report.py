"""The per-model HTML report at scale: its size and its render time in Chromium.

    python -m benchmarks.report [--partitions 365] [--features 30] [--repeat 5]

Writes a year of daily partitions for one model (drift of every feature, realized and
estimated metrics with baseline and threshold, service metrics, the verdict of seven checks,
two version changes and a degradation) into a temporary SQLite metrics store, renders the
report from the store, and opens the file in Debian's chromium (headless, via Playwright) N
times. It prints the store's rows, the render time in Python, the file's size and the median
time from navigation to the `load` event and to the first paint. Nothing is written outside a
temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from monitoring_assets.metrics_store.report import render_report
from monitoring_assets.metrics_store.store import MetricRow, MetricsStore

CHECKS = ("schema_valid", "drift_within_limits", "performance_vs_baseline", "label_coverage", "latency_slo",
          "estimated_performance_vs_baseline", "estimate_reconciled")


def year_of_rows(partitions: int, features: int, seed: int = 3) -> list[MetricRow]:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc)
    degraded_from = int(partitions * 0.8)
    rows = []
    for index in range(partitions):
        begin = start + dt.timedelta(days=index)
        end = begin + dt.timedelta(days=1)
        version = "1" if index < partitions // 3 else ("2" if index < 2 * partitions // 3 else "3")
        bad = index >= degraded_from
        for f in range(features):
            score = float(abs(rng.normal(0.05, 0.02)) + (0.25 if bad and f < 5 else 0.0))
            level = "error" if score >= 0.2 else ("warn" if score >= 0.1 else "ok")
            rows.append(MetricRow("churn", version, begin, end, "drift", f"feature_{f:02d}", score,
                                  warn_threshold=0.1, threshold=0.2, level=level))
        for name, base in (("accuracy", 0.86), ("roc_auc", 0.91), ("f1", 0.78)):
            value = base - (0.2 if bad else 0.0) + float(rng.normal(0, 0.01))
            rows.append(MetricRow("churn", version, begin, end, "performance", name, value, baseline=base,
                                  threshold=base * 0.95, level="error" if value < base * 0.95 else "ok"))
            rows.append(MetricRow("churn", version, begin, end, "estimate", name, value + 0.01,
                                  baseline=base, low=value - 0.02, high=value + 0.04, threshold=base * 0.95))
        for name, value in (("rows", 1500.0), ("latency_p95_ms", 120 + float(rng.normal(0, 5))),
                            ("error_rate", 0.002)):
            rows.append(MetricRow("churn", version, begin, end, "service", name, value))
        for check in CHECKS:
            failing = bad and check in ("drift_within_limits", "performance_vs_baseline")
            rows.append(MetricRow("churn", version, begin, end, "check", check, level="error" if failing else "ok"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=365)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="report-bench-"))
    try:
        store = MetricsStore(f"sqlite:///{folder / 'metrics.db'}")
        rows = year_of_rows(args.partitions, args.features)
        store.write_partition(rows)
        health = {"status": "DEGRADED", "since": (dt.date(2025, 11, 1) + dt.timedelta(
            days=int(args.partitions * 0.8))).isoformat(), "headline": "churn: DEGRADED",
            "failing": [{"check": "drift_within_limits", "description": "5 features past their error threshold"}]}
        render_s = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            html = render_report("churn", "churn-classifier", health, store.rows("churn"))
            render_s.append(time.perf_counter() - began)
        report = folder / "report.html"
        report.write_text(html, encoding="utf-8")
        load_ms, paint_ms = browser_times(report, args.repeat)
        figures = {"partitions": args.partitions, "features": args.features, "store_rows": len(rows),
                   "render_s": statistics.median(render_s), "bytes": report.stat().st_size,
                   "chromium_load_ms": statistics.median(load_ms) if load_ms else None,
                   "chromium_first_paint_ms": statistics.median(paint_ms) if paint_ms else None}
        print(f"{args.partitions} partitions x {args.features} features: {len(rows)} store rows")
        print(f"render (store read + HTML), median of {args.repeat}: {figures['render_s']:.2f} s")
        print(f"report size: {figures['bytes'] / 1e6:.2f} MB")
        if load_ms:
            print(f"chromium, navigation to load event, median of {len(load_ms)}: {figures['chromium_load_ms']:.0f} ms; "
                  f"first paint {figures['chromium_first_paint_ms']:.0f} ms")
        else:
            print("chromium: not installed, render time in a browser not measured")
        print(json.dumps(figures))
        store.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def browser_times(report: Path, repeat: int) -> tuple[list[float], list[float]]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return [], []
    from playwright.sync_api import sync_playwright

    load_ms, paint_ms = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            for _ in range(repeat):
                page = browser.new_page(viewport={"width": 1500, "height": 1000})
                page.goto(report.as_uri(), wait_until="load")
                timing = page.evaluate("""() => {
                    const nav = performance.getEntriesByType('navigation')[0];
                    const paint = performance.getEntriesByName('first-contentful-paint')[0];
                    return [nav.loadEventEnd - nav.startTime, paint ? paint.startTime : null];
                }""")
                load_ms.append(timing[0])
                if timing[1] is not None:
                    paint_ms.append(timing[1])
                page.close()
        finally:
            browser.close()
    return load_ms, paint_ms


if __name__ == "__main__":
    main()
