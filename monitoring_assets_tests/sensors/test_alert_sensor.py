"""The alert sensor against a real Dagster instance, a real HTTP receiver and a real SMTP
server on 127.0.0.1: dedup, repeat, resolve, retries, restarts and secrets."""

import json
import logging

import dagster as dg
import pytest

from monitoring_assets.sensors import alert_sensor as alert_module
from monitoring_assets.sensors.alert_sensor import ALERT_SENSOR_NAME
from monitoring_assets.wiring import build_definitions
from monitoring_assets_tests.servers import HttpReceiver, SmtpServer
from monitoring_assets_tests.world import World, day

SMTP_USER = "alerts@example.test"
SMTP_PASSWORD = "pw-SECRET-456"
WEBHOOK_TOKEN = "tok-SECRET-123"


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def servers(tmp_path):
    http = HttpReceiver().start()
    smtp = SmtpServer(tmp_path, SMTP_USER, SMTP_PASSWORD).start()
    yield http, smtp
    http.stop()
    smtp.stop()


@pytest.fixture()
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(alert_module, "_now", clock)
    return clock


class AlertWorld(World):
    def __init__(self, root, http, smtp, monkeypatch):
        super().__init__(root)
        monkeypatch.setenv("TEST_WEBHOOK_URL", http.url(f"/hook/{WEBHOOK_TOKEN}"))
        monkeypatch.setenv("TEST_SLACK_URL", http.url("/slack"))
        monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
        self.http, self.smtp = http, smtp
        self.register()
        self.cursor: str | None = None

    def config_dict(self, **overrides):
        data = super().config_dict(**overrides)
        data["notifications"] = {
            "channels": {
                "hook": {"type": "webhook", "url_env": "TEST_WEBHOOK_URL"},
                "slack": {"type": "slack", "url_env": "TEST_SLACK_URL"},
                "mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": self.smtp.port,
                         "username": SMTP_USER, "password_env": "TEST_SMTP_PASSWORD", "verify_tls": False,
                         "sender": SMTP_USER, "recipients": ["oncall@example.test"], "timeout_seconds": 5},
            },
            "routes": [{"models": ["*"], "min_severity": "ERROR", "channels": ["hook", "slack", "mail"]}],
            "repeat_interval_minutes": 60,
            "retry_initial_seconds": 0,
        }
        return data

    def tick(self, restart: bool = False) -> dict:
        """One sensor evaluation, as the daemon does it: a fresh context from the stored cursor."""
        defs = build_definitions(self.config())
        sensor = defs.resolve_sensor_def(ALERT_SENSOR_NAME)
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=defs)
        result = sensor(context)
        self.cursor = result.cursor
        return json.loads(result.cursor)


def book(state: dict) -> dict:
    entries = {i["key"]: i for i in state["book"]["incidents"]}
    return entries | {n["key"]: n for n in state["book"]["notices"]}


def firing_keys(state: dict) -> set[str]:
    return {k for k, e in book(state).items() if e.get("status") == "firing"}


def pending(state: dict) -> list[tuple[str, str, str]]:
    return sorted((k, d["channel"], d["kind"]) for k, e in book(state).items() for d in e.get("pending", []))


def hook_alerts(http: HttpReceiver) -> list[dict]:
    return [a for body in http.bodies(f"/hook/{WEBHOOK_TOKEN}") for a in body["alerts"]]


