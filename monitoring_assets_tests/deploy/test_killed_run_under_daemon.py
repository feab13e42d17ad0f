"""Fault: a write-back run killed with `kill -9` under the real dagster-daemon.

Before: the run stayed STARTED for good, its pool slot stayed held ("1 / 1 slots occupied") and
41 minutes later the next partition's write-back was still blocked. Now run monitoring (on in
every instance file) fails the run once past its time limit and frees its slot, and the next
partition's write-back completes. MLflow here is a real `mlflow server` behind a proxy on
loopback that holds the write-back's first `log-batch` until released, so the run is killed
while it holds the slot.
"""

import http.client
import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import yaml

from monitoring_assets.demo.run import EMBEDDED_DAGSTER_YAML
from monitoring_assets_tests.deploy.services import BIN, Process, http_ok, wait_for
from monitoring_assets_tests.servers import free_port
from monitoring_assets_tests.world import World, day

pytestmark = pytest.mark.slow

POOL = "mlflow_writeback_m"
MAX_RUNTIME_S = 45  # production: 3600


class HoldingProxy:
    """Forwards every request to MLflow; while `holding`, a `log-batch` waits for `release()`."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.held = threading.Event()
        self._release = threading.Event()
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "log-batch" in self.path and not proxy._release.is_set():
                    proxy.held.set()
                    proxy._release.wait(600)
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client was the killed run worker

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Forward)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()


def _instance_yaml(home: Path) -> str:
    text = EMBEDDED_DAGSTER_YAML.format(home=home.as_posix())
    return (text.replace("max_runtime_seconds: 3600", f"max_runtime_seconds: {MAX_RUNTIME_S}")
                .replace("poll_interval_seconds: 30", "poll_interval_seconds: 2")
                .replace("free_slots_after_run_end_seconds: 60", "free_slots_after_run_end_seconds: 2"))


def _launch(env: dict, workspace: Path, partition: str, cwd: Path) -> None:
    subprocess.run([str(BIN / "dagster"), "job", "launch", "-j", "m_monitoring", "-w", str(workspace),
                    "--tags", json.dumps({"dagster/partition": partition})],
                   env=env, cwd=cwd, check=True, capture_output=True, timeout=300)


def _processes_naming(text: str) -> list[int]:
    """The processes whose command line contains `text` (the run worker's holds its run id)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _run_of(instance: dg.DagsterInstance, partition: str):
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": partition}))
    return runs[0] if runs else None


def test_a_killed_writeback_frees_its_slot_and_the_next_partition_writes(tmp_path):
    world = World(tmp_path)
    world.register()
    world.write_day(day(0), seed=70)
    world.write_day(day(1), seed=71)
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(_instance_yaml(home))
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MONITORING_"))}
    env |= {"DAGSTER_HOME": str(home), "MLFLOW_DISABLE_TELEMETRY": "true"}
    mlflow_port = free_port()
    mlflow = Process("mlflow", [str(BIN / "mlflow"), "server", "--backend-store-uri", world.tracking_uri,
                                "--default-artifact-root", (tmp_path / "artifacts").as_uri(),
                                "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers", "1"], env, logs)
    proxy = HoldingProxy(mlflow_port)
    config = world.config_dict()
    config["mlflow"]["tracking_uri"] = f"http://127.0.0.1:{proxy.port}"
    config["sensors"] = {"default_running": False}
    config_path = tmp_path / "monitoring.yaml"
    config_path.write_text(yaml.safe_dump(config))
    env["MONITORING_CONFIG"] = str(config_path)
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [{"python_module": {
        "module_name": "monitoring_assets.definitions", "location_name": "monitoring_assets"}}]}))
    daemon = Process("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], env, logs)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        mlflow.start()
        wait_for(lambda: http_ok(f"http://127.0.0.1:{mlflow_port}/health"), 120, "mlflow server", processes=[mlflow])
        daemon.start()
        _launch(env, workspace, day(0), tmp_path)
        wait_for(proxy.held.is_set, 300, "the write-back's first log-batch", processes=[daemon, mlflow])
        killed = _run_of(instance, day(0))
        assert killed.status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info(POOL).active_run_ids == {killed.run_id}

        workers = _processes_naming(killed.run_id)
        assert workers, "no run worker process found"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        wait_for(lambda: instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE,
                 MAX_RUNTIME_S + 120, "run monitoring to fail the killed run", processes=[daemon])
        wait_for(lambda: not instance.event_log_storage.get_concurrency_info(POOL).active_run_ids,
                 60, "the killed run's pool slot to be freed", processes=[daemon])
        freed_after = time.monotonic() - started

        proxy.release()
        _launch(env, workspace, day(1), tmp_path)
        wait_for(lambda: (r := _run_of(instance, day(1))) and r.status in (
            dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE), 300, "the next partition's run",
            processes=[daemon])
        following = _run_of(instance, day(1))
        assert following.status == dg.DagsterRunStatus.SUCCESS
        steps = {e.step_key for e in instance.all_logs(following.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)}
        assert "m__monitoring_run" in steps
        print(f"\nkilled write-back failed and its slot freed {freed_after:.0f} s after the kill "
              f"(max runtime {MAX_RUNTIME_S} s); the next partition's write-back completed")
    finally:
        daemon.stop()
        proxy.stop()
        mlflow.stop()
        instance.dispose()
