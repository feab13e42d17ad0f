"""The promotion gate and the remediation policy against a real MLflow SQLite store."""

import json

import dagster as dg
import pytest
from mlflow.tracking import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from monitoring_assets.demo.train import log_and_register
from monitoring_assets.registry import ModelRegistry
from monitoring_assets.sensors import remediation as remediation_module
from monitoring_assets.wiring import build_definitions, build_resources
from monitoring_assets_tests.world import FEATURES, World, day, synthetic

PROMOTION = {"window_days": 2, "min_labeled_rows": 200, "max_prediction_drift": 0.6,
             "thresholds": {"accuracy": {"min_absolute_change": 0.0}}}


class GateWorld(World):
    def config_dict(self, **overrides):
        overrides.setdefault("promotion", PROMOTION)
        return super().config_dict(**overrides)

    def run_job(self, name: str, **kwargs):
        defs = build_definitions(self.config())
        return defs.resolve_job_def(f"{self.name}_{name}").execute_in_process(
            instance=self.instance, raise_on_error=False, **kwargs)

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)

    def champion(self) -> str:
        return str(self.client().get_model_version_by_alias(self.registered_model, "champion").version)

    def tags(self, version: str) -> dict:
        return dict(self.client().get_model_version(self.registered_model, version).tags)


def serve_days(world: GateWorld, days: list[int], flip: bool, version: str = "1") -> None:
    for offset in days:
        world.write_day(day(offset), rows=300, seed=40 + offset, flip=flip, version=version)
        world.materialize(day(offset))


def lifecycle(world: GateWorld) -> list[dict]:
    records = world.instance.fetch_observations(dg.AssetKey(["m", "lifecycle"]), limit=50, ascending=True).records
    return [{k: v.value for k, v in r.asset_observation.metadata.items()} for r in records]


def promotion_materialized(world: GateWorld) -> bool:
    return world.instance.get_latest_materialization_event(dg.AssetKey(["m", "champion_promotion"])) is not None


def test_a_better_candidate_is_promoted_with_audit_tags(tmp_path):
    world = GateWorld(tmp_path)
    world.register(seed=1)
    serve_days(world, [0, 1], flip=True)  # the world changed: the champion is now wrong
    candidate = world.register(seed=2, flip=True, alias="candidate")
    result = world.run_job("promotion")
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert world.champion() == candidate and promotion_materialized(world)
    tags = world.tags(candidate)
    assert tags["monitoring.decision"] == "promoted"
    assert tags["monitoring.previous_champion"] == "1"
    assert tags["monitoring.dagster_run_id"] == result.run_id
    metrics = json.loads(tags["monitoring.metrics"])
    assert metrics["candidate"]["accuracy"] > metrics["champion"]["accuracy"]
    assert json.loads(tags["monitoring.evaluated_on"]) == [day(0), day(1)]
    (promoted,) = lifecycle(world)
    assert promoted["event"] == "promoted" and promoted["version"] == candidate and promoted["previous_version"] == "1"
    expected = (f"m: v{candidate} promoted over v1 (accuracy {metrics['candidate']['accuracy']:.3g} vs "
                f"{metrics['champion']['accuracy']:.3g})")
    assert promoted["summary"] == expected
    # Promotion is idempotent: the gate runs again, the alias stays, nothing is re-tagged.
    world.client().set_registered_model_alias(world.registered_model, "candidate", candidate)
    again = world.run_job("promotion")
    assert again.success and world.champion() == candidate
    assert again.output_for_node("m__champion_promotion")["changed"] is False
    assert len(lifecycle(world)) == 1  # an unchanged alias is not an event


