"""model_performance (labels joined on id, against the baseline of the version that served)
and service_health (latency and errors against the SLO)."""


import time
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monitoring_assets.assets.common import (
    finite_or_none,
    float_metadata,
    markdown_table,
    partition_check_spec,
    reading_only,
)
from monitoring_assets.assets.names import (
    INFERENCE_BATCH,
    LABEL_COVERAGE_CHECK,
    LABELS,
    LATENCY_SLO_CHECK,
    MODEL_PERFORMANCE,
    PERFORMANCE_CHECK,
    SERVICE_HEALTH,
    VALIDATED_BATCH,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.performance.metrics import compute_metrics, grouped_rows, metrics_by_segment
from monitoring_assets.performance.service_health import (
    judge_service_health,
    measure_service_health,
    missing_role_columns,
)
from monitoring_assets.performance.thresholds import evaluate_threshold
from monitoring_assets.registry import BaselineNotFound, ModelRegistry
from monitoring_assets.registry.served import frame_version, row_versions
from monitoring_assets.resources import MlflowRegistry


def _as_text(ids: pd.Series) -> pd.Series:
    return ids if ids.dtype == "str" else ids.astype(str)


def join_labels(model: ModelConfig, predictions: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Predictions with their label (NaN where none yet) and the count of orphan labels.

    The predictions are a validated batch, whose ids are unique (the schema's `unique` check
    quarantines repeats). The join is the left `merge` on the id, done as one Arrow hash
    lookup that also counts the orphans. Where one id has several labels the last one wins.
    Only the id and label columns are new: the other columns are not copied."""
    roles = model.columns
    rest = predictions.drop(columns=[roles.label], errors="ignore")
    if roles.id not in predictions and not len(predictions):  # a partition without data has no columns
        return rest.assign(**{roles.id: pd.Series(dtype="str"), roles.label: pd.Series(dtype="float64")}), len(labels)
    ids = _as_text(predictions[roles.id])
    if not len(labels):
        return rest.assign(**{roles.id: ids, roles.label: np.full(len(ids), np.nan)}), 0
    prediction_row = pc.index_in(pa.array(_as_text(labels[roles.id]), from_pandas=True),
                                 value_set=pa.array(ids, from_pandas=True))
    orphans = prediction_row.null_count
    prediction_row = prediction_row.fill_null(-1).to_numpy(zero_copy_only=False)
    label_row = np.flatnonzero(prediction_row >= 0)
    prediction_row = prediction_row[label_row]
    if len(prediction_row) and np.bincount(prediction_row).max() > 1:
        # Several labels for one prediction: keep each prediction's last label.
        last = len(prediction_row) - 1 - np.unique(prediction_row[::-1], return_index=True)[1]
        prediction_row, label_row = prediction_row[last], label_row[last]
    take = np.full(len(ids), -1, dtype=np.int64)
    take[prediction_row] = label_row
    label = labels[roles.label].array.take(take, allow_fill=True)
    return rest.assign(**{roles.id: ids, roles.label: label}), orphans


def evaluate_performance(
    model: ModelConfig, labeled: pd.DataFrame, versions: pd.Series, registry: ModelRegistry
) -> list[dict[str, Any]]:
    """One entry per served version: its metrics, its baseline and each threshold outcome."""
    roles = model.columns
    results = []
    truth, predicted = labeled[roles.label].to_numpy(), labeled[roles.prediction].to_numpy()
    scores = labeled[roles.score].to_numpy() if roles.score and roles.score in labeled else None
    for version, rows in grouped_rows(versions.loc[labeled.index]):
        metrics = compute_metrics(model.task, truth[rows], predicted[rows], None if scores is None else scores[rows])
        try:
            baseline = registry.baseline(model.registered_model, str(version)).metrics
        except BaselineNotFound as exc:
            results.append({"version": str(version), "rows": len(rows), "metrics": metrics,
                            "baseline": {}, "outcomes": [], "error": str(exc)})
            continue
        outcomes = [
            evaluate_threshold(name, metrics.get(name, float("nan")), baseline.get(name), spec).to_dict()
            for name, spec in model.performance.items()
        ]
        results.append({"version": str(version), "rows": len(rows), "metrics": metrics,
                        "baseline": baseline, "outcomes": outcomes})
    return results


def _main_evaluation(evaluations: list[dict[str, Any]], version: str | None) -> dict[str, Any]:
    """The evaluation of the partition's version, else of the version with most labeled rows."""
    for evaluation in evaluations:
        if evaluation["version"] == version:
            return evaluation
    return max(evaluations, key=lambda e: e["rows"])


def _partition_end(context: dg.AssetExecutionContext) -> float:
    return context.partition_time_window.end.timestamp()


def coverage_check(model: ModelConfig, coverage: float, labeled: int, rows: int, hours_since_end: float,
                   version: str | None = None) -> dg.AssetCheckResult:
    policy = model.labels_policy
    pending = coverage < policy.min_coverage
    overdue = pending and hours_since_end > policy.deadline_hours and rows > 0
    if overdue:
        description = (f"label coverage {coverage:.1%} is below {policy.min_coverage:.0%} "
                       f"{hours_since_end:.0f} h after the partition ended (deadline {policy.deadline_hours:g} h)")
    elif pending:
        description = f"labels pending: coverage {coverage:.1%} (minimum {policy.min_coverage:.0%})"
    else:
        description = f"label coverage {coverage:.1%}"
    return dg.AssetCheckResult(
        check_name=LABEL_COVERAGE_CHECK,
        passed=not overdue,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "status": "overdue" if overdue else ("pending" if pending else "complete"),
            "version": version or "",
            "observed": coverage,
            "threshold": policy.min_coverage,
            "labeled_rows": labeled,
            "rows": rows,
            "hours_since_partition_end": round(hours_since_end, 1),
            "deadline_hours": policy.deadline_hours,
        },
    )


def performance_check(model: ModelConfig, evaluations: list[dict[str, Any]], coverage: float,
                      partition_version: str | None = None) -> dg.AssetCheckResult:
    if coverage < model.labels_policy.min_coverage or not evaluations:
        return dg.AssetCheckResult(
            check_name=PERFORMANCE_CHECK,
            passed=True,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"pending: label coverage {coverage:.1%} below the minimum "
                        f"{model.labels_policy.min_coverage:.0%}; not judged yet",
            metadata={"status": "pending", "label_coverage": coverage},
        )
    failures = [r for e in evaluations for r in (o for o in e["outcomes"] if not o["passed"])]
    missing = [e for e in evaluations if e.get("error")]
    main = _main_evaluation(evaluations, partition_version)
    # The headline is the metric that failed (the first one configured when none did).
    failed_metrics = [o for o in main["outcomes"] if not o["passed"]]
    headline = failed_metrics[0] if failed_metrics else next(
        (o for o in main["outcomes"] if o["metric"] == next(iter(model.performance))), None)
    first_metric = headline["metric"] if headline else next(iter(model.performance))
    if failures or missing:
        reasons = [reason for o in failures for reason in o["reasons"]] + [e["error"] for e in missing]
        description = "; ".join(reasons)
    else:
        description = "every metric within its limit of the baseline"
    rows = [
        {"version": e["version"], "metric": o["metric"], "value": o["value"], "baseline": o["baseline"],
         "limit": o["limit"], "passed": o["passed"], "rows": e["rows"]}
        for e in evaluations for o in e["outcomes"]
    ]
    return dg.AssetCheckResult(
        check_name=PERFORMANCE_CHECK,
        passed=not failures and not missing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "status": "judged",
            "version": main["version"],
            "metric": first_metric,
            "observed": finite_or_none(headline["value"]) if headline else None,
            "baseline": finite_or_none(headline["baseline"]) if headline else None,
            "threshold": finite_or_none(headline["limit"]) if headline else None,
            "label_coverage": coverage,
            "failed_metrics": dg.MetadataValue.json(sorted({r["metric"] for r in rows if not r["passed"]})),
            "metric_outcomes": dg.MetadataValue.json([
                {k: (finite_or_none(v) if k in ("value", "baseline", "limit") else v) for k, v in row.items()}
                for row in rows]),
            "metrics": markdown_table(rows, ["version", "metric", "value", "baseline", "limit", "passed", "rows"]),
        },
    )