def test_failures_reach_webhook_slack_and_email(tmp_path, servers, clock, monkeypatch):
    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    world.write_day(day(0), flip=True)
    world.materialize(day(0))
    state = world.tick()

    messages = http.bodies(f"/hook/{WEBHOOK_TOKEN}")
    assert len(messages) == 1  # grouped: one message for the model in this tick
    alerts = {a["check"]: a for a in messages[0]["alerts"]}
    assert set(alerts) == {"performance_vs_baseline", "drift_within_limits"}
    perf = alerts["performance_vs_baseline"]
    assert perf["kind"] == "firing" and perf["severity"] == "ERROR" and perf["partition"] == day(0)
    assert perf["model_version"] == "1" and perf["registered_model"] == "m-model"
    assert perf["observed"] < perf["threshold"] < perf["baseline"]
    assert perf["dagster_url"] == f"http://127.0.0.1:3000/runs/{perf['run_id']}?logs=type%3AASSET_CHECK_EVALUATION"
    assert perf["dagster_check_url"] == "http://127.0.0.1:3000/assets/m/model_performance?view=checks&checkDetail=performance_vs_baseline"
    assert perf["dagster_partition_url"] == f"http://127.0.0.1:3000/assets/m/model_performance?view=partitions&partition={day(0)}"
    assert perf["dagster_run_url"] == f"http://127.0.0.1:3000/runs/{perf['run_id']}"
    # The served version's monitoring run, whose charts hold one point per partition.
    from monitoring_assets.registry import ModelRegistry

    run_id = ModelRegistry(world.tracking_uri).monitoring_run(world.registered_model, "1")
    assert run_id and perf["mlflow_run_url"].startswith("http://127.0.0.1:5000/#/experiments/")
    assert perf["mlflow_run_url"].endswith(f"/runs/{run_id}/model-metrics")
    assert perf["mlflow_url"] == "http://127.0.0.1:5000/#/models/m-model/versions/1"

    slack = http.bodies("/slack")
    assert len(slack) == 1 and slack[0]["text"].startswith("[ERROR] m v1: ")
    assert slack[0]["blocks"][1]["text"]["type"] == "mrkdwn"

    assert len(smtp.messages) == 1
    assert "performance_vs_baseline" in smtp.messages[0]["body"]
    assert smtp.messages[0]["to"] == ["oncall@example.test"]

    # The book also holds the WARN reconciliation of the flipped day, routed nowhere here.
    assert firing_keys(state) - {"m|estimate_reconciled|1"} == {"m|performance_vs_baseline|1", "m|drift_within_limits|1"}
    assert pending(state) == []
    assert state["checks"] > 0


def test_dedup_repeat_and_resolve_over_several_ticks(tmp_path, servers, clock, monkeypatch):
    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    world.write_day(day(1), flip=True)
    world.materialize(day(1))
    first = world.tick()
    assert len(http.bodies("/slack")) == 1

    clock.now += 60
    world.tick()  # nothing new
    world.materialize(day(1))  # fails again: the same alerts, still firing
    clock.now += 60
    state = world.tick()
    assert len(http.bodies("/slack")) == 1
    assert firing_keys(state) == firing_keys(first)

    clock.now += 3600  # past the repeat interval
    world.tick()
    kinds = [a["kind"] for a in hook_alerts(http)]
    assert kinds.count("repeat") == 2 and kinds.count("firing") == 2

    # The partition is fixed: rewrite it with healthy data and rerun it.
    for path in (world.inference / day(1)).iterdir():
        path.unlink()
    for path in (world.labels / day(1)).iterdir():
        path.unlink()
    world.write_day(day(1), seed=21, rows=3000)
    world.materialize(day(1))
    clock.now += 60
    state = world.tick()
    resolved = [a for a in hook_alerts(http) if a["kind"] == "resolved"]
    assert {a["check"] for a in resolved} == {"performance_vs_baseline", "drift_within_limits"}
    assert firing_keys(state) == set() and pending(state) == []
    clock.now += 7200
    world.tick()
    assert len(hook_alerts(http)) == 6  # firing x2, repeat x2, resolved x2: nothing more


def test_webhook_down_for_two_ticks_with_a_restart_delivers_exactly_once(tmp_path, servers, clock, monkeypatch):
    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    world.write_day(day(2), flip=True)
    world.materialize(day(2))
    http.stop()
    state = world.tick()
    assert {p[1] for p in pending(state)} == {"hook", "slack"}
    assert len(smtp.messages) == 1  # email is not held up by the broken webhook

    stored_cursor = world.cursor
    world.cursor = None  # the daemon restarts ...
    world.cursor = stored_cursor  # ... and resumes from the cursor it stored
    clock.now += 30
    state = world.tick()
    attempts = {d["channel"]: d["attempts"] for e in book(state).values() for d in e.get("pending", [])}
    assert attempts == {"hook": 2, "slack": 2}

    http.start()
    clock.now += 30
    state = world.tick()
    assert pending(state) == []
    clock.now += 30
    world.tick()
    keys = [a["key"] for a in hook_alerts(http)]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 2
    assert len(http.bodies("/slack")) == 1 and len(smtp.messages) == 1


