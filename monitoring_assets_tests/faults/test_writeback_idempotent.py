"""Faults: the MLflow write-back under reruns, half-made rebuilds and concurrent runs.

Before: a rerun on unchanged data changed the drift scores (KLL sketches compact at random), so
every rerun rebuilt the version's MLflow run and copied its artifacts (mlruns grew from 4.3 to
17 MB in three reruns); a rebuild that died half-way left a run that the next partition wrote
into (2 runs, 25 duplicated points); two runs of one partition at once duplicated every point.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

from mlflow.tracking import MlflowClient

from monitoring_assets.demo.run import EMBEDDED_DAGSTER_YAML
from monitoring_assets.registry.monitoring_runs import MONITORING_EXPERIMENT, TAG_COMPLETE, TAG_VERSION
from monitoring_assets_tests.world import World, day


def version_runs(world: World) -> list:
    client = MlflowClient(world.tracking_uri)
    experiment = client.get_experiment_by_name(MONITORING_EXPERIMENT)
    return [r for r in client.search_runs([experiment.experiment_id]) if r.data.tags.get(TAG_VERSION) == "1"]


def points_per_step(world: World, run_id: str) -> dict[str, list[int]]:
    client = MlflowClient(world.tracking_uri)
    return {key: sorted(p.step for p in client.get_metric_history(run_id, key))
            for key in client.get_run(run_id).data.metrics}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_three_reruns_on_unchanged_input_write_nothing_new(tmp_path):
    world = World(tmp_path)
    world.register()
    world.write_day(day(0), seed=60)
    world.write_day(day(1), seed=61)
    world.materialize(day(0))
    world.materialize(day(1))
    sizes, drift = [], []
    for _ in range(3):
        result = world.materialize(day(1))
        profile = result.asset_materializations_for_node("m__inference_profile")[0].metadata
        assert profile["reused_stored_profile"].value is True
        drift.append({k: v.value for k, v in
                      result.asset_materializations_for_node("m__feature_drift")[0].metadata.items()
                      if k.startswith("drift/")})
        sizes.append(folder_bytes(tmp_path / "artifacts"))
    assert drift[0] == drift[1] == drift[2] and drift[0]
    assert sizes[0] == sizes[1] == sizes[2]
    (run,) = version_runs(world)
    steps = points_per_step(world, run.info.run_id)
    assert steps and all(len(s) == len(set(s)) == 2 for s in steps.values())


def test_a_rebuild_that_died_half_way_is_never_written_into(tmp_path):
    world = World(tmp_path)
    world.register()
    truth = world.write_day(day(0), seed=62, with_labels=False)
    world.write_labels(day(0), truth.iloc[:250], "labels-early")
    world.materialize(day(0))
    (complete,) = version_runs(world)
    # What a run killed during a rebuild leaves: a new run, still tagged incomplete, with part
    # of the points copied.
    client = MlflowClient(world.tracking_uri)
    orphan = client.create_run(complete.info.experiment_id, tags={**complete.data.tags, TAG_COMPLETE: "false"})
    client.log_metric(orphan.info.run_id, "rows", 400, step=20260201)
    # Late labels change the partition's values: the next write rebuilds the run.
    world.write_labels(day(0), truth.iloc[250:], "labels-late")
    world.materialize(day(0))
    (survivor,) = version_runs(world)
    assert survivor.info.run_id not in (complete.info.run_id, orphan.info.run_id)
    assert survivor.data.tags[TAG_COMPLETE] == "true"
    assert survivor.data.metrics["labels.coverage"] == 1.0
    steps = points_per_step(world, survivor.info.run_id)
    assert all(s == [int(day(0).replace("-", ""))] for s in steps.values())


TWO_AT_ONCE = textwrap.dedent("""
    import sys, yaml, dagster as dg
    from monitoring_assets.config import parse_config
    from monitoring_assets.wiring import build_definitions
    config = parse_config(yaml.safe_load(open(sys.argv[1])))
    job = build_definitions(config).resolve_job_def("m_monitoring")
    with dg.DagsterInstance.from_config(sys.argv[2]) as instance:
        result = job.execute_in_process(partition_key=sys.argv[3], instance=instance, raise_on_error=False)
    print("ok" if result.success else "failed")
""")


def test_two_runs_of_one_partition_at_once_write_each_point_once(tmp_path):
    import yaml

    world = World(tmp_path)
    world.register()
    world.write_day(day(0), seed=63)
    config = tmp_path / "monitoring.yaml"
    config.write_text(yaml.safe_dump(world.config_dict()))
    home = tmp_path / "dagster"
    home.mkdir()
    # The embedded instance, as the demo and `monitoring-assets run` make it: no pool set by hand.
    (home / "dagster.yaml").write_text(EMBEDDED_DAGSTER_YAML.format(home=home.as_posix()))
    # The instance exists before its runs, as under the webserver or the daemon: the two runs
    # race for the pool slot, not for creating the instance's tables.
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
    runs = [subprocess.Popen([sys.executable, "-c", TWO_AT_ONCE, str(config), str(home), day(0)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=600) for r in runs]
    assert [(o[0].strip().splitlines() or [""])[-1] for o in outputs] == ["ok", "ok"], [o[1][-3000:] for o in outputs]
    (run,) = version_runs(world)
    steps = points_per_step(world, run.info.run_id)
    assert steps and all(s == [int(day(0).replace("-", ""))] for s in steps.values())
