"""The demo's HTML report opened from its file in a real browser (Debian's chromium): the
health, the marker of the day the checks started failing, and a drifted feature's threshold
line. A screenshot goes to test-artifacts/."""

from pathlib import Path

import pytest

from monitoring_assets_tests.deploy.services import chromium_path

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_report_answers_which_model_since_when_why_and_what_changed(demo_summary, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    report = Path(demo_summary["report"])
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.split("<ul class=\"links\">")[0], "self-contained"
    from monitoring_assets.metrics_store.store import MetricsStore

    store = MetricsStore(demo_summary["metrics_url"])
    thresholds = {r["name"]: r["threshold"] for r in store.rows(demo_summary["model"], ["drift"])}
    store.dispose()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(report.as_uri())
            assert page.locator("#health-status").inner_text() == demo_summary["health"]["status"]
            assert page.locator("#health-headline").inner_text() == demo_summary["health"]["headline"]
            onset = page.locator(f'line.marker.degradation[data-partition="{demo_summary["drift_day"]}"]')
            assert onset.count() > 0, "every chart marks the day the checks started failing"
            assert page.locator(f'li.degradation[data-partition="{demo_summary["drift_day"]}"]').is_visible()
            # The gate's promotion, from the model's audit history.
            promoted = page.locator(f'li.lifecycle.promoted[data-version="{demo_summary["promotion"]["champion"]}"]')
            assert promoted.count() == 1 and promoted.is_visible()
            failing_cell = page.locator(f'rect.cell.error[data-check="drift_within_limits"]'
                                        f'[data-partition="{demo_summary["drift_day"]}"]')
            assert failing_cell.count() == 1
            drifted = page.locator('figure.chart.drift[data-level="error"]').first
            assert drifted.is_visible()
            line = drifted.locator("line.threshold.error")
            assert line.count() == 1
            feature = drifted.get_attribute("data-feature")
            assert float(line.get_attribute("data-value")) == pytest.approx(thresholds[feature], rel=1e-5)
            assert page.locator("table.drifted td", has_text=feature).count() >= 1
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
