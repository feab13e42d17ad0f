"""Performance against MLflow baselines: delayed labels, write-back, champion switches, tasks."""

import pytest
from mlflow.tracking import MlflowClient

from monitoring_assets.assets.names import LABEL_COVERAGE_CHECK, PERFORMANCE_CHECK
from monitoring_assets.registry import ModelRegistry
from monitoring_assets_tests.world import World, checks_of, day


def test_labels_arriving_in_three_batches(tmp_path):
    world = World(tmp_path)
    world.register()
    truth = world.write_day(day(0), rows=600, with_labels=False)
    coverages, statuses = [], []
    for batch, (start, stop) in enumerate([(0, 120), (120, 270), (270, 600)]):
        world.write_labels(day(0), truth.iloc[start:stop], f"batch-{batch}")
        checks = checks_of(world.materialize(day(0)))
        perf = checks[PERFORMANCE_CHECK]
        coverages.append(checks[LABEL_COVERAGE_CHECK].metadata["observed"].value)
        statuses.append(perf.metadata["status"].value)
        assert perf.passed  # pending is never a failure; the third batch passes on its merits
    assert coverages == pytest.approx([0.2, 0.45, 1.0])
    assert statuses == ["pending", "pending", "judged"]


def test_degraded_partition_fails_with_value_baseline_and_limit(tmp_path):
    world = World(tmp_path)
    world.register()
    world.write_day(day(1), flip=True)
    perf = checks_of(world.materialize(day(1)))[PERFORMANCE_CHECK]
    assert not perf.passed
    assert perf.severity.value == "ERROR"
    observed, baseline, limit = (perf.metadata[k].value for k in ("observed", "baseline", "threshold"))
    assert observed < limit == pytest.approx(baseline * 0.9)
    assert perf.metadata["label_coverage"].value == 1.0


def test_rerunning_a_partition_leaves_one_mlflow_point_per_metric(tmp_path):
    world = World(tmp_path)
    world.register()
    truth = world.write_day(day(2), rows=500, with_labels=False)
    world.write_labels(day(2), truth.iloc[:300], "first")
    world.materialize(day(2))
    world.materialize(day(2))  # same values: nothing new is logged
    world.write_labels(day(2), truth.iloc[300:], "late")
    world.materialize(day(2))  # new values: the run is rebuilt with one point per metric
    world.write_day(day(3), rows=300, seed=9)
    world.materialize(day(3))

    client = MlflowClient(tracking_uri=world.tracking_uri)
    run_id = ModelRegistry(world.tracking_uri).monitoring_run(world.registered_model, "1")
    run = client.get_run(run_id)
    assert run.data.tags["monitoring"] == "true" and run.data.tags["monitoring.version"] == "1"
    for key in ("perf.accuracy", "labels.coverage", "drift.x1", "service.latency_p95_ms"):
        history = client.get_metric_history(run_id, key)
        assert len(history) == 2, (key, history)
        assert len({p.step for p in history}) == 2
    coverage = {p.step: p.value for p in client.get_metric_history(run_id, "labels.coverage")}
    assert sorted(coverage.values()) == [1.0, 1.0]
    artifacts = {a.path for a in client.list_artifacts(run_id, "partitions")}
    assert artifacts == {f"partitions/{day(2)}", f"partitions/{day(3)}"}
    runs = client.search_runs([run.info.experiment_id], "tags.`monitoring.kind` = 'version'")
    assert len(runs) == 1


