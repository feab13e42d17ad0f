"""The remediation sensor: when the performance check failed on K consecutive labeled
partitions, apply the model's policy (notify, rollback, retrain) within its guard rails.
Every action taken or skipped is recorded on <model>/lifecycle (the alert sensor sends it
on) and tagged on the champion version."""

import json
import time

import dagster as dg

from monitoring_assets.assets.factory import retrain_job_name, rollback_job_name
from monitoring_assets.assets.names import ESTIMATED_CHECK, PERFORMANCE_CHECK
from monitoring_assets.config import ModelConfig, MonitoringConfig
from monitoring_assets.promotion.gate import previous_champion_chain
from monitoring_assets.promotion.policy import decide
from monitoring_assets.registry.aliases import now_iso
from monitoring_assets.resources import MlflowRegistry
from monitoring_assets.assets.lifecycle import lifecycle_event
from monitoring_assets.sensors.alert_sensor import read_check_evaluations

_ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
           dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _now() -> float:
    return time.time()


def remediation_sensor_name(model: ModelConfig) -> str:
    return f"{model.name}_remediation_sensor"


def build_remediation_sensor(model: ModelConfig, config: MonitoringConfig, jobs: list) -> dg.SensorDefinition:
    policy = model.remediation

    @dg.sensor(
        name=remediation_sensor_name(model),
        jobs=jobs,
        minimum_interval_seconds=config.sensors.alert_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING if config.sensors.default_running else dg.DefaultSensorStatus.STOPPED,
        description=f"Applies the {policy.policy!r} policy to {model.registered_model} after "
        f"{policy.consecutive_failures} consecutive failed labeled partitions.",
    )
    def remediation_sensor(context: dg.SensorEvaluationContext, mlflow: MlflowRegistry) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {}
        judged: dict[str, bool] = state.get("judged", {})
        estimated: dict[str, bool] = state.get("estimated", {})
        evaluations, events_after = read_check_evaluations(context.instance, int(state.get("events", 0)), config,
                                                           {model.name})
        for evaluation in evaluations:
            if evaluation.check == PERFORMANCE_CHECK and evaluation.judged:
                judged[evaluation.partition] = evaluation.passed
                estimated.pop(evaluation.partition, None)
            elif (policy.use_estimates and evaluation.check == ESTIMATED_CHECK and evaluation.judged
                  and evaluation.partition not in judged):
                estimated[evaluation.partition] = evaluation.passed  # until the labels judge it
        in_flight = bool(context.instance.get_runs(
            filters=dg.RunsFilter(job_name=retrain_job_name(model), statuses=_ACTIVE), limit=1,
        ) or context.instance.get_runs(
            filters=dg.RunsFilter(job_name=rollback_job_name(model), statuses=_ACTIVE), limit=1,
        ))
        now = _now()
        requests: list[dg.RunRequest] = []
        events: list[dg.AssetObservation] = []
        if state.get("followup") == "retrain" and not in_flight:
            requests.append(dg.RunRequest(job_name=retrain_job_name(model), tags={"monitoring/reason": "rollback_then_retrain"}))
            state["followup"] = None

        decision = decide(policy.policy, estimated | judged, policy.consecutive_failures, state.get("after"), now,
                          state.get("last_action_at"), policy.cooldown_hours * 3600, in_flight or bool(requests),
                          policy.dry_run)
        action = decision.action
        registry = mlflow.registry
        champion = registry.alias_version(model.registered_model, model.champion_alias)
        skipped = decision.skipped
        rollback_target = None
        if action in ("rollback", "rollback_then_retrain") and decision.acts and champion:
            rollback_target = previous_champion_chain(champion, lambda v: registry.version_tags(model.registered_model, v))
            if rollback_target is None and action == "rollback":
                skipped = "no earlier champion that was not itself rolled back"
        if action != "none":
            failing_key = f"{decision.reason}|{skipped}"
            if failing_key != state.get("last_notice"):
                state["last_notice"] = failing_key
                taken = "skipped" if skipped else ("recorded" if action == "notify" else "started")
                record = {"policy": action, "outcome": taken, "reason": decision.reason, "skipped": skipped,
                          "rollback_to": rollback_target, "at": now_iso()}
                if champion:
                    registry.tag_version(model.registered_model, champion,
                                         {f"monitoring.remediation.{int(now)}": record})
                retraining = action in ("retrain", "rollback_then_retrain") and taken == "started"
                events.append(lifecycle_event(
                    model, "retrain_started" if retraining and action == "retrain" else "remediation",
                    f"{model.name}: {action} {taken}" + (f" ({skipped})" if skipped else f": {decision.reason}"),
                    severity="WARN" if skipped else "INFO", version=champion,
                    details=decision.reason if skipped else ""))
            if skipped is None:
                state["after"] = max(p for p, ok in (estimated | judged).items() if not ok)
                state["last_action_at"] = now
                reason_tag = {"monitoring/reason": decision.reason[:200]}
                if action == "rollback" or (action == "rollback_then_retrain" and rollback_target):
                    requests.append(dg.RunRequest(job_name=rollback_job_name(model), tags=reason_tag))
                    if action == "rollback_then_retrain":
                        state["followup"] = "retrain"
                elif action in ("retrain", "rollback_then_retrain"):
                    requests.append(dg.RunRequest(job_name=retrain_job_name(model), tags=reason_tag))
        state |= {"events": events_after, "judged": judged, "estimated": estimated}
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(state, sort_keys=True), asset_events=events)

    return remediation_sensor
