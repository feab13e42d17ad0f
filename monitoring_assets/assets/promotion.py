"""retrained_candidate, candidate_evaluation (with the gate's ERROR checks) and
champion_promotion, which moves the alias only when every gate check passed."""

import importlib
import json
import tempfile
from typing import Any

import dagster as dg
import pandas as pd

from monitoring_assets.assets.common import markdown_table
from monitoring_assets.assets.lifecycle import lifecycle_event, metrics_phrase
from monitoring_assets.assets.names import (
    CANDIDATE_EVALUATION,
    CHAMPION_PROMOTION,
    GATE_CHECKS,
    LABELS,
    RETRAINED_CANDIDATE,
    VALIDATED_BATCH,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.performance.metrics import compute_metrics
from monitoring_assets.promotion.gate import (
    GateCheck,
    drift_check,
    signature_check,
    threshold_check,
    window_check,
)
from monitoring_assets.promotion.scoring import ScoringFailed, score_isolated
from monitoring_assets.promotion.window import labeled_window
from monitoring_assets.registry import ModelRegistry
from monitoring_assets.resources import MlflowRegistry, MonitoringStorage
from monitoring_assets.validation.schema import schema_for

GATE_CHECK_DESCRIPTIONS = {
    "candidate_meets_thresholds": "The candidate meets every promotion threshold (MetricThreshold semantics) "
    "against the champion on the same labeled window.",
    "candidate_signature_compatible": "Every input of the candidate's signature is produced with a compatible "
    "type, and the candidate can score the window.",
    "candidate_prediction_drift": "The candidate's predictions do not drift past max_prediction_drift from "
    "the champion's on the same rows.",
    "evaluation_window_labeled": "The evaluation window holds at least min_labeled_rows labeled rows.",
}


def promotion_group(model: ModelConfig) -> str:
    """Promotion, retraining and version comparison span partitions: they are a group of their
    own, so that `--select group:<model> --partition P` selects one partition's work."""
    return f"{model.name}_promotion"


def labeled_partitions(instance: dg.DagsterInstance, model: ModelConfig, newest: int) -> list[str]:
    """The `newest` partitions whose labels Dagster materialized with rows, next to a validated
    batch: read from the instance, so no stored file is listed or opened to find them."""
    labels_key = dg.AssetKey([model.name, LABELS])
    validated = instance.get_materialized_partitions(dg.AssetKey([model.name, VALIDATED_BATCH]))
    found: list[str] = []
    for partition in sorted(instance.get_materialized_partitions(labels_key) & validated, reverse=True):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=labels_key, asset_partitions=[partition]), limit=1, ascending=False,
        ).records
        materialization = records[0].asset_materialization if records else None
        rows = materialization.metadata.get("dagster/row_count") if materialization else None
        if rows is not None and int(getattr(rows, "value", rows) or 0) > 0:
            found.append(partition)
            if len(found) >= newest:
                break
    return sorted(found)


def evaluation_partitions(model: ModelConfig, instance: dg.DagsterInstance) -> list[str]:
    return labeled_partitions(instance, model, model.promotion.window_days)


def training_partitions(model: ModelConfig, instance: dg.DagsterInstance) -> list[str]:
    """The labeled partitions just before the evaluation window: the gate never judges a
    candidate on the rows it was trained on."""
    window = model.promotion.window_days
    labeled = labeled_partitions(instance, model, window + model.remediation.training_window_days)
    return labeled[:max(0, len(labeled) - window)]


def _production_kinds(model: ModelConfig, registry: ModelRegistry, champion: str) -> dict[str, str]:
    schema = schema_for(model, registry.baseline(model.registered_model, champion))
    return {rule.name: rule.kind for rule in schema.rules if rule.role == "feature"}


