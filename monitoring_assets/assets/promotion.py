"""retrained_candidate, candidate_evaluation (with blocking gate checks) and
champion_promotion, which Dagster only materializes when every gate check passed."""

import importlib
import json
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from monitoring_assets.assets.common import markdown_table
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
from monitoring_assets.registry import load_baseline
from monitoring_assets.registry.aliases import load_pyfunc, promote, reject, tag_version, version_for
from monitoring_assets.resources import MlflowRegistry, MonitoringStorage
from monitoring_assets.validation.schema import InferenceSchema


def labeled_partitions(model: ModelConfig, storage: MonitoringStorage) -> list[str]:
    validated = set(storage.stored_partitions(model.name, VALIDATED_BATCH))
    return [p for p in storage.stored_partitions(model.name, LABELS)
            if p in validated and len(storage.read_frame(model.name, LABELS, p))]


def labeled_window(model: ModelConfig, storage: MonitoringStorage, partitions: list[str]) -> pd.DataFrame:
    roles = model.columns
    frames = []
    for partition in partitions:
        predictions = storage.read_frame(model.name, VALIDATED_BATCH, partition)
        labels = storage.read_frame(model.name, LABELS, partition)
        predictions[roles.id] = predictions[roles.id].astype(str)
        joined = predictions.drop(columns=[roles.label], errors="ignore").merge(labels, on=roles.id, how="inner")
        frames.append(joined.assign(_partition=partition))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def evaluation_partitions(model: ModelConfig, storage: MonitoringStorage) -> list[str]:
    return labeled_partitions(model, storage)[-model.promotion.window_days:]


def training_partitions(model: ModelConfig, storage: MonitoringStorage) -> list[str]:
    """The labeled partitions just before the evaluation window: the gate never judges a
    candidate on the rows it was trained on."""
    labeled = labeled_partitions(model, storage)
    end = len(labeled) - model.promotion.window_days
    return labeled[max(0, end - model.remediation.training_window_days):max(0, end)]


def _predict(pyfunc: Any, task: str, features: pd.DataFrame) -> tuple[pd.Series, pd.Series | None]:
    predictions = pd.Series(np.asarray(pyfunc.predict(features)).ravel(), index=features.index)
    scores = None
    if task == "binary":
        raw = pyfunc.get_raw_model() if hasattr(pyfunc, "get_raw_model") else None
        if raw is not None and hasattr(raw, "predict_proba"):
            scores = pd.Series(raw.predict_proba(features)[:, 1], index=features.index)
    return predictions, scores


def _production_kinds(model: ModelConfig, mlflow: MlflowRegistry, champion: str) -> dict[str, str]:
    from monitoring_assets.assets.validation import schema_for

    schema: InferenceSchema = schema_for(model, mlflow.baseline(model.registered_model, champion))
    return {rule.name: rule.kind for rule in schema.rules if rule.role == "feature"}


def evaluate_candidate(model: ModelConfig, mlflow: MlflowRegistry, storage: MonitoringStorage) -> tuple[dict, list[GateCheck]]:
    client = mlflow.client
    champion = version_for(client, model.registered_model, model.champion_alias)
    candidate = version_for(client, model.registered_model, model.candidate_alias)
    partitions = evaluation_partitions(model, storage)
    report: dict[str, Any] = {"champion": champion, "candidate": candidate, "partitions": partitions}
    if candidate is None or champion is None:
        missing = model.candidate_alias if candidate is None else model.champion_alias
        checks = [GateCheck(name, False, f"no version under alias {missing!r}") for name in GATE_CHECKS]
        return report | {"status": "no_candidate"}, checks
    window = labeled_window(model, storage, partitions)
    roles = model.columns
    candidate_baseline = load_baseline(client, model.registered_model, candidate)
    features = roles.features or [c.name for c in candidate_baseline.inputs]
    checks = [
        window_check(len(window), model.promotion.min_labeled_rows, partitions),
        signature_check(candidate_baseline.inputs, _production_kinds(model, mlflow, champion)),
    ]
    metrics: dict[str, dict[str, float]] = {}
    predictions: dict[str, pd.Series] = {}
    if len(window):
        for role, version in (("champion", champion), ("candidate", candidate)):
            pyfunc = load_pyfunc(client, model.registered_model, version)
            try:
                predicted, scores = _predict(pyfunc, model.task, window[features])
            except Exception as exc:  # a candidate that cannot score production rows fails the gate
                # The exception text repeats the rows it was given; only its kind is kept.
                failure = f"{role} v{version} cannot score the window ({type(exc).__name__})"
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
        group_name=model.name,
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
        partitions = training_partitions(model, storage)
        window = labeled_window(model, storage, partitions)
        if window.empty:
            raise dg.Failure(f"{model.name}: no labeled partitions before the evaluation window to train on")
        version = str(train(
            window, registered_model=model.registered_model, tracking_uri=mlflow.tracking_uri,
            features=model.columns.features, label=model.columns.label, task=model.task,
        ))
        client = mlflow.client
        client.set_registered_model_alias(model.registered_model, model.candidate_alias, version)
        tag_version(client, model.registered_model, version, {
            "monitoring.origin": "retrain", "monitoring.trained_on": partitions,
            "monitoring.dagster_run_id": context.run_id,
        })
        return dg.Output({"version": version, "partitions": partitions, "rows": len(window)},
                         metadata={"version": version, "training_rows": len(window),
                                   "training_partitions": dg.MetadataValue.json(partitions)})

    return retrained_candidate


