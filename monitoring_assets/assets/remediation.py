"""The rollback job: the champion alias goes back to the audited previous champion."""

import dagster as dg

from monitoring_assets.assets.lifecycle import lifecycle_event
from monitoring_assets.config import ModelConfig
from monitoring_assets.promotion.gate import previous_champion_chain
from monitoring_assets.resources import MlflowRegistry


def build_rollback_job(model: ModelConfig, job_name: str) -> dg.JobDefinition:
    @dg.op(name=f"{model.name}_rollback_champion")
    def rollback_champion(context: dg.OpExecutionContext, mlflow: MlflowRegistry) -> dict:
        registry = mlflow.registry
        current = registry.alias_version(model.registered_model, model.champion_alias)
        if current is None:
            raise dg.Failure(f"{model.registered_model} has no {model.champion_alias!r} version")
        target = previous_champion_chain(current, lambda v: registry.version_tags(model.registered_model, v))
        if target is None:
            raise dg.Failure(f"{model.registered_model} v{current}: no earlier champion that was not "
                             "itself rolled back; nothing to roll back to", allow_retries=False)
        reason = context.run.tags.get("monitoring/reason", "requested")
        registry.rollback(model.registered_model, model.champion_alias, target,
                          {"monitoring.dagster_run_id": context.run_id, "monitoring.rollback_reason": reason})
        context.log.info(f"{model.registered_model}: champion v{current} rolled back to v{target}")
        context.log_event(lifecycle_event(
            model, "rolled_back", f"{model.name}: champion rolled back from v{current} to v{target} ({reason})"[:400],
            severity="WARN", version=target, previous=current))
        context.add_output_metadata({"from": current, "to": target})
        return {"from": current, "to": target}

    @dg.job(name=job_name, description=f"Move {model.registered_model}'s champion alias back to the "
            "previous champion named by the audit tags.")
    def rollback_job():
        rollback_champion()

    return rollback_job
