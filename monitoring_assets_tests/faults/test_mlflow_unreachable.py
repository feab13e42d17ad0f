"""Fault: MLflow does not answer.

Before: with MLflow unreachable a run took 272 s to fail (MLflow's client retries 7 times and
waits 120 s for each answer), under the headline "no version under alias 'champion'". Now the
client's retries and timeouts are bounded, and the failure names the tracking URI (without its
credentials) and the connection error, within about 30 s.
"""

import time

import pytest

from monitoring_assets_tests.servers import FaultyHttpServer, free_port
from monitoring_assets_tests.world import World, day


def failure_of(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the run should have failed"
    error, messages = failures[0].step_failure_data.error, []
    while error is not None:  # the step's error wraps the project's MlflowUnavailable
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    world.register()
    world.write_day(day(0))
    return world


def run_against(world, tracking_uri: str) -> tuple[float, str]:
    config = world.config_dict()
    config["mlflow"]["tracking_uri"] = tracking_uri
    from monitoring_assets.config import parse_config

    started = time.monotonic()
    result = world.materialize(day(0), config=parse_config(config), raise_on_error=False)
    assert not result.success
    return time.monotonic() - started, failure_of(result)


def test_a_server_that_never_answers_is_reported_by_uri_within_half_a_minute(world):
    server = FaultyHttpServer(mode="hang")
    try:
        seconds, message = run_against(world, f"http://user:s3cret@127.0.0.1:{server.port}/?token=abc")
    finally:
        server.stop()
    assert seconds < 45, seconds
    assert f"MLflow at http://127.0.0.1:{server.port}/ is unreachable" in message
    assert "timed out" in message
    assert "s3cret" not in message and "abc" not in message
    assert len(server.received) >= 2  # it did retry, a bounded number of times


def test_a_refused_connection_is_reported_at_once(world):
    seconds, message = run_against(world, f"http://127.0.0.1:{free_port()}")
    assert seconds < 30, seconds
    assert "Connection refused" in message
