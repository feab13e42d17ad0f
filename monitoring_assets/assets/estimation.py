"""<model>/estimated_performance: a classifier's metrics estimated from its calibrated scores
(CBPE; binary, or multiclass with one score column per class) for every partition, judged while
labels are pending, and reconciled with the realized metrics once they arrive."""


from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from monitoring_assets.assets.common import finite_or_none, markdown_table, partition_check_spec, reading_only
from monitoring_assets.assets.names import (
    ESTIMATED_CHECK,
    ESTIMATED_PERFORMANCE,
    LABELS,
    RECONCILED_CHECK,
    VALIDATED_BATCH,
)
from monitoring_assets.assets.performance import join_labels
from monitoring_assets.config import ModelConfig
from monitoring_assets.performance.estimation import (
    ClassCalibration,
    calibration_from_json,
    estimate_binary,
    estimate_multiclass,
    reconcile,
)
from monitoring_assets.performance.metrics import compute_metrics
from monitoring_assets.performance.thresholds import evaluate_threshold
from monitoring_assets.registry import ModelRegistry
from monitoring_assets.registry.served import frame_version, row_versions
from monitoring_assets.resources import MlflowRegistry

ESTIMABLE = ("accuracy", "precision", "recall", "f1", "roc_auc", "f1_macro", "f1_weighted")


def estimate_partition(model: ModelConfig, batch: pd.DataFrame, labels: pd.DataFrame,
                       registry: ModelRegistry) -> dict[str, Any]:
    """The report: `status` is `estimated` or `not_estimated` (with `reason`); `estimates` maps
    each metric to its value and 95% band; `realized` and `gaps` appear once labels are in."""
    roles = model.columns
    champion = registry.version_for_alias(model.registered_model, model.champion_alias)
    version = frame_version(batch, roles.model_version, champion)
    report: dict[str, Any] = {"version": version, "rows": len(batch), "estimates": {}, "realized": {}, "gaps": []}
    if model.task == "regression":
        return report | {"status": "not_estimated",
                         "reason": "regression models are not estimated: scores say nothing about the error"}
    if model.task == "binary" and (not roles.score or roles.score not in batch):
        return report | {"status": "not_estimated", "reason": "no score column (columns.score) to estimate from"}
    if model.task == "multiclass":
        missing = [c for c in roles.class_scores.values() if c not in batch]
        if not roles.class_scores or missing:
            return report | {"status": "not_estimated",
                             "reason": "no class score columns to estimate from (columns.class_scores)"
                                       + (f": {missing} missing" if missing else "")}
    baseline = registry.baseline(model.registered_model, version)
    if baseline.calibration is None:
        return report | {"status": "not_estimated",
                         "reason": f"v{version} was registered without labelled scores, so its scores are not "
                                   "calibrated (register_baseline(..., labels=...) or --label-column)"}
    calibration = calibration_from_json(baseline.calibration)
    multiclass = isinstance(calibration, ClassCalibration)
    if multiclass != (model.task == "multiclass") or (
            multiclass and any(c not in roles.class_scores for c in calibration.classes)):
        return report | {"status": "not_estimated",
                         "reason": f"v{version}'s calibration does not match the configured {model.task} scores"}
    served = (row_versions(batch, roles.model_version, champion) == version).to_numpy()
    score_columns = ([roles.class_scores[c] for c in calibration.classes] if multiclass else [roles.score])
    kept = served & batch[score_columns].notna().all(axis=1).to_numpy()
    rows = batch if kept.all() else batch.loc[kept]  # every row served and scored: no copy
    if rows.empty:
        return report | {"status": "not_estimated", "reason": "no scored rows of the served version"}
    if multiclass:
        scores = rows[score_columns].to_numpy(dtype=float)
        predictions = rows[roles.prediction].astype(str).to_numpy()
        calibrated = calibration.apply(scores)  # row by row: the labelled rows' share is a subset

        def estimate(mask):
            return estimate_multiclass(calibrated[mask], predictions[mask], calibration.classes)
    else:
        scores = rows[roles.score].to_numpy(dtype=float)
        predictions = rows[roles.prediction].astype(int).to_numpy()
        calibrated = calibration.apply(scores)

        def estimate(mask):
            return estimate_binary(calibrated[mask], predictions[mask], scores[mask])
    estimates = estimate(np.ones(len(rows), dtype=bool))
    report |= {"status": "estimated", "rows": len(rows),
               "estimates": {name: vars(e) for name, e in estimates.items()}}

    joined, _ = join_labels(model, rows, labels)
    labeled = joined[roles.label].notna().to_numpy()
    coverage = float(labeled.mean()) if len(joined) else 0.0
    report["label_coverage"] = coverage
    if coverage >= model.labels_policy.min_coverage and labeled.any():
        # Estimate and truth on the same rows: the labelled ones.
        truth = joined.loc[labeled, roles.label]
        # Every row labelled (the usual case once labels are in) is the estimate already made.
        on_labeled = estimates if labeled.all() else estimate(labeled)
        if multiclass:
            realized = compute_metrics("multiclass", truth.astype(str).to_numpy(), predictions[labeled])
        else:
            realized = compute_metrics("binary", truth.astype(int).to_numpy(), predictions[labeled], scores[labeled])
        report["realized"] = {k: v for k, v in realized.items() if k in ESTIMABLE}
        for name in judged_metrics(model, on_labeled):
            gap = reconcile(on_labeled[name], realized.get(name, float("nan")), calibration.rows,
                            spread=calibration.spread.get(name), chunk_rows=calibration.chunk_rows)
            if gap:
                report["gaps"].append(gap)
    report["baseline"] = {k: v for k, v in baseline.metrics.items() if k in ESTIMABLE}
    return report


