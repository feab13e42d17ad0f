"""The spine end to end: the demo's partitions through Dagster against a real MLflow store."""

import json

from mlflow.tracking import MlflowClient

from monitoring_assets.assets.names import (
    DRIFT_CHECK,
    ESTIMATED_CHECK,
    RECONCILED_CHECK,
    LABEL_COVERAGE_CHECK,
    LABELS_CONSISTENT_CHECK,
    LATENCY_SLO_CHECK,
    PERFORMANCE_CHECK,
    SCHEMA_CHECK,
)
from monitoring_assets_tests.conftest import DRIFT_DAY

LABEL_DELAY_DAYS = 2


def test_summary_file_has_the_documented_shape(demo_summary, day_keys):
    on_disk = json.loads((demo_summary["home"] / "demo-summary.json").read_text())
    assert on_disk["model"] == "churn"
    assert on_disk["dagster_home"].endswith("dagster")
    assert on_disk["mlflow_tracking_uri"].startswith("sqlite:///")
    assert list(on_disk["partitions"]) == day_keys
    for key in day_keys:
        checks = on_disk["partitions"][key]["checks"]
        assert set(checks) == {SCHEMA_CHECK, DRIFT_CHECK, PERFORMANCE_CHECK, LABEL_COVERAGE_CHECK, LATENCY_SLO_CHECK,
                               ESTIMATED_CHECK, RECONCILED_CHECK, LABELS_CONSISTENT_CHECK}
        for outcome in checks.values():
            assert isinstance(outcome["passed"], bool)
            assert outcome["severity"] in ("WARN", "ERROR")
            assert isinstance(outcome["metadata"], dict)


def test_drift_check_passes_before_the_drift_day_and_fails_from_it(demo_summary, day_keys):
    for index, key in enumerate(day_keys, start=1):
        drift = demo_summary["partitions"][key]["checks"][DRIFT_CHECK]
        if index < DRIFT_DAY:
            assert drift["passed"], (key, drift["description"])
        else:
            assert not drift["passed"], key
            assert drift["severity"] == "ERROR"
            drifted = set(drift["metadata"]["drifted_features"])
            assert {"income", "sessions_per_week", "plan"} <= drifted, drifted


def test_performance_check_follows_the_concept_drift_on_labelled_days(demo_summary, day_keys):
    labelled = day_keys[: len(day_keys) - LABEL_DELAY_DAYS]
    for index, key in enumerate(labelled, start=1):
        perf = demo_summary["partitions"][key]["checks"][PERFORMANCE_CHECK]
        assert perf["metadata"]["status"] == "judged", key
        assert perf["metadata"]["baseline"] > 0.6
        if index < DRIFT_DAY:
            assert perf["passed"], (key, perf["description"])
        else:
            assert not perf["passed"], key
            assert perf["severity"] == "ERROR"
            assert perf["metadata"]["observed"] < perf["metadata"]["threshold"]


def test_days_without_labels_are_pending_not_failed(demo_summary, day_keys):
    for key in day_keys[-LABEL_DELAY_DAYS:]:
        checks = demo_summary["partitions"][key]["checks"]
        assert checks[PERFORMANCE_CHECK]["passed"]
        assert checks[PERFORMANCE_CHECK]["metadata"]["status"] == "pending"
        # The demo's days lie long before today, so the label deadline has passed.
        coverage = checks[LABEL_COVERAGE_CHECK]
        assert coverage["metadata"]["status"] == "overdue"
        assert not coverage["passed"] and coverage["severity"] == "WARN"


def test_clean_days_pass_schema_and_service_level(demo_summary, day_keys):
    for key in day_keys:
        checks = demo_summary["partitions"][key]["checks"]
        assert checks[SCHEMA_CHECK]["passed"], checks[SCHEMA_CHECK]["description"]
        assert checks[SCHEMA_CHECK]["metadata"]["rows_in"] == checks[SCHEMA_CHECK]["metadata"]["rows_valid"]
        assert checks[LATENCY_SLO_CHECK]["passed"]


def test_champion_and_baseline_are_registered_in_mlflow(demo_summary):
    client = MlflowClient(tracking_uri=demo_summary["mlflow_tracking_uri"])
    champion = client.get_model_version_by_alias("churn-classifier", "champion")
    run = client.get_run(champion.run_id)
    assert run.data.metrics["baseline.accuracy"] > 0.6
    artifacts = [a.path for a in client.list_artifacts(champion.run_id, "monitoring")]
    assert "monitoring/reference_profile.bin" in artifacts