def build_candidate_evaluation(model: ModelConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=CANDIDATE_EVALUATION,
        key_prefix=[model.name],
        group_name=model.name,
        deps=[dg.AssetKey([model.name, VALIDATED_BATCH]), dg.AssetKey([model.name, LABELS]),
              dg.AssetKey([model.name, RETRAINED_CANDIDATE])],
        io_manager_key="report_io_manager",
        kinds={"mlflow"},
        check_specs=[dg.AssetCheckSpec(name, asset=[model.name, CANDIDATE_EVALUATION], blocking=True)
                     for name in GATE_CHECKS],
        description="The candidate and the champion, both loaded through MLflow pyfunc, scored on the "
        "same recent window of labeled production data, side by side.",
    )
    def candidate_evaluation(context: dg.AssetExecutionContext, mlflow: MlflowRegistry,
                             storage: MonitoringStorage):
        report, checks = evaluate_candidate(model, mlflow, storage)
        failed = [c for c in checks if not c.passed]
        report["gate"] = {"passed": not failed, "failures": [f"{c.name}: {c.description}" for c in failed]}
        if report.get("candidate") and failed:
            reject(mlflow.client, model.registered_model, report["candidate"],
                   report["gate"]["failures"], {"monitoring.dagster_run_id": context.run_id})
        metrics = report.get("metrics", {})
        rows = [{"metric": name, "champion": metrics.get("champion", {}).get(name),
                 "candidate": value} for name, value in metrics.get("candidate", {}).items()]
        yield dg.Output(report, metadata={
            "champion_version": report.get("champion") or "",
            "candidate_version": report.get("candidate") or "",
            "labeled_rows": report.get("labeled_rows", 0),
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
        group_name=model.name,
        ins={"candidate_evaluation": dg.AssetIn(key=[model.name, CANDIDATE_EVALUATION])},
        io_manager_key="report_io_manager",
        kinds={"mlflow"},
        description="Moves the champion alias to the candidate. Upstream blocking checks keep it from "
        "running unless the whole gate passed.",
    )
    def champion_promotion(context: dg.AssetExecutionContext, candidate_evaluation: dict,
                           mlflow: MlflowRegistry) -> dg.Output[dict]:
        if not candidate_evaluation.get("gate", {}).get("passed"):
            raise dg.Failure("the gate did not pass; refusing to promote")
        version = candidate_evaluation["candidate"]
        outcome = promote(mlflow.client, model.registered_model, version, model.champion_alias,
                          model.candidate_alias, {
                              "monitoring.dagster_run_id": context.run_id,
                              "monitoring.metrics": candidate_evaluation.get("metrics", {}),
                              "monitoring.evaluated_on": candidate_evaluation.get("partitions", []),
                          })
        return dg.Output(outcome | {"candidate": version}, metadata={
            "champion": outcome["champion"], "previous_champion": outcome["previous"] or "",
            "changed": outcome["changed"],
        })

    return champion_promotion