def test_a_worse_candidate_is_blocked_by_the_gate(tmp_path):
    world = GateWorld(tmp_path)
    world.register(seed=1)
    serve_days(world, [2, 3], flip=False)
    candidate = world.register(seed=3, flip=True, alias="candidate")
    result = world.run_job("promotion")
    # A rejection is a verdict, not a crash: the run succeeds, the gate's checks fail at ERROR,
    # and champion_promotion runs without materializing.
    assert result.success
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "candidate_meets_thresholds" in failed
    assert all(e.severity == dg.AssetCheckSeverity.ERROR for e in result.get_asset_check_evaluations())
    assert not promotion_materialized(world)
    report = result.output_for_node("m__candidate_evaluation")
    assert report["gate"]["passed"] is False and report["candidate"] == candidate
    assert world.champion() == "1"
    tags = world.tags(candidate)
    assert tags["monitoring.decision"] == "rejected"
    reasons = json.loads(tags["monitoring.rejection_reasons"])
    assert any(r.startswith("candidate_meets_thresholds: accuracy=") for r in reasons)
    (rejected,) = lifecycle(world)
    accuracy = report["metrics"]
    assert rejected["event"] == "rejected" and rejected["severity"] == "WARN"
    assert rejected["summary"] == (f"m: candidate v{candidate} rejected, champion v1 stays (accuracy "
                                   f"{accuracy['candidate']['accuracy']:.3g} vs {accuracy['champion']['accuracy']:.3g})")
    assert rejected["details"].startswith("candidate_meets_thresholds: accuracy=")


def test_a_signature_mismatch_blocks(tmp_path):
    world = GateWorld(tmp_path)
    world.register(seed=1)
    serve_days(world, [4, 5], flip=False)
    data = synthetic("binary", 2000, 5)
    data["x3"] = data["x1"] * 2
    features = [*FEATURES, "x3"]
    model = Pipeline([("prep", ColumnTransformer([("num", StandardScaler(), ["x1", "x2", "x3"]),
                                                   ("cat", OneHotEncoder(handle_unknown="ignore"), ["segment"])])),
                      ("clf", LogisticRegression(max_iter=300))]).fit(data[features], data["label"])
    candidate = log_and_register(world.tracking_uri, world.registered_model, model, data.iloc[1500:].reset_index(drop=True),
                                 artifact_location=(tmp_path / "a").as_uri(), alias="candidate", features=features,
                                 experiment_name="training")
    result = world.run_job("promotion")
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["candidate_signature_compatible"].passed
    assert "'x3'" in checks["candidate_signature_compatible"].description
    assert not promotion_materialized(world) and world.champion() == "1"
    assert world.tags(candidate)["monitoring.decision"] == "rejected"


def test_rollback_restores_the_previous_champion_and_skips_rolled_back_versions(tmp_path):
    world = GateWorld(tmp_path)
    world.register(seed=1)
    v2, v3, v4 = (world.register(seed=s, alias=None) for s in (2, 3, 4))
    client = world.client()
    ModelRegistry(world.tracking_uri).promote(world.registered_model, v2, "champion", "candidate", {})
    ModelRegistry(world.tracking_uri).promote(world.registered_model, v3, "champion", "candidate", {})

    assert world.run_job("rollback").success and world.champion() == v2
    assert world.tags(v3)["monitoring.rolled_back"] == "true"
    assert world.run_job("rollback").success and world.champion() == "1"
    assert world.tags(v2)["monitoring.rolled_back"] == "true"

    # Someone puts v3 back by hand, then v4 is promoted over it: v4's previous champion is
    # v3, which was rolled back, and so was v2; the rollback lands on v1.
    client.set_registered_model_alias(world.registered_model, "champion", v3)
    ModelRegistry(world.tracking_uri).promote(world.registered_model, v4, "champion", "candidate", {})
    assert world.tags(v4)["monitoring.previous_champion"] == v3
    assert world.run_job("rollback").success and world.champion() == "1"
    # With nothing left to roll back to, the job fails loudly and moves nothing.
    assert not world.run_job("rollback").success and world.champion() == "1"


class Clock:
    def __init__(self):
        self.now = 1_900_000_000.0

    def __call__(self):
        return self.now


def remediation_tick(world: GateWorld, cursor):
    defs = build_definitions(world.config())
    sensor = defs.resolve_sensor_def("m_remediation_sensor")
    context = dg.build_sensor_context(instance=world.instance, cursor=cursor, definitions=defs,
                                      resources={"mlflow": build_resources(world.config())["mlflow"]})
    return sensor(context)


def remediation_tags(world: GateWorld, version: str) -> list[dict]:
    return [json.loads(v) for k, v in sorted(world.tags(version).items()) if k.startswith("monitoring.remediation.")]


@pytest.fixture()
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(remediation_module, "_now", clock)
    return clock