def test_champion_switch_judges_each_partition_against_its_own_version(tmp_path):
    world = World(tmp_path)
    v1 = world.register(seed=1)
    world.write_day(day(4), version=v1)
    first = checks_of(world.materialize(day(4)))[PERFORMANCE_CHECK]
    v2 = world.register(seed=2, flip=True)  # trained on the flipped relation, now champion
    assert v2 != v1
    world.write_day(day(5), version=v2, flip=True)
    second = checks_of(world.materialize(day(5)))[PERFORMANCE_CHECK]

    client = MlflowClient(tracking_uri=world.tracking_uri)
    baselines = {
        v: client.get_run(client.get_model_version(world.registered_model, v).run_id).data.metrics["baseline.accuracy"]
        for v in (v1, v2)
    }
    assert first.metadata["version"].value == v1 and second.metadata["version"].value == v2
    assert first.metadata["baseline"].value == pytest.approx(baselines[v1])
    assert second.metadata["baseline"].value == pytest.approx(baselines[v2])
    assert first.passed and second.passed
    # Both versions now hold a monitoring run of their own.
    assert ModelRegistry(world.tracking_uri).monitoring_run(world.registered_model, v1) != ModelRegistry(world.tracking_uri).monitoring_run(world.registered_model, v2)


@pytest.mark.parametrize("task,metric", [("multiclass", "f1_macro"), ("regression", "rmse")])
def test_other_tasks_end_to_end(tmp_path, task, metric):
    world = World(tmp_path, task=task)
    world.register()
    world.write_day(day(6))
    healthy = checks_of(world.materialize(day(6)))[PERFORMANCE_CHECK]
    world.write_day(day(7), flip=True)
    degraded = checks_of(world.materialize(day(7)))[PERFORMANCE_CHECK]
    assert healthy.passed and healthy.metadata["metric"].value == metric
    assert not degraded.passed and degraded.severity.value == "ERROR"
    client = MlflowClient(tracking_uri=world.tracking_uri)
    run_id = ModelRegistry(world.tracking_uri).monitoring_run(world.registered_model, "1")
    assert len(client.get_metric_history(run_id, f"perf.{metric}")) == 2


def test_version_comparison_tabulates_each_served_version(tmp_path):
    from monitoring_assets.wiring import build_definitions

    world = World(tmp_path)
    v1 = world.register(seed=1)
    world.write_day(day(8), version=v1)
    world.materialize(day(8))
    v2 = world.register(seed=3)
    world.write_day(day(9), version=v2, seed=11)
    world.write_day(day(10), version=v2, seed=12, flip=True)
    world.materialize(day(9))
    world.materialize(day(10))
    result = build_definitions(world.config()).resolve_job_def("m_version_comparison").execute_in_process(instance=world.instance)
    rows = result.output_for_node("m__version_comparison")
    by_version = {row["version"]: row for row in rows}
    assert set(by_version) == {v1, v2}
    assert by_version[v1]["partitions"] == 1 and by_version[v2]["partitions"] == 2
    assert by_version[v2]["failed_partitions"] == 1
    assert by_version[v1]["baseline_accuracy"] > 0.6
    assert by_version[v2]["accuracy"] < by_version[v1]["accuracy"]
    client = MlflowClient(tracking_uri=world.tracking_uri)
    comparison = client.search_runs(
        [client.get_experiment_by_name("model-monitoring").experiment_id], "tags.`monitoring.kind` = 'comparison'"
    )
    assert len(comparison) == 1
    names = {a.path for a in client.list_artifacts(comparison[0].info.run_id)}
    assert names == {"version_comparison.json", "version_comparison.md"}


def test_drift_windows_merge_stored_profiles(tmp_path):
    world = World(tmp_path)
    world.register()
    for offset in range(3):
        world.write_day(day(offset), rows=200 + offset, seed=60 + offset, with_labels=False)
    results = [world.materialize(day(offset)) for offset in range(3)]
    report = results[-1].asset_value(["m", "feature_drift"])
    assert report["window"]["partitions"] == [day(0), day(1), day(2)]
    assert [f["rows_current"] for f in report["window"]["features"]][0] == 200 + 201 + 202
    assert report["features"][0]["rows_current"] == 202
    first = results[0].asset_value(["m", "feature_drift"])
    assert first["window"]["partitions"] == [day(0)]
