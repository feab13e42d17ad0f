"""The MLflow store opened in the background: the step that first needs it gets the same
client, or the same error, as opening it there; no thread outlives the opening."""

import threading

import pytest

from monitoring_assets.registry.registry import ModelRegistry

pytestmark = pytest.mark.slow  # a real MLflow SQLite store


def opening_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mlflow-store-open"]


def test_a_store_opened_in_the_background_is_the_one_the_step_uses(tmp_path):
    registry = ModelRegistry(f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_location=str(tmp_path / "artifacts"))
    registry.open_in_background()
    registry.open_in_background()  # a second request opens nothing more
    assert len(opening_threads()) <= 1
    client = registry.client
    assert not opening_threads()  # ended before any step could fork a profiling worker
    assert registry.client is client
    assert client.search_registered_models() == []
    registry.open_in_background()  # already open: no thread
    assert not opening_threads()


def test_a_store_that_cannot_open_fails_the_step_that_needs_it_with_its_own_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    registry = ModelRegistry(f"sqlite:///{blocker / 'mlflow' / 'mlflow.db'}")
    registry.open_in_background()
    with pytest.raises(NotADirectoryError, match="a-file"):
        registry.client
    assert not opening_threads()
    with pytest.raises(NotADirectoryError):  # asked again, it is tried again, not cached as broken
        registry.client