def build_model_performance(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=MODEL_PERFORMANCE,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        ins={
            "validated_batch": dg.AssetIn(key=[model.name, VALIDATED_BATCH], metadata=reading_only(
                model.columns.id, model.columns.prediction, model.columns.score, model.columns.model_version,
                *model.columns.segments)),
            "labels": dg.AssetIn(key=[model.name, LABELS]),
        },
        io_manager_key="report_io_manager",
        kinds={"scikitlearn", "mlflow"},
        check_specs=[
            partition_check_spec(PERFORMANCE_CHECK, [model.name, MODEL_PERFORMANCE], partitions_def,
                                 "Each served version meets its MetricThresholds against the baseline "
                                 "registered with it in MLflow (passed while labels are pending)."),
            partition_check_spec(LABEL_COVERAGE_CHECK, [model.name, MODEL_PERFORMANCE], partitions_def,
                                 "Enough labels arrived before the label deadline."),
        ],
        description="Performance metrics of the partition against the served version's baseline.",
    )
    def model_performance(
        context: dg.AssetExecutionContext,
        validated_batch: pd.DataFrame,
        labels: pd.DataFrame,
        mlflow: MlflowRegistry,
    ):
        roles = model.columns
        registry = mlflow.registry
        champion = registry.version_for_alias(model.registered_model, model.champion_alias)
        joined, orphans = join_labels(model, validated_batch, labels)
        labeled = joined[joined[roles.label].notna()]
        rows = len(joined)
        coverage = len(labeled) / rows if rows else 0.0
        versions = row_versions(joined, roles.model_version, champion)
        version = frame_version(joined, roles.model_version, champion)
        judged = coverage >= model.labels_policy.min_coverage and len(labeled) > 0
        evaluations = evaluate_performance(model, labeled, versions, registry) if judged else []
        segments = {
            segment: metrics_by_segment(labeled, segment, model.task, roles.label, roles.prediction, roles.score)
            for segment in roles.segments if segment in labeled
        } if judged else {}
        main = _main_evaluation(evaluations, version) if evaluations else None
        metadata: dict[str, Any] = {
            "label_coverage": coverage,
            "labeled_rows": len(labeled),
            "orphan_labels": orphans,
            "status": "judged" if judged else "pending",
        }
        if main:
            metadata |= float_metadata(main["metrics"])
            metadata["version"] = main["version"]
        report = {
            "partition": context.partition_key,
            "version": version,
            "status": metadata["status"],
            "label_coverage": coverage,
            "labeled_rows": len(labeled),
            "rows": rows,
            "orphan_labels": orphans,
            "versions": evaluations,
            "segments": segments,
        }
        yield dg.Output(report, metadata=metadata)
        hours = (time.time() - _partition_end(context)) / 3600.0
        yield performance_check(model, evaluations, coverage, version)
        yield coverage_check(model, coverage, len(labeled), rows, hours, version)

    return model_performance