def evaluate_candidate(model: ModelConfig, registry: ModelRegistry, storage: MonitoringStorage,
                       instance: dg.DagsterInstance) -> tuple[dict, list[GateCheck]]:
    champion = registry.alias_version(model.registered_model, model.champion_alias)
    candidate = registry.alias_version(model.registered_model, model.candidate_alias)
    partitions = evaluation_partitions(model, instance)
    report: dict[str, Any] = {"champion": champion, "candidate": candidate, "partitions": partitions}
    if candidate is None or champion is None:
        missing = model.candidate_alias if candidate is None else model.champion_alias
        checks = [GateCheck(name, False, f"no version under alias {missing!r}") for name in GATE_CHECKS]
        return report | {"status": "no_candidate"}, checks
    window = labeled_window(model, storage, partitions)
    roles = model.columns
    candidate_baseline = registry.baseline(model.registered_model, candidate)
    features = roles.features or [c.name for c in candidate_baseline.inputs]
    checks = [
        window_check(len(window), model.promotion.min_labeled_rows, partitions),
        signature_check(candidate_baseline.inputs, _production_kinds(model, registry, champion)),
    ]
    metrics: dict[str, dict[str, float]] = {}
    predictions: dict[str, pd.Series] = {}
    if len(window):
        for role, version in (("champion", champion), ("candidate", candidate)):
            try:
                # In a child process without this worker's secrets: loading a pyfunc model can run
                # pickled code, and whoever can set the candidate alias chooses that code.
                with tempfile.TemporaryDirectory(prefix="monitoring-model-") as tmp:
                    local = registry.download_model(model.registered_model, version, tmp)
                    predicted, scores = score_isolated(local, model.task, window[features])
            except ScoringFailed as exc:  # a candidate that cannot score production rows fails the gate
                # The exception text repeats the rows it was given; only its kind is kept.
                failure = f"{role} v{version} cannot score the window ({exc})"
                previous = checks[1]
                checks[1] = GateCheck("candidate_signature_compatible", False,
                                      failure if previous.passed else f"{previous.description}; {failure}",
                                      previous.metadata)
                metrics[role] = {}
                continue
            predictions[role] = predicted
            metrics[role] = compute_metrics(model.task, window[roles.label], predicted, scores)
    if len(predictions) == 2:
        checks.append(threshold_check(metrics["candidate"], metrics["champion"], model.promotion.thresholds))
        checks.append(drift_check(model.task, predictions["candidate"], predictions["champion"],
                                  model.promotion.max_prediction_drift))
    else:
        checks.append(GateCheck("candidate_meets_thresholds", False, "no metrics: the window could not be scored"))
        checks.append(GateCheck("candidate_prediction_drift", False, "no predictions to compare"))
    report |= {"status": "evaluated", "labeled_rows": len(window), "metrics": metrics}
    return report, checks


def build_retrained_candidate(model: ModelConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=RETRAINED_CANDIDATE,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=promotion_group(model),
        deps=[dg.AssetKey([model.name, VALIDATED_BATCH]), dg.AssetKey([model.name, LABELS])],
        io_manager_key="report_io_manager",
        kinds={"mlflow", "scikitlearn"},
        description="A new version trained by the configured training function on recent labeled "
        "production data, registered under the candidate alias for the gate to judge.",
    )
    def retrained_candidate(context: dg.AssetExecutionContext, mlflow: MlflowRegistry,
                            storage: MonitoringStorage) -> dg.Output[dict]:
        path = model.remediation.training_function
        if not path:
            raise dg.Failure(f"{model.name}: remediation.training_function is not configured")
        module_name, _, function_name = path.partition(":")
        train = getattr(importlib.import_module(module_name), function_name)
        partitions = training_partitions(model, context.instance)
        window = labeled_window(model, storage, partitions)
        if window.empty:
            raise dg.Failure(f"{model.name}: no labeled partitions before the evaluation window to train on")
        version = str(train(
            window, registered_model=model.registered_model, tracking_uri=mlflow.tracking_uri,
            features=model.columns.features, label=model.columns.label, task=model.task,
        ))
        registry = mlflow.registry
        registry.set_alias(model.registered_model, model.candidate_alias, version)
        registry.tag_version(model.registered_model, version, {
            "monitoring.origin": "retrain", "monitoring.trained_on": partitions,
            "monitoring.dagster_run_id": context.run_id,
        })
        context.log_event(lifecycle_event(
            model, "retrain_finished",
            f"{model.name}: retrain finished: v{version} registered as {model.candidate_alias!r} "
            f"(trained on {len(window)} rows of {len(partitions)} partitions)",
            version=version, details=f"training partitions: {', '.join(partitions)}"))
        return dg.Output({"version": version, "partitions": partitions, "rows": len(window)},
                         metadata={"version": version, "training_rows": len(window),
                                   "training_partitions": dg.MetadataValue.json(partitions)})

    return retrained_candidate