def test_materializations_are_in_the_persistent_instance(demo_summary, day_keys):
    import dagster as dg

    instance = dg.DagsterInstance.from_config(demo_summary["dagster_home"])
    try:
        key = dg.AssetKey(["churn", "feature_drift"])
        materialized = instance.get_materialized_partitions(key)
        assert materialized == set(day_keys)
        event = instance.get_latest_materialization_event(key)
        metadata = event.asset_materialization.metadata
        assert metadata["drift/income"].value > 0.2
        # Every run belongs to the code location's jobs, as a daemon's would: the UI lists them.
        label = {".dagster/repository": "__repository__@monitoring_assets"}
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="churn_monitoring", tags=label))
        assert {r.tags["dagster/partition"] for r in runs} == set(day_keys)
        assert instance.get_runs(filters=dg.RunsFilter(job_name="churn_health", tags=label))
    finally:
        instance.dispose()


def test_the_model_is_degraded_since_the_drift_day(demo_summary, day_keys):
    health = demo_summary["health"]
    assert health["status"] == "DEGRADED" and health["since"] == day_keys[DRIFT_DAY - 1]
    failing = {f["check"] for f in health["failing"]}
    assert {"drift_within_limits", "performance_vs_baseline"} <= failing
    assert "income" in health["drifted_features"]


def test_the_demo_retrains_promotes_and_rejects(demo_summary):
    promotion = demo_summary["promotion"]
    decisions = {d["decision"]: d for d in promotion["decisions"]}
    assert set(decisions) == {"promoted", "rejected"}
    promoted, rejected = decisions["promoted"], decisions["rejected"]
    assert promoted["previous_champion"] == "1" and promotion["champion"] == promoted["version"]
    assert promoted["metrics"]["candidate"]["accuracy"] > promoted["metrics"]["champion"]["accuracy"]
    assert any(r.startswith("candidate_meets_thresholds") for r in rejected["reasons"])
    client = MlflowClient(tracking_uri=demo_summary["mlflow_tracking_uri"])
    tags = client.get_model_version("churn-classifier", promoted["version"]).tags
    assert tags["monitoring.origin"] == "retrain"


def test_one_degradation_gives_one_firing_message_one_resolution_and_one_notice_per_event(demo_summary, day_keys):
    messages = [json.loads(line) for line in (demo_summary["home"] / "alerts.log").read_text().splitlines()]
    incident_messages = [m for m in messages if m["alerts"]]
    firing = [m for m in incident_messages if any(a["kind"] == "firing" for a in m["alerts"])]
    resolved = [m for m in incident_messages if any(a["kind"] == "resolved" for a in m["alerts"])]
    assert len(firing) == 1 and len(resolved) == 1 and len(incident_messages) == 2
    opened = {a["check"]: a for a in firing[0]["alerts"]}
    # One incident per (check, version): v1's drift over the drifted days, its performance over
    # the degraded days whose labels are in, and the model's health (with the session's fixed
    # dates, the newest days' labels are also overdue by the wall clock).
    # The concept drift shows in the estimate's reconciliation once labels are in.
    assert {DRIFT_CHECK, PERFORMANCE_CHECK, "model_healthy", RECONCILED_CHECK} <= set(opened) <= {
        DRIFT_CHECK, PERFORMANCE_CHECK, "model_healthy", RECONCILED_CHECK, LABEL_COVERAGE_CHECK}
    drift, perf = opened[DRIFT_CHECK], opened[PERFORMANCE_CHECK]
    assert drift["model_version"] == perf["model_version"] == "1"
    assert drift["since"] == perf["since"] == day_keys[DRIFT_DAY - 1]
    assert drift["partition_count"] == len(day_keys) - DRIFT_DAY + 1
    assert perf["partition_count"] == len(day_keys) - DRIFT_DAY + 1 - LABEL_DELAY_DAYS
    assert perf["partitions"] == day_keys[DRIFT_DAY - 1:len(day_keys) - LABEL_DELAY_DAYS]
    assert {m["metric"] for m in perf["failed_metrics"]} == {"accuracy", "roc_auc"}
    assert perf["observed"] < perf["threshold"] < perf["baseline"]
    assert firing[0]["title"].startswith("[ERROR] churn v1: ")
    summary = next(a["summary"] for a in firing[0]["alerts"] if a["check"] == PERFORMANCE_CHECK)
    assert f"since {day_keys[DRIFT_DAY - 1]}, {perf['partition_count']} partitions" in summary
    # Promoting v2 resolves v1's incidents, with the reason; the health stays open (still degraded).
    ended = {a["check"]: a for a in resolved[0]["alerts"]}
    assert set(ended) == set(opened) - {"model_healthy"}
    promoted_version = demo_summary["promotion"]["champion"]
    for alert in ended.values():
        assert alert["reason"] == f"v1 no longer serves: replaced by v{promoted_version} (promotion)"
    notices = [m["notice"] for m in messages if m["notice"]]
    assert [n["event"] for n in notices] == ["retrain_started", "retrain_finished", "promoted", "rejected"]
    promoted = next(n for n in notices if n["event"] == "promoted")
    assert promoted["summary"].startswith(f"churn: v{promoted_version} promoted over v1 (accuracy ")
    rejected = next(n for n in notices if n["event"] == "rejected")
    assert f"champion v{promoted_version} stays (accuracy " in rejected["summary"] and " vs " in rejected["summary"]
    assert demo_summary["alerts"] | {"events": None} == {
        "messages": 6, "firing": len(opened), "repeat": 0, "resolved": len(opened) - 1, "notices": 4, "events": None,
        "log": demo_summary["alerts"]["log"]}