def judged_metrics(model: ModelConfig, available: dict | None = None) -> list[str]:
    """The configured performance metrics that can be estimated from scores."""
    return [name for name in model.performance if name in ESTIMABLE and (available is None or name in available)]


def estimated_check(model: ModelConfig, report: dict[str, Any]) -> dg.AssetCheckResult:
    version = report["version"]
    if report["status"] != "estimated":
        return dg.AssetCheckResult(
            check_name=ESTIMATED_CHECK, passed=True, severity=dg.AssetCheckSeverity.WARN,
            description=f"not estimated: {report['reason']}",
            metadata={"status": "not_estimated", "version": version or ""})
    outcomes = []
    for name in judged_metrics(model, report["estimates"]):
        estimate = report["estimates"][name]
        outcome = evaluate_threshold(name, estimate["value"], report["baseline"].get(name), model.performance[name])
        outcomes.append({"version": version, "metric": f"estimated {name}", "value": estimate["value"],
                         "low": estimate["low"], "high": estimate["high"], "baseline": outcome.baseline,
                         "limit": outcome.limit, "passed": outcome.passed,
                         "reasons": [f"estimated {reason}" for reason in outcome.reasons]})
    failed = [o for o in outcomes if not o["passed"]]
    headline = failed[0] if failed else (outcomes[0] if outcomes else None)
    description = ("; ".join(r for o in failed for r in o["reasons"]) if failed
                   else "every estimated metric within its limit of the baseline")
    return dg.AssetCheckResult(
        check_name=ESTIMATED_CHECK, passed=not failed, severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "status": "estimated",
            "version": version,
            "metric": headline["metric"] if headline else "",
            "observed": finite_or_none(headline["value"]) if headline else None,
            "threshold": finite_or_none(headline["limit"]) if headline else None,
            "baseline": finite_or_none(headline["baseline"]) if headline else None,
            "metric_outcomes": dg.MetadataValue.json([
                {k: (finite_or_none(v) if k in ("value", "low", "high", "baseline", "limit") else v)
                 for k, v in o.items() if k != "reasons"} for o in outcomes]),
            "estimates": markdown_table(outcomes, ["metric", "value", "low", "high", "baseline", "limit", "passed"]),
        },
    )