def build_candidate_evaluation(model: ModelConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=CANDIDATE_EVALUATION,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=promotion_group(model),
        deps=[dg.AssetKey([model.name, VALIDATED_BATCH]), dg.AssetKey([model.name, LABELS]),
              dg.AssetKey([model.name, RETRAINED_CANDIDATE])],
        io_manager_key="report_io_manager",
        kinds={"mlflow"},
        # The gate's checks are ERROR checks, not Dagster-blocking ones: a blocking failure fails
        # the run, and a rejected candidate is a verdict, not a crash. champion_promotion reads
        # the gate from this report and does nothing on a rejection.
        check_specs=[dg.AssetCheckSpec(name, asset=[model.name, CANDIDATE_EVALUATION],
                                       description=GATE_CHECK_DESCRIPTIONS[name])
                     for name in GATE_CHECKS],
        description="The candidate and the champion, both loaded through MLflow pyfunc, scored on the "
        "same recent window of labeled production data, side by side.",
    )
    def candidate_evaluation(context: dg.AssetExecutionContext, mlflow: MlflowRegistry,
                             storage: MonitoringStorage):
        registry = mlflow.registry
        report, checks = evaluate_candidate(model, registry, storage, context.instance)
        failed = [c for c in checks if not c.passed]
        report["gate"] = {"passed": not failed, "failures": [f"{c.name}: {c.description}" for c in failed]}
        if report.get("candidate") and failed:
            registry.reject(model.registered_model, report["candidate"], report["gate"]["failures"],
                            {"monitoring.dagster_run_id": context.run_id,
                             "monitoring.evaluated_on": report.get("partitions", [])})
        metrics = report.get("metrics", {})
        if report.get("candidate") and failed:
            names = list(model.promotion.thresholds)
            compared = metrics_phrase(metrics.get("candidate", {}), metrics.get("champion", {}), names)
            context.log_event(lifecycle_event(
                model, "rejected",
                f"{model.name}: candidate v{report['candidate']} rejected, champion v{report.get('champion')} stays"
                + (f" ({compared})" if compared else ""),
                severity="WARN", version=report["candidate"], previous=report.get("champion"),
                details="; ".join(report["gate"]["failures"])[:1500]))
        rows = [{"metric": name, "champion": metrics.get("champion", {}).get(name),
                 "candidate": value} for name, value in metrics.get("candidate", {}).items()]
        yield dg.Output(report, metadata={
            "champion_version": report.get("champion") or "",
            "candidate_version": report.get("candidate") or "",
            "labeled_rows": report.get("labeled_rows", 0),
            "evaluated_on": dg.MetadataValue.json(report.get("partitions", [])),
            "side_by_side": markdown_table(rows, ["metric", "champion", "candidate"]),
            "gate": "passed" if not failed else "rejected",
        })
        for check in checks:
            yield dg.AssetCheckResult(
                check_name=check.name, passed=check.passed, severity=dg.AssetCheckSeverity.ERROR,
                description=check.description,
                metadata={"version": report.get("candidate") or "",
                          "details": dg.MetadataValue.json(json.loads(json.dumps(check.metadata, default=str)))}
                | {k: v for k, v in check.metadata.items() if k in ("observed", "threshold")},
            )

    return candidate_evaluation


def build_champion_promotion(model: ModelConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=CHAMPION_PROMOTION,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=promotion_group(model),
        ins={"candidate_evaluation": dg.AssetIn(key=[model.name, CANDIDATE_EVALUATION])},
        io_manager_key="report_io_manager",
        kinds={"mlflow"},
        output_required=False,
        description="Moves the champion alias to the candidate, only when every gate check of the "
        "evaluation passed; after a rejection it is not materialized and the alias stays.",
    )
    def champion_promotion(context: dg.AssetExecutionContext, candidate_evaluation: dict, mlflow: MlflowRegistry):
        gate = candidate_evaluation.get("gate", {})
        version = candidate_evaluation.get("candidate")
        if not gate.get("passed"):
            context.log.info(f"{model.name}: promotion skipped: the gate rejected v{version} "
                             f"({'; '.join(gate.get('failures', []))[:500]})")
            return
        registry = mlflow.registry
        current = registry.alias_version(model.registered_model, model.candidate_alias)
        if current not in (None, str(version)):
            raise dg.Failure(f"the {model.candidate_alias!r} alias moved from v{version} to v{current} after the "
                             "evaluation: run the gate again", allow_retries=False)
        outcome = registry.promote(model.registered_model, version, model.champion_alias,
                          model.candidate_alias, {
                              "monitoring.dagster_run_id": context.run_id,
                              "monitoring.metrics": candidate_evaluation.get("metrics", {}),
                              "monitoring.evaluated_on": candidate_evaluation.get("partitions", []),
                          })
        if outcome["changed"]:
            metrics = candidate_evaluation.get("metrics", {})
            compared = metrics_phrase(metrics.get("candidate", {}), metrics.get("champion", {}),
                                      list(model.promotion.thresholds))
            previous = outcome["previous"]
            context.log_event(lifecycle_event(
                model, "promoted",
                f"{model.name}: v{version} promoted" + (f" over v{previous}" if previous else "")
                + (f" ({compared})" if compared else ""),
                version=str(version), previous=previous,
                details=f"evaluated on {', '.join(candidate_evaluation.get('partitions', []))}"))
        yield dg.Output(outcome | {"candidate": version}, metadata={
            "champion": outcome["champion"], "previous_champion": outcome["previous"] or "",
            "changed": outcome["changed"],
        })

    return champion_promotion