def build_service_health(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=SERVICE_HEALTH,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        ins={"inference_batch": dg.AssetIn(key=[model.name, INFERENCE_BATCH], metadata=reading_only(
            model.columns.latency, model.columns.error, model.columns.model_version))},
        io_manager_key="report_io_manager",
        kinds={"pandas"},
        check_specs=[
            partition_check_spec(LATENCY_SLO_CHECK, [model.name, SERVICE_HEALTH], partitions_def,
                                 "Latency percentiles and error rate within the SLO; no data is a warning."),
        ],
        description="Latency percentiles, error rate and throughput of the partition.",
    )
    def service_health(context: dg.AssetExecutionContext, inference_batch: pd.DataFrame):
        roles = model.columns
        window = context.partition_time_window
        health = measure_service_health(
            inference_batch, roles.latency, roles.error,
            (window.end - window.start).total_seconds(),
        )
        breaches = judge_service_health(health, model.service_level) if health.rows else []
        no_data = missing_role_columns(inference_batch, {"latency": roles.latency, "error": roles.error})
        yield dg.Output(health.to_dict() | {"partition": context.partition_key, "breaches": breaches,
                                            "no_data": no_data},
                        metadata=float_metadata(health.to_dict()))
        slo = model.service_level
        if breaches:
            description = "; ".join(breaches)
        elif no_data:
            description = ("no data: " + "; ".join(no_data)
                           + " (set the role to null in the config if the service does not log it)")
        else:
            description = "within the service level objective"
        yield dg.AssetCheckResult(
            check_name=LATENCY_SLO_CHECK,
            passed=not breaches and not no_data,
            severity=dg.AssetCheckSeverity.ERROR if breaches else dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={
                "status": "breached" if breaches else ("no_data" if no_data else "ok"),
                # The served version by the rows alone: this step does not ask MLflow for the champion.
                "version": (frame_version(inference_batch, roles.model_version, "")
                            if roles.model_version and roles.model_version in inference_batch else ""),
                "observed": finite_or_none(health.latency_p95_ms),
                "threshold": slo.p95_ms,
                "baseline": "service level objective (config)",
                "latency_p50_ms": finite_or_none(health.latency_p50_ms),
                "latency_p99_ms": finite_or_none(health.latency_p99_ms),
                "error_rate": health.error_rate,
                "max_error_rate": slo.max_error_rate,
                "rows": health.rows,
            },
        )

    return service_health
