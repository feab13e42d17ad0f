import datetime as dt
import os
from pathlib import Path

import pytest

# As the CLI and the deployment do: no usage telemetry leaves the machine or writes to ~.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

DEMO_START = dt.date(2026, 1, 1)
DEMO_DAYS = 30
DRIFT_DAY = 21


@pytest.fixture(scope="session")
def demo_summary(tmp_path_factory):
    """The demo, run once per session into a temporary home (real MLflow and Dagster stores)."""
    from monitoring_assets.demo.run import run_demo

    home = tmp_path_factory.mktemp("demo-home")
    previous = os.environ.get("DAGSTER_HOME")
    summary = run_demo(home=home, days=DEMO_DAYS, seed=7, start=DEMO_START, echo=False)
    yield {"home": Path(home), **summary}
    if previous is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = previous


@pytest.fixture()
def day_keys():
    return [(DEMO_START + dt.timedelta(days=i)).isoformat() for i in range(DEMO_DAYS)]


# Modules whose tests stand up real MLflow stores, Dagster instances, servers or processes.
# `make test` runs everything; `make test-fast` (pytest -m "not slow") runs the rest in seconds.
SLOW_MODULES = {
    "test_demo_end_to_end.py", "test_demo_rerun.py", "test_cli.py", "test_nothing_written_outside.py",
    "test_performance_assets.py", "test_gate_and_remediation.py", "test_alert_sensor.py",
    "test_landing_sensors.py", "test_production_e2e.py", "test_config.py", "test_demo_in_the_browser.py",
    "test_new_user.py", "test_status_cli.py", "test_alertmanager_channel.py", "test_alert_faults_under_daemon.py",
    "test_demo_sensors_resume.py", "test_hostile_values_in_the_browser.py", "test_estimated_performance.py",
    "test_poison_values.py", "test_full_disk.py", "test_hostile_files.py", "test_label_corrections.py",
    "test_mlflow_unreachable.py", "test_writeback_idempotent.py",
    "test_candidate_scoring_holds_no_secrets.py", "test_feature_not_in_signature.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
