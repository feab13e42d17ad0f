"""The demo's verdicts as a person sees them, in a real browser (Debian's chromium) against a
real Dagster webserver over the demo's home: the link of a real ERROR alert, the check's
partitions with the failing day marked, and the model's health. Screenshots go to
test-artifacts/."""

import json
import os
import re
import time
from pathlib import Path

import pytest

from monitoring_assets_tests.deploy.services import (
    BIN,
    Process,
    chromium_path,
    dismiss_community_dialog,
    http_ok,
    wait_for,
)
from monitoring_assets_tests.servers import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def webserver(demo_summary, tmp_path_factory):
    chromium = chromium_path()
    home = demo_summary["home"]
    logs = tmp_path_factory.mktemp("web-logs")
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MONITORING_"))},
           "DAGSTER_HOME": str(home / "dagster"), "MONITORING_CONFIG": str(home / "monitoring.yaml"),
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    process = Process("webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
                                    "-w", str(REPO / "workspace.yaml")], env, logs).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/server_info"), 240, "the webserver", processes=[process])
        yield {"url": url, "chromium": chromium, "home": home}
    finally:
        process.stop()


def _alerts(home: Path) -> list[dict]:
    return [a for line in (home / "alerts.log").read_text().splitlines() for a in json.loads(line)["alerts"]]


def test_an_alert_link_a_failing_partition_and_the_health_in_the_browser(webserver):
    from playwright.sync_api import sync_playwright

    alerts = [a for a in _alerts(webserver["home"]) if a["check"] == "performance_vs_baseline"
              and a["severity"] == "ERROR" and a["kind"] == "firing"]
    assert alerts, "the demo sends a performance alert"
    alert = alerts[0]
    link = alert["dagster_url"].replace("http://127.0.0.1:3000", webserver["url"])
    check_page = alert["dagster_check_url"].replace("http://127.0.0.1:3000", webserver["url"])
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(Path(webserver["home"]) / "chromium-profile"), executable_path=webserver["chromium"], headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            viewport={"width": 1500, "height": 1000},
        )
        page = context.new_page()
        # The alert's link: the run that judged the partition, its header naming the partition,
        # the failed check marked failed.
        page.goto(link, wait_until="networkidle")
        verdict = "Check performance_vs_baseline failed for materialization of churn / model_performance"
        page.get_by_text(verdict).first.wait_for(timeout=90_000)
        dismiss_community_dialog(page)
        landed = page.inner_text("body")
        assert f"partition: {alert['partition']}" in landed and verdict in landed
        page.screenshot(path=str(ARTIFACTS / "alert-link-evaluation.png"))

        # The check's own page: Failed in the check list.
        page.goto(check_page, wait_until="networkidle")
        page.get_by_text("Latest execution").first.wait_for(timeout=90_000)
        assert page.get_by_role("heading", name="performance_vs_baseline").count() or \
            page.get_by_text("performance_vs_baseline").count()
        page.get_by_text("Failed").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "alert-link-check.png"))

        # One click: the check's partitions, the alert's day marked failed, its evaluation shown.
        tabs = page.get_by_role("tab", name="Partitions")
        wait_for(lambda: tabs.count() == 2, 30, "the check's Partitions tab")
        tabs.nth(1).click()
        page.get_by_text("Failed (").first.wait_for(timeout=30_000)
        counts = page.inner_text("body")
        failed = int(re.search(r"(?<!Execution )Failed \((\d+)\)", counts).group(1))
        assert failed >= 8, counts[:2000]  # the degraded days whose labels are in
        assert "Skipped (0)" in counts  # every evaluation belongs to its partition
        page.locator(f"text={alert['partition']} >> visible=true").first.click()
        page.get_by_text("Description").first.wait_for(timeout=30_000)
        time.sleep(1)
        detail = page.inner_text("body")
        assert alert["partition"] in detail and "Failed" in detail and "is below" in detail
        page.screenshot(path=str(ARTIFACTS / "check-partition-failed.png"))

        # The health asset: DEGRADED, since when and why, in the model_health group.
        page.goto(f"{webserver['url']}/assets/churn/health", wait_until="networkidle")
        page.get_by_text("DEGRADED").first.wait_for(timeout=90_000)
        dismiss_community_dialog(page)
        health = page.inner_text("body")
        assert "model_health" in health and "Since partition" in health and "performance_vs_baseline" in health
        page.screenshot(path=str(ARTIFACTS / "health-degraded.png"), full_page=True)

        # The alert's report link: the report asset, its latest materialization naming the file
        # and linking the report in MLflow.
        page.goto(alert["report_url"].replace("http://127.0.0.1:3000", webserver["url"]), wait_until="networkidle")
        page.get_by_text("report_mlflow").first.wait_for(timeout=90_000)
        dismiss_community_dialog(page)
        report_page = page.inner_text("body")
        assert "report_path" in report_page and "DEGRADED" in report_page
        assert "report.html" in report_page
        page.screenshot(path=str(ARTIFACTS / "alert-link-report.png"), full_page=True)

        # A lifecycle notice's link: the model's audit history, the promotion on it.
        notices = [json.loads(line)["notice"] for line in (Path(webserver["home"]) / "alerts.log").read_text().splitlines()]
        promoted = next(n for n in notices if n and n["event"] == "promoted")
        page.goto(promoted["links"]["Dagster"].replace("http://127.0.0.1:3000", webserver["url"]),
                  wait_until="networkidle")
        page.get_by_text(promoted["summary"]).first.wait_for(timeout=90_000)
        dismiss_community_dialog(page)
        event = page.inner_text("body")
        assert "External Asset" in event and "previous_version" in event
        assert len(re.findall(r"\b\d{1,2}:\d{2}\b", event)) >= 4  # the history lists each lifecycle event
        page.screenshot(path=str(ARTIFACTS / "lifecycle-audit-history.png"), full_page=True)

        # The demo's runs belong to the code location's jobs: the Jobs page shows when each ran.
        page.goto(f"{webserver['url']}/jobs", wait_until="networkidle")
        page.get_by_text("churn_monitoring").first.wait_for(timeout=60_000)
        lines = [line.strip() for line in page.inner_text("body").splitlines() if line.strip()]
        after = lines[lines.index("churn_monitoring") + 1]
        assert after.endswith("ago"), lines  # a job with no run shows no time here
        page.screenshot(path=str(ARTIFACTS / "jobs-with-runs.png"))
        context.close()
