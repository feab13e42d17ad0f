"""What a run start does in its process, and a sensor's resources do not: freeze the loaded
heap and choose Arrow's pool, once."""

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow  # a real MLflow SQLite store, in a process of its own


def run_twice_in_one_process(tmp_path, environment=None):
    script = textwrap.dedent(f"""
        import gc, json
        import dagster as dg
        import pyarrow as pa
        from monitoring_assets.resources import MlflowRegistry

        resource = MlflowRegistry(tracking_uri="sqlite:///{tmp_path}/mlflow.db", cache_root="{tmp_path}/cache")
        with dg.build_resources({{"mlflow": resource}}) as resources:  # as a sensor tick builds them
            outside_a_run = {{"frozen": gc.get_freeze_count(), "pool": pa.default_memory_pool().backend_name}}
        seen = {{}}

        @dg.asset
        def first(mlflow: MlflowRegistry) -> None:
            seen["frozen_at_first_step"] = gc.get_freeze_count()
            seen["pool_in_a_step"] = pa.default_memory_pool().backend_name
            seen["models"] = len(mlflow.registry.client.search_registered_models())

        assert dg.materialize([first], resources={{"mlflow": resource}}).success
        frozen_once = gc.get_freeze_count()
        assert dg.materialize([first], resources={{"mlflow": resource}}).success
        print(json.dumps({{**outside_a_run, **seen, "frozen_once": frozen_once,
                          "frozen_twice": gc.get_freeze_count()}}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env={"MLFLOW_DISABLE_TELEMETRY": "true", "PATH": "/usr/bin:/bin", **(environment or {})},
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_run_freezes_the_loaded_heap_once_and_a_sensor_does_not(tmp_path):
    seen = run_twice_in_one_process(tmp_path)
    assert seen["frozen"] == 0
    assert seen["frozen_at_first_step"] > 100_000  # the loaded modules, classes and definitions
    assert seen["models"] == 0
    # A second run in the same process freezes nothing more (what it allocated stays collectable);
    # frozen objects whose last reference went are freed as ever, so the count can only fall.
    assert seen["frozen_twice"] <= seen["frozen_once"]


def jemalloc_in_this_pyarrow() -> bool:
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not jemalloc_in_this_pyarrow(), reason="this pyarrow was built without jemalloc")
def test_a_run_gives_arrow_jemalloc_and_a_sensor_leaves_the_default(tmp_path):
    seen = run_twice_in_one_process(tmp_path)
    assert seen["pool"] != "jemalloc"  # pyarrow's own default (mimalloc on Linux wheels)
    assert seen["pool_in_a_step"] == "jemalloc"


def test_a_pool_the_user_names_is_kept(tmp_path):
    seen = run_twice_in_one_process(tmp_path, {"ARROW_DEFAULT_MEMORY_POOL": "system"})
    assert seen["pool"] == seen["pool_in_a_step"] == "system"