def test_backoff_waits_between_retries(tmp_path, servers, clock, monkeypatch):
    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    data = world.config_dict()
    data["notifications"]["retry_initial_seconds"] = 100
    world.config_dict = lambda **_: data  # type: ignore[method-assign]
    world.write_day(day(3), flip=True)
    world.materialize(day(3))
    http.stop()
    world.tick()
    http.start()
    clock.now += 50
    state = world.tick()
    assert http.bodies() == [] and {p[1] for p in pending(state)} == {"hook", "slack"}
    clock.now += 60
    state = world.tick()
    assert pending(state) == [] and len(http.bodies("/slack")) == 1


def test_rejected_smtp_login_is_reported_and_keeps_email_pending(tmp_path, servers, clock, monkeypatch, caplog):
    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-password")
    world.write_day(day(4), flip=True)
    world.materialize(day(4))
    with caplog.at_level(logging.WARNING):
        state = world.tick()
    assert {p[1] for p in pending(state)} == {"mail"}
    errors = {d["last_error"] for e in book(state).values() for d in e.get("pending", [])}
    assert len(errors) == 1
    error = errors.pop()
    assert error.startswith("mail:") and "error" in error.lower(), error
    assert "wrong-password" not in error and "wrong-password" not in caplog.text
    assert len(http.bodies("/slack")) == 1 and len(hook_alerts(http)) == 2
    assert smtp.messages == []

    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    clock.now += 30
    state = world.tick()
    assert pending(state) == [] and len(smtp.messages) == 1
    assert len(http.bodies("/slack")) == 1


def test_secrets_never_appear_in_events_cursor_or_logs(tmp_path, servers, clock, monkeypatch, caplog, capsys):
    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "pw-SECRET-wrong-789")
    world.write_day(day(5), flip=True)
    with caplog.at_level(logging.DEBUG):
        world.materialize(day(5))
        http.stop()
        cursors = [world.tick()]
        http.start()
        clock.now += 30
        cursors.append(world.tick())
    texts = [json.dumps(c) for c in cursors] + [world.cursor, caplog.text]
    captured = capsys.readouterr()
    texts += [captured.out, captured.err]
    for run in world.instance.get_runs():
        for entry in world.instance.all_logs(run.run_id):
            texts.append(entry.message or "")
            if entry.dagster_event is not None:
                texts.append(repr(entry.dagster_event.event_specific_data))
    blob = "\n".join(t for t in texts if t)
    assert "SECRET" not in blob
    assert len(blob) > 10_000  # the event log really was read
    assert hook_alerts(http), "the webhook still received its alerts"


def test_a_failed_run_is_notified_once_with_its_cause(tmp_path, servers, clock, monkeypatch):
    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    folder = world.inference / day(6)
    folder.mkdir(parents=True)
    (folder / "broken.parquet").write_bytes(b"not a parquet file")
    result = world.materialize(day(6), raise_on_error=False)
    assert not result.success
    state = world.tick()
    notices = [b["notice"] for b in http.bodies(f"/hook/{WEBHOOK_TOKEN}") if b["notice"]]
    assert len(notices) == 1 and notices[0]["event"] == "run_failed"
    assert day(6) in notices[0]["summary"] and "broken.parquet" in notices[0]["details"]
    assert notices[0]["links"]["Dagster"] == f"http://127.0.0.1:3000/runs/{result.run_id}"
    clock.now += 7200  # a failed run is reported once, not repeated
    world.tick()
    assert len([b for b in http.bodies(f"/hook/{WEBHOOK_TOKEN}") if b["notice"]]) == 1
    assert firing_keys(state) == set() and pending(state) == []


