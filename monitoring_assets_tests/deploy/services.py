"""Real processes for the production end-to-end test: PostgreSQL databases made and dropped
per test, and the MLflow server, Dagster code server, daemon and webserver on 127.0.0.1."""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, os.environ.get("MONITORING_TEST_PG_USER", "postgres")
REQUIRE_ENV = "MONITORING_REQUIRE_SERVICES"
BIN = Path(sys.executable).parent


def postgres_or_skip():
    """A connection to the server's `postgres` database, or a skip (a failure in CI)."""
    import psycopg2

    try:
        connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3)
    except psycopg2.OperationalError as exc:
        reason = f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} as {PG_USER!r}: {str(exc).strip()}"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this cannot be skipped)")
        pytest.skip(reason)
    connection.autocommit = True
    return connection


class Database:
    def __init__(self, admin, prefix: str) -> None:
        self.admin = admin
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{self.name}"')

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.name}"

    def drop(self) -> None:
        with self.admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Process:
    def __init__(self, name: str, args: list[str], env: dict, logs: Path) -> None:
        self.name, self.args, self.env, self.logs = name, args, env, logs
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "Process":
        self.starts += 1
        log = (self.logs / f"{self.name}-{self.starts}.log").open("wb")
        self.popen = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        return self

    def stop(self, timeout: float = 30) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.logs.glob(f"{self.name}-*.log")))

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


def wait_for(predicate, timeout: float, what: str, interval: float = 1.0, processes=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for process in processes:
            if not process.alive():
                raise AssertionError(f"{process.name} exited while waiting for {what}:\n{process.log_text()}")
        time.sleep(interval)
    details = "\n".join(f"--- {p.name}\n{p.log_text()}" for p in processes)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{details}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def binary_or_skip(names: tuple[str, ...], message: str) -> str:
    """The first of `names` on PATH, or a skip (a failure in CI, which installs it)."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    return binary_or_skip(("chromium", "chromium-browser"), "Debian's chromium is not installed (.ci/run installs it)")


def dismiss_community_dialog(page) -> None:
    """Dagster's first-visit community dialog opens a few seconds after the first page."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.first.wait_for(timeout=10_000)
    except PlaywrightTimeout:
        return
    skip.first.click()
    page.locator(".dagster-backdrop").first.wait_for(state="detached", timeout=10_000)


def alert_sensor_state(instance):
    """The alert sensor's stored state in the instance (its cursor holds the alert book)."""
    from monitoring_assets.sensors.alert_sensor import ALERT_SENSOR_NAME

    states = [s for s in instance.all_instigator_state() if s.instigator_name == ALERT_SENSOR_NAME]
    return states[0] if states else None


def alert_book(instance) -> dict:
    """The alert book as the daemon last stored it."""
    import json

    state = alert_sensor_state(instance)
    cursor = state.instigator_data.cursor if state else None
    return json.loads(cursor)["book"] if cursor else {}
