"""Category values written as Markdown (an image, a link, HTML) stay text in the Dagster UI: in a
real browser the check's description and its metadata table show them as written, no link is
made from Markdown, and the image host on loopback receives no request."""

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import yaml

import monitoring_assets_tests.world as world_module
from monitoring_assets.demo.run import EMBEDDED_DAGSTER_YAML
from monitoring_assets_tests.deploy.services import (
    BIN,
    Process,
    chromium_path,
    dismiss_community_dialog,
    http_ok,
    wait_for,
)
from monitoring_assets_tests.servers import free_port
from monitoring_assets_tests.world import World, day

pytestmark = pytest.mark.slow


class ImageHost:
    """Records every request: the page must never make one."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                host.paths.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_markdown_in_data_values_stays_text_in_the_ui(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    host = ImageHost()
    values = [f"![p](http://127.0.0.1:{host.port}/p.png)", "[click](https://evil.example)", "<img src=x>"]
    plain = world_module.synthetic

    def with_hostile_values(task, rows, seed, flip=False):
        frame = plain(task, rows, seed, flip)
        for index, value in enumerate(values):
            frame.loc[frame.index[index * 30:(index + 1) * 30], "segment"] = value
        return frame

    monkeypatch.setattr(world_module, "synthetic", with_hostile_values)
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(EMBEDDED_DAGSTER_YAML.format(home=home.as_posix()))
    world = World(tmp_path)
    world.instance = dg.DagsterInstance.from_config(str(home))
    world.register()
    world.write_day(day(0))
    world.materialize(day(0))
    world.instance.dispose()
    config = tmp_path / "monitoring.yaml"
    config.write_text(yaml.safe_dump(world.config_dict()))

    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MONITORING_"))},
           "DAGSTER_HOME": str(home), "MONITORING_CONFIG": str(config), "MLFLOW_DISABLE_TELEMETRY": "true"}
    logs = tmp_path / "logs"
    logs.mkdir()
    web = Process("webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
                                "-w", str(Path(__file__).resolve().parents[1] / "workspace.yaml")],
                  env, logs).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/server_info"), 240, "the webserver", processes=[web])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{url}/assets/m/validated_batch?view=checks&checkDetail=schema_valid", wait_until="networkidle")
            description = page.get_by_text("unseen_category").first
            description.wait_for(timeout=90_000)
            dismiss_community_dialog(page)
            # Shown as written: the Markdown syntax is visible text, not an image or a link. (A bare
            # URL may still be made a link by the UI, as any text is; its Markdown never is.)
            text = description.inner_text()
            assert "![p](" in text and "[click](" in text, text
            assert description.locator("img").count() == 0
            assert description.locator("a", has_text="click").count() == 0
            # The metadata table (Show Markdown) of the same evaluation.
            page.get_by_text("[Show Markdown]").first.click()
            table = page.locator("table").filter(has_text="unseen_category").last
            table.wait_for(timeout=30_000)
            assert "![p](" in table.inner_text() and "<img src=x>" in table.inner_text()
            assert table.locator("img").count() == 0 and table.locator("a", has_text="click").count() == 0
            page.screenshot(path=str(tmp_path / "hostile.png"))
            browser.close()
        assert host.paths == [], host.paths
    finally:
        web.stop()
        host.stop()