def test_an_unreachable_mlflow_is_a_failed_run_on_call_hears_about(tmp_path, servers, clock, monkeypatch):
    """A dead MLflow must not look like a healthy model, nor like a model with no champion."""
    from monitoring_assets_tests.servers import free_port

    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    dead = f"http://127.0.0.1:{free_port()}"
    base = world.config_dict

    def config_dict(**overrides):
        data = base(**overrides)
        data["mlflow"]["tracking_uri"] = dead
        return data

    world.config_dict = config_dict
    world.write_day(day(7))
    result = world.materialize(day(7), raise_on_error=False)
    assert not result.success
    world.tick()
    notices = [b["notice"] for b in http.bodies(f"/hook/{WEBHOOK_TOKEN}") if b["notice"]]
    assert len(notices) == 1 and notices[0]["event"] == "run_failed"
    assert f"MLflow at {dead} is unreachable while" in notices[0]["details"]
    assert "Connection refused" in notices[0]["details"]
    assert "not being judged" in notices[0]["summary"]
    assert not [a for b in http.bodies(f"/hook/{WEBHOOK_TOKEN}") for a in b["alerts"]]


def test_hostile_category_values_stay_text_in_dagster_and_slack(tmp_path, servers, clock, monkeypatch):
    import monitoring_assets_tests.world as world_module

    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    hostile = "<!channel> <http://evil.example|click> ![p](http://127.0.0.1:9/p.png)"
    plain = world_module.synthetic

    def with_hostile_values(task, rows, seed, flip=False):
        frame = plain(task, rows, seed, flip)
        frame.loc[frame.index[:60], "segment"] = hostile
        return frame

    monkeypatch.setattr(world_module, "synthetic", with_hostile_values)
    base = world.config_dict

    def config_dict(**overrides):
        data = base(**overrides)
        data["notifications"]["routes"][0]["min_severity"] = "WARN"  # the schema warning names the value
        return data

    world.config_dict = config_dict
    world.write_day(day(8))
    result = world.materialize(day(8))
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    # In Dagster: every table cell and description that carries the value is escaped Markdown.
    schema, drift = checks["schema_valid"], checks["drift_within_limits"]
    for text in (schema.description, schema.metadata["failures"].value, drift.metadata["features"].value):
        assert "<!channel>" in text.replace("\\", "") and "\\<\\!channel\\>" in text
        assert "](" not in text.replace("\\]\\(", "")
    world.tick()
    # In Slack: the value cannot mention the channel or make a link.
    (slack,) = http.bodies("/slack")
    payload = json.dumps(slack)
    assert "&lt;!channel&gt;" in payload and "&lt;http://evil.example|click&gt;" in payload
    assert "<!channel>" not in payload and "<http://evil.example|click>" not in payload


def failing_training(**kwargs):
    raise RuntimeError("the training cluster is gone")


def test_a_failed_retrain_run_is_notified_like_any_job_of_the_project(tmp_path, servers, clock, monkeypatch):
    from monitoring_assets.assets.factory import retrain_job_name

    http, smtp = servers
    world = AlertWorld(tmp_path, http, smtp, monkeypatch)
    world.write_day(day(0))
    world.materialize(day(0))
    config = world.config(remediation={"policy": "retrain",
                                       "training_function": f"{__name__}:failing_training"})
    job = build_definitions(config).resolve_job_def(retrain_job_name(config.models[0]))
    result = job.execute_in_process(instance=world.instance, raise_on_error=False)
    assert not result.success
    world.tick()
    notices = [b["notice"] for b in http.bodies(f"/hook/{WEBHOOK_TOKEN}") if b["notice"]]
    assert len(notices) == 1 and notices[0]["event"] == "run_failed"
    assert retrain_job_name(config.models[0]) in notices[0]["summary"] + notices[0]["details"]
    assert notices[0]["links"]["Dagster"] == f"http://127.0.0.1:3000/runs/{result.run_id}"
