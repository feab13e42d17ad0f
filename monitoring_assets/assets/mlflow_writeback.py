"""monitoring_run (results of each partition written back to MLflow) and version_comparison
(every version that served traffic, its metrics over its partitions, next to its baseline)."""

import json
from collections import defaultdict
from typing import Any

import dagster as dg

from monitoring_assets.assets.common import finite_or_none, markdown_table
from monitoring_assets.assets.names import (
    ESTIMATED_PERFORMANCE,
    FEATURE_DRIFT,
    INFERENCE_PROFILE,
    MODEL_PERFORMANCE,
    MONITORING_RUN,
    SERVICE_HEALTH,
    VERSION_COMPARISON,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.health.history import plain
from monitoring_assets.metrics_store.rows import WRITEBACK_KINDS, check_rows, partition_rows
from monitoring_assets.resources.metrics_store import MetricsStoreResource
from monitoring_assets.profiling.whylogs_compat import DatasetProfileView, view_to_bytes
from monitoring_assets.resources import MlflowRegistry

GRAIN_SECONDS = {"daily": 86_400, "hourly": 3_600}


def partition_metrics(performance: dict[str, Any], drift: dict[str, Any], health: dict[str, Any],
                      estimated: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """Per served version, the values to log for the partition. The partition-wide values
    (drift, coverage, service) go to the partition's version; the estimates to the version they
    estimate, as `est.<metric>`."""
    by_version: dict[str, dict[str, float]] = defaultdict(dict)
    if estimated and estimated.get("status") == "estimated":
        by_version[estimated["version"]].update(
            {f"est.{name}": e["value"] for name, e in estimated.get("estimates", {}).items()})
    for evaluation in performance.get("versions", []):
        version = evaluation["version"]
        by_version[version].update({f"perf.{k}": v for k, v in evaluation["metrics"].items()})
        by_version[version]["perf.labeled_rows"] = evaluation["rows"]
    main_version = drift.get("reference_version") or performance.get("version")
    if main_version is None:
        return {}
    shared = by_version[main_version]
    shared["labels.coverage"] = performance.get("label_coverage", 0.0)
    shared["rows"] = performance.get("rows", 0)
    for feature in drift.get("features", []):
        shared[f"drift.{feature['feature']}"] = feature["score"]
    for key in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate", "throughput_per_min"):
        if key in health:
            shared[f"service.{key}"] = health[key]
    return {v: {k: x for k, x in m.items() if finite_or_none(x) is not None} for v, m in by_version.items()}


def run_check_evaluations(context: dg.AssetExecutionContext, model: ModelConfig) -> list[dict[str, Any]]:
    """The verdicts of the model's checks stored by this run, latest per check."""
    records = context.instance.get_records_for_run(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=1000).records
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data if event else None
        if data is None or not hasattr(data, "passed") or data.asset_key.path[:1] != [model.name]:
            continue
        latest[data.check_name] = {"check": data.check_name, "passed": bool(data.passed),
                                   "severity": data.severity.value,
                                   "metadata": {k: plain(v) for k, v in data.metadata.items()}}
    return list(latest.values())


def store_partition(context: dg.AssetExecutionContext, model: ModelConfig, store: Any, performance: dict,
                    drift: dict, service: dict, estimated: dict | None) -> int:
    """Upsert the partition's rows: a rerun, a backfill or a late label leaves one row per key."""
    window = context.partition_time_window
    slo = model.service_level
    rows = partition_rows(
        model.name, window.start, window.end, performance, drift, service, estimated, model.performance,
        {"latency_p50_ms": slo.p50_ms, "latency_p95_ms": slo.p95_ms, "latency_p99_ms": slo.p99_ms,
         "error_rate": slo.max_error_rate}, model.labels_policy.min_coverage)
    version = drift.get("reference_version") or performance.get("version")
    if version is not None:
        rows += check_rows(model.name, str(version), window.start, window.end, run_check_evaluations(context, model))
    return store.write_partition(rows, replace=[(model.name, window.start, kind) for kind in WRITEBACK_KINDS])


def build_monitoring_run(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=MONITORING_RUN,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        ins={
            "model_performance": dg.AssetIn(key=[model.name, MODEL_PERFORMANCE]),
            "feature_drift": dg.AssetIn(key=[model.name, FEATURE_DRIFT]),
            "service_health": dg.AssetIn(key=[model.name, SERVICE_HEALTH]),
            "inference_profile": dg.AssetIn(key=[model.name, INFERENCE_PROFILE]),
            "estimated_performance": dg.AssetIn(key=[model.name, ESTIMATED_PERFORMANCE]),
        },
        io_manager_key="report_io_manager",
        kinds={"mlflow"},
        # Writes to one MLflow run per version must not interleave.
        pool=f"mlflow_writeback_{model.name}",
        description="The partition's metrics written to the served version's MLflow monitoring run "
        "(one step per partition), with its profile and drift report as artifacts.",
    )
    def monitoring_run(
        context: dg.AssetExecutionContext,
        model_performance: dict,
        feature_drift: dict,
        service_health: dict,
        inference_profile: DatasetProfileView,
        estimated_performance: dict,
        mlflow: MlflowRegistry,
        metrics: MetricsStoreResource,
    ) -> dg.Output[dict]:
        window = context.partition_time_window
        stored = store_partition(context, model, metrics.store(), model_performance, feature_drift,
                                 service_health, estimated_performance)
        runs = {}
        values = partition_metrics(model_performance, feature_drift, service_health, estimated_performance)
        main = feature_drift.get("reference_version")
        for version, metrics in values.items():
            artifacts = None
            if version == main:
                artifacts = {
                    "profile.bin": view_to_bytes(inference_profile),
                    "drift.json": json.dumps(feature_drift, indent=2, default=str),
                    "performance.json": json.dumps(model_performance, indent=2, default=str),
                }
            runs[version] = mlflow.registry.record_partition(
                model.registered_model, version, window.start,
                GRAIN_SECONDS[model.partitions.grain], metrics, artifacts, context.partition_key,
            )
        return dg.Output(
            {"partition": context.partition_key, "runs": runs},
            metadata={
                "runs": dg.MetadataValue.json(runs),
                "metrics_logged": sum(len(m) for m in values.values()),
                "metrics_store_rows": stored,
            },
        )

    return monitoring_run


def comparison_rows(reports: dict[str, dict]) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for partition in sorted(reports):
        report = reports[partition]
        for evaluation in report.get("versions", []):
            entry = totals.setdefault(evaluation["version"], {
                "version": evaluation["version"], "partitions": 0, "labeled_rows": 0,
                "first": partition, "last": partition, "failed_partitions": 0,
                "sums": defaultdict(float), "baseline": evaluation.get("baseline", {}),
            })
            rows = evaluation["rows"]
            entry["partitions"] += 1
            entry["labeled_rows"] += rows
            entry["last"] = partition
            entry["failed_partitions"] += int(any(not o["passed"] for o in evaluation["outcomes"]))
            for name, value in evaluation["metrics"].items():
                if finite_or_none(value) is not None:
                    entry["sums"][name] += value * rows
    result = []
    for entry in totals.values():
        weight = max(entry["labeled_rows"], 1)
        metrics = {name: total / weight for name, total in entry["sums"].items()}
        row = {k: v for k, v in entry.items() if k not in ("sums", "baseline")}
        for name, value in sorted(metrics.items()):
            row[name] = value
            baseline = entry["baseline"].get(name)
            row[f"baseline_{name}"] = baseline if baseline is not None else float("nan")
        result.append(row)
    return sorted(result, key=lambda r: int(r["version"]) if str(r["version"]).isdigit() else 0)


def build_version_comparison(model: ModelConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=VERSION_COMPARISON,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=f"{model.name}_promotion",
        ins={
            "model_performance": dg.AssetIn(
                key=[model.name, MODEL_PERFORMANCE],
                partition_mapping=dg.AllPartitionMapping(),
                metadata={"allow_missing_partitions": True},
            )
        },
        io_manager_key="report_io_manager",
        kinds={"mlflow"},
        description="Every version that served traffic: its metrics over its partitions next to its baseline.",
    )
    def version_comparison(model_performance: dict[str, dict], mlflow: MlflowRegistry) -> dg.Output[list]:
        rows = comparison_rows(model_performance)
        columns = sorted({k for row in rows for k in row}, key=lambda k: (k.startswith("baseline_"), k))
        leading = ["version", "partitions", "first", "last", "labeled_rows", "failed_partitions"]
        columns = leading + [c for c in columns if c not in leading]
        table = markdown_table(rows, columns)
        run_id = mlflow.registry.record_comparison(model.registered_model, {
            "version_comparison.json": json.dumps(rows, indent=2, default=str),
            "version_comparison.md": table.value,
        })
        return dg.Output(rows, metadata={
            "versions": len(rows),
            "comparison": table,
            "mlflow_run_id": run_id,
        })

    return version_comparison
