"""What a run start does in its process, and a sensor's resources do not: freeze the loaded
heap, once."""

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow  # a real MLflow SQLite store, in a process of its own


def test_a_run_freezes_the_loaded_heap_once_and_a_sensor_does_not(tmp_path):
    script = textwrap.dedent(f"""
        import gc, json
        import dagster as dg
        from monitoring_assets.resources import MlflowRegistry

        resource = MlflowRegistry(tracking_uri="sqlite:///{tmp_path}/mlflow.db", cache_root="{tmp_path}/cache")
        with dg.build_resources({{"mlflow": resource}}) as resources:  # as a sensor tick builds them
            outside_a_run = {{"frozen": gc.get_freeze_count()}}
        seen = {{}}

        @dg.asset
        def first(mlflow: MlflowRegistry) -> None:
            seen["frozen_at_first_step"] = gc.get_freeze_count()
            seen["models"] = len(mlflow.registry.client.search_registered_models())

        assert dg.materialize([first], resources={{"mlflow": resource}}).success
        frozen_once = gc.get_freeze_count()
        assert dg.materialize([first], resources={{"mlflow": resource}}).success
        print(json.dumps({{**outside_a_run, **seen, "frozen_once": frozen_once,
                          "frozen_twice": gc.get_freeze_count()}}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["frozen"] == 0
    assert seen["frozen_at_first_step"] > 100_000  # the loaded modules, classes and definitions
    assert seen["models"] == 0
    # A second run in the same process freezes nothing more (what it allocated stays collectable);
    # frozen objects whose last reference went are freed as ever, so the count can only fall.
    assert seen["frozen_twice"] <= seen["frozen_once"]