def test_cooldown_gives_one_action_for_two_triggers(tmp_path, clock):
    world = GateWorld(tmp_path)
    world.register(seed=1)
    v2 = world.register(seed=2, alias=None)
    ModelRegistry(world.tracking_uri).promote(world.registered_model, v2, "champion", "candidate", {})
    policy = {"policy": "rollback", "consecutive_failures": 2, "cooldown_hours": 24}
    world.config_dict = (lambda base=world.config_dict: lambda **o: base(remediation=policy, **o))()

    serve_days(world, [0, 1], flip=True, version=v2)
    first = remediation_tick(world, None)
    assert [r.job_name for r in first.run_requests] == ["m_rollback"]
    assert json.loads(first.cursor)["after"] == day(1)

    clock.now += 3600
    serve_days(world, [2, 3], flip=True, version=v2)
    second = remediation_tick(world, first.cursor)
    assert second.run_requests == []
    records = remediation_tags(world, v2)
    assert [r["outcome"] for r in records] == ["started", "skipped"]
    assert records[1]["skipped"].startswith("cooldown")

    clock.now += 60
    third = remediation_tick(world, second.cursor)  # the same trigger again: no new record
    assert third.run_requests == [] and len(remediation_tags(world, v2)) == 2

    clock.now += 25 * 3600
    fourth = remediation_tick(world, third.cursor)
    assert [r.job_name for r in fourth.run_requests] == ["m_rollback"]


def test_dry_run_records_and_notifies_but_does_nothing(tmp_path, clock):
    world = GateWorld(tmp_path)
    world.register(seed=1)
    v2 = world.register(seed=2, alias=None)
    ModelRegistry(world.tracking_uri).promote(world.registered_model, v2, "champion", "candidate", {})
    log = tmp_path / "notices.jsonl"
    base = world.config_dict

    def config_dict(**overrides):
        data = base(remediation={"policy": "rollback", "consecutive_failures": 2, "dry_run": True}, **overrides)
        data["notifications"] = {"channels": {"log": {"type": "file", "path": str(log)}},
                                 "routes": [{"channels": ["log"]}]}
        return data

    world.config_dict = config_dict
    serve_days(world, [5, 6], flip=True, version=v2)
    result = remediation_tick(world, None)
    assert result.run_requests == []
    assert world.champion() == v2
    records = remediation_tags(world, v2)
    assert len(records) == 1 and records[0]["skipped"].startswith("dry run")
    (event,) = result.asset_events
    assert event.asset_key == dg.AssetKey(["m", "lifecycle"]) and "rollback skipped" in event.metadata["summary"].value
    # The daemon stores what the sensor reports; the alert sensor sends it on, once.
    world.instance.report_runless_asset_event(event)
    defs = build_definitions(world.config())
    cursor = None
    for _ in range(2):
        cursor = defs.resolve_sensor_def("monitoring_alert_sensor")(
            dg.build_sensor_context(instance=world.instance, cursor=cursor, definitions=defs)).cursor
    notices = [m for m in map(json.loads, log.read_text().splitlines()) if m["notice"]]
    assert len(notices) == 1 and "rollback skipped" in notices[0]["title"]
    assert notices[0]["notice"]["event"] == "remediation" and notices[0]["title"].startswith("[WARN] m: ")


def test_failing_estimates_of_label_pending_days_count_only_when_the_config_allows(tmp_path, clock):
    world = GateWorld(tmp_path)
    world.register(seed=1)
    for offset in (10, 11):  # two label-pending days whose estimate fails
        world.instance.report_runless_asset_event(dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["m", "estimated_performance"]), check_name="estimated_performance_vs_baseline",
            passed=False, severity=dg.AssetCheckSeverity.WARN, partition=day(offset),
            metadata={"status": "estimated", "version": "1"}))
    policy = {"policy": "notify", "consecutive_failures": 2}
    base = world.config_dict
    world.config_dict = lambda **o: base(remediation=policy, **o)
    assert remediation_tick(world, None).asset_events == []  # default: estimates do not count

    world.config_dict = lambda **o: base(remediation=policy | {"use_estimates": True}, **o)
    result = remediation_tick(world, None)
    (event,) = result.asset_events
    assert event.metadata["event"].value == "remediation" and "notify recorded" in event.metadata["summary"].value
    assert json.loads(result.cursor)["estimated"] == {day(10): False, day(11): False}
