"""<model>/estimated_performance against a real MLflow store and Dagster instance: the baseline's
calibration map, the estimate while labels are pending, its reconciliation when they arrive,
`est.*` in the monitoring run, and the reason when there is nothing to estimate with."""

import json

import dagster as dg
import pandas as pd
from mlflow.tracking import MlflowClient

from monitoring_assets.assets.names import ESTIMATED_CHECK, ESTIMATED_PERFORMANCE, RECONCILED_CHECK
from monitoring_assets.registry import ModelRegistry
from monitoring_assets_tests.world import World, checks_of, day


def estimate_metadata(world: World, partition: str) -> dict:
    event = world.instance.get_latest_materialization_event(dg.AssetKey(["m", ESTIMATED_PERFORMANCE]))
    assert event is not None and event.dagster_event.partition == partition
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_pending_labels_are_judged_by_the_estimate_then_reconciled(tmp_path):
    world = World(tmp_path)
    world.register()
    calibration = ModelRegistry(world.tracking_uri).baseline(world.registered_model, "1").calibration
    assert calibration and json.loads(calibration)["kind"] == "isotonic" and json.loads(calibration)["rows"] == 1000
    # The reference's per-chunk spread of realized minus estimated, for the reconciliation.
    assert json.loads(calibration)["chunk_rows"] == 200 and set(json.loads(calibration)["spread"]) == {
        "accuracy", "roc_auc"}

    truth = world.write_day(day(0), rows=2000, with_labels=False)
    checks = checks_of(world.materialize(day(0)))
    estimated, reconciled = checks[ESTIMATED_CHECK], checks[RECONCILED_CHECK]
    assert estimated.passed and estimated.metadata["status"].value == "estimated"
    assert estimated.metadata["metric"].value == "estimated accuracy"
    assert reconciled.passed and reconciled.metadata["status"].value == "pending"
    assert checks["performance_vs_baseline"].metadata["status"].value == "pending"
    metadata = estimate_metadata(world, day(0))
    assert metadata["est.accuracy.low"] < metadata["est.accuracy"] < metadata["est.accuracy.high"]
    assert "realized.accuracy" not in metadata

    # The labels arrive: the realized accuracy falls within what the estimate allows.
    world.write_labels(day(0), truth, "late")
    checks = checks_of(world.materialize(day(0)))
    assert checks[RECONCILED_CHECK].passed, checks[RECONCILED_CHECK].description
    assert checks[RECONCILED_CHECK].metadata["status"].value == "reconciled"
    metadata = estimate_metadata(world, day(0))
    assert abs(metadata["realized.accuracy"] - metadata["est.accuracy"]) < 0.05

    # The estimate is written to the version's monitoring run, one point per partition.
    run_id = ModelRegistry(world.tracking_uri).monitoring_run(world.registered_model, "1")
    history = MlflowClient(tracking_uri=world.tracking_uri).get_metric_history(run_id, "est.accuracy")
    assert len(history) == 1 and abs(history[0].value - metadata["est.accuracy"]) < 1e-9


def test_a_concept_shift_is_invisible_to_the_estimate_and_caught_by_the_reconciliation(tmp_path):
    world = World(tmp_path)
    world.register()
    world.write_day(day(1), rows=2000, flip=True)  # the label's relation to the features is reversed
    checks = checks_of(world.materialize(day(1)))
    assert not checks["performance_vs_baseline"].passed
    reconciled = checks[RECONCILED_CHECK]
    assert not reconciled.passed and reconciled.severity == dg.AssetCheckSeverity.WARN
    assert reconciled.description.startswith("suspected concept drift: realized accuracy")


def test_a_version_registered_without_labels_says_why_it_is_not_estimated(tmp_path):
    world = World(tmp_path)
    world.register()
    registry = ModelRegistry(world.tracking_uri)
    baseline = registry.baseline(world.registered_model, "1")
    world.write_day(day(2), rows=500)
    reference = pd.read_parquet(next((world.inference / day(2)).glob("*.parquet")))  # scored, but unlabelled
    registry.register_baseline(world.registered_model, "1", baseline.metrics, reference)
    assert registry.baseline(world.registered_model, "1").calibration is None
    checks = checks_of(world.materialize(day(2)))
    estimated = checks[ESTIMATED_CHECK]
    assert estimated.passed and estimated.metadata["status"].value == "not_estimated"
    assert "registered without labelled scores" in estimated.description
    assert checks[RECONCILED_CHECK].metadata["status"].value == "not_estimated"


def test_a_multiclass_model_is_estimated_from_its_class_scores(tmp_path):
    world = World(tmp_path, task="multiclass")
    world.register()
    calibration = json.loads(ModelRegistry(world.tracking_uri).baseline(world.registered_model, "1").calibration)
    assert calibration["kind"] == "isotonic_one_vs_rest" and sorted(calibration["classes"]) == ["high", "low", "mid"]
    world.write_day(day(3), rows=2000)
    checks = checks_of(world.materialize(day(3)))
    estimated = checks[ESTIMATED_CHECK]
    assert estimated.metadata["status"].value == "estimated", estimated.description
    assert estimated.metadata["metric"].value == "estimated f1_macro"
    assert checks[RECONCILED_CHECK].passed, checks[RECONCILED_CHECK].description
    metadata = estimate_metadata(world, day(3))
    assert abs(metadata["realized.f1_macro"] - metadata["est.f1_macro"]) < 0.05


def test_a_regression_model_says_it_is_not_estimated(tmp_path):
    world = World(tmp_path, task="regression")
    world.register()
    world.write_day(day(4), rows=500)
    estimated = checks_of(world.materialize(day(4)))[ESTIMATED_CHECK]
    assert estimated.passed and estimated.metadata["status"].value == "not_estimated"
    assert estimated.description.startswith("not estimated: regression models are not estimated")