def reconciled_check(model: ModelConfig, report: dict[str, Any]) -> dg.AssetCheckResult:
    if report["status"] != "estimated":
        return dg.AssetCheckResult(check_name=RECONCILED_CHECK, passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   description="nothing to reconcile: not estimated",
                                   metadata={"status": "not_estimated", "version": report["version"] or ""})
    if not report["realized"]:
        return dg.AssetCheckResult(
            check_name=RECONCILED_CHECK, passed=True, severity=dg.AssetCheckSeverity.WARN,
            description=f"pending: label coverage {report.get('label_coverage', 0.0):.1%}",
            metadata={"status": "pending", "version": report["version"]})
    gaps = report["gaps"]
    return dg.AssetCheckResult(
        check_name=RECONCILED_CHECK, passed=not gaps, severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(gaps) if gaps else "every realized metric inside its estimate's band",
        metadata={"status": "reconciled", "version": report["version"],
                  "gaps": dg.MetadataValue.json(gaps),
                  "realized_vs_estimated": markdown_table(
                      [{"metric": name, "realized": report["realized"].get(name),
                        "estimated": report["estimates"][name]["value"], "low": report["estimates"][name]["low"],
                        "high": report["estimates"][name]["high"]}
                       for name in judged_metrics(model, report["estimates"])],
                      ["metric", "realized", "estimated", "low", "high"])},
    )


def estimate_metadata(report: dict[str, Any]) -> dict[str, Any]:
    """Floats the UI plots over partitions, next to the realized metrics."""
    metadata: dict[str, Any] = {"status": report["status"], "version": report["version"] or "",
                                "rows": report["rows"]}
    for name, estimate in report["estimates"].items():
        for suffix, key in (("", "value"), (".low", "low"), (".high", "high")):
            number = finite_or_none(estimate[key])
            if number is not None:
                metadata[f"est.{name}{suffix}"] = number
    for name, value in report["realized"].items():
        number = finite_or_none(value)
        if number is not None:
            metadata[f"realized.{name}"] = number
    if report["status"] != "estimated":
        metadata["reason"] = report["reason"]
    return metadata


def build_estimated_performance(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=ESTIMATED_PERFORMANCE,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        ins={
            "validated_batch": dg.AssetIn(key=[model.name, VALIDATED_BATCH], metadata=reading_only(
                model.columns.id, model.columns.prediction, model.columns.score, model.columns.model_version,
                *model.columns.class_scores.values())),
            "labels": dg.AssetIn(key=[model.name, LABELS]),
        },
        io_manager_key="report_io_manager",
        kinds={"scikitlearn", "mlflow"},
        check_specs=[
            partition_check_spec(ESTIMATED_CHECK, [model.name, ESTIMATED_PERFORMANCE], partitions_def,
                                 "The metrics estimated from the calibrated scores (CBPE) meet the same "
                                 "MetricThresholds as the realized ones: a verdict while labels are pending."),
            partition_check_spec(RECONCILED_CHECK, [model.name, ESTIMATED_PERFORMANCE], partitions_def,
                                 "Once labels are in, each realized metric falls inside its estimate's 95% band; "
                                 "outside it, P(y|x) changed (suspected concept drift), which scores cannot show."),
        ],
        description="Performance estimated from the served version's calibrated scores, without labels, "
        "with a 95% band per metric; reconciled with the realized metrics when labels arrive.",
    )
    def estimated_performance(context: dg.AssetExecutionContext, validated_batch: pd.DataFrame,
                              labels: pd.DataFrame, mlflow: MlflowRegistry):
        report = estimate_partition(model, validated_batch, labels, mlflow.registry)
        report["partition"] = context.partition_key
        yield dg.Output(report, metadata=estimate_metadata(report))
        yield estimated_check(model, report)
        yield reconciled_check(model, report)

    return estimated_performance

