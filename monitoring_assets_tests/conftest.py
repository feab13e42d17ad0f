import datetime as dt
import os
from pathlib import Path

import pytest

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