def test_the_demo_leaves_every_sensor_cursor_in_the_instance(demo_summary):
    import dagster as dg

    with dg.DagsterInstance.from_config(str(demo_summary["home"] / "dagster")) as instance:
        cursors = {s.instigator_name: s.instigator_data.cursor for s in instance.all_instigator_state()}
    assert {"monitoring_alert_sensor", "churn_remediation_sensor", "churn_inference_sensor", "churn_labels_sensor",
            "churn_health_sensor"} <= set(cursors)
    alert_cursor = json.loads(cursors["monitoring_alert_sensor"])
    assert alert_cursor["v"] == 2 and alert_cursor["checks"] > 0
    assert len(cursors["monitoring_alert_sensor"]) < 20_000


def test_mlflow_holds_one_point_per_day_for_each_metric(demo_summary, day_keys):
    from monitoring_assets.registry import ModelRegistry

    client = MlflowClient(tracking_uri=demo_summary["mlflow_tracking_uri"])
    run_id = ModelRegistry(demo_summary["mlflow_tracking_uri"]).monitoring_run("churn-classifier", "1")
    assert len(client.get_metric_history(run_id, "drift.income")) == len(day_keys)
    accuracy = client.get_metric_history(run_id, "perf.accuracy")
    assert len(accuracy) == len(day_keys) - LABEL_DELAY_DAYS
    assert len({p.step for p in accuracy}) == len(accuracy)


def test_the_estimate_judges_pending_days_and_its_reconciliation_catches_the_concept_drift(demo_summary, day_keys):
    from monitoring_assets.assets.names import TABLE_CHECKS

    labelled = day_keys[:len(day_keys) - LABEL_DELAY_DAYS]
    reconciled = {day: demo_summary["partitions"][day]["checks"][RECONCILED_CHECK] for day in day_keys}
    estimated = {day: demo_summary["partitions"][day]["checks"][ESTIMATED_CHECK] for day in day_keys}
    # Before the drift the estimate agrees with the labels; from the drift day (a concept drift
    # the scores cannot show) the labels contradict it on every labelled day.
    firing = [day for day in labelled if not reconciled[day]["passed"]]
    assert firing == labelled[DRIFT_DAY - 1:], firing
    assert all("suspected concept drift: realized" in reconciled[d]["description"] for d in firing)
    # The days whose labels are pending: judged by the estimate, not "pending".
    for day in day_keys[-LABEL_DELAY_DAYS:]:
        assert estimated[day]["metadata"]["status"] == "estimated"
        assert isinstance(estimated[day]["metadata"]["observed"], float)
        assert reconciled[day]["metadata"]["status"] == "pending"
        assert demo_summary["partitions"][day]["checks"][PERFORMANCE_CHECK]["metadata"]["status"] == "pending"
    assert ESTIMATED_CHECK in TABLE_CHECKS and RECONCILED_CHECK in TABLE_CHECKS
