"""A run writes only where the user pointed: the home, the storage root and the MLflow store.

The demo and a hand-run partition are started as a new user would, from an empty working
directory and with an empty home folder ($HOME), and every other place is checked afterwards:
the working directory, $HOME, and the checkout itself.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]


def git_status(path: Path) -> str:
    result = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=path,
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"the checkout is not a git work tree: {result.stderr.strip()}")
    # The test run's own outputs, and the caches of whoever runs it, are not the demo's.
    ignored = (".venv/", ".pytest_cache/", "test-artifacts/", "monitoring_assets.egg-info/", ".demo/")
    return "\n".join(line for line in result.stdout.splitlines()
                     if "__pycache__" not in line and not line[3:].startswith(ignored))


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_demo_and_a_partition_run_write_nothing_outside_the_configured_places(tmp_path):
    cwd, user_home, home = tmp_path / "cwd", tmp_path / "user-home", tmp_path / "demo-home"
    cwd.mkdir()
    user_home.mkdir()
    before = git_status(CHECKOUT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DAGSTER_", "MONITORING_"))}
    # No telemetry opt-out here: the project's entry point must set it itself.
    env |= {"HOME": str(user_home), "PYTHONDONTWRITEBYTECODE": "1", "XDG_CONFIG_HOME": str(user_home / ".config"),
            "XDG_CACHE_HOME": str(user_home / ".cache")}
    env.pop("CI", None)  # MLflow stays quiet under CI by itself; a user's machine is not CI
    demo = subprocess.run(
        [sys.executable, "-m", "monitoring_assets.cli", "demo", "--home", str(home), "--days", "5",
         "--rows-per-day", "300", "--start", "2026-01-01"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    run = subprocess.run(
        [sys.executable, "-m", "monitoring_assets.cli", "run", "--model", "churn", "--partition", "2026-01-03",
         "--config", str(home / "monitoring.yaml")],
        cwd=cwd, env=env | {"DAGSTER_HOME": str(home / "dagster")}, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert run.stdout.startswith("2026-01-03 run ") and "schema_valid=ok" in run.stdout

    assert files_under(cwd) == []
    assert files_under(user_home) == []
    assert git_status(CHECKOUT) == before
    assert not list(home.rglob("mlruns"))
    artifacts = home / "mlflow" / "artifacts"
    assert {p.name for p in artifacts.iterdir()} >= {"monitoring-demo", "model-monitoring"}
    assert list((home / "storage" / "cache" / "baselines").rglob("reference_profile.bin"))
