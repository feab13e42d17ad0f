"""inference_profile (whylogs) and feature_drift (sketch scores against the reference)."""


import hashlib
import json
from typing import Any

import dagster as dg
import pandas as pd

from monitoring_assets.assets.common import (
    finite_or_none,
    leaving_out,
    markdown_table,
    partition_check_spec,
)
from monitoring_assets.assets.names import (
    DRIFT_CHECK,
    FEATURE_DRIFT,
    INFERENCE_PROFILE,
    VALIDATED_BATCH,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.drift import DriftReport, score_drift
from monitoring_assets.drift.columns import categorical_columns, monitored_columns
from monitoring_assets.drift.report import category_counts, missing_count
from monitoring_assets.health.status import escape_markdown
from monitoring_assets.profiling.profiler import merge_views, profile_frame
from monitoring_assets.profiling.whylogs_compat import DatasetProfileView, view_from_bytes
from monitoring_assets.registry import Baseline
from monitoring_assets.registry.served import partition_version
from monitoring_assets.resources import MlflowRegistry, MonitoringStorage
from monitoring_assets.validation.readers import arrival_time, partition_entries


def profiled_version(view: DatasetProfileView, column: str | None, champion: str) -> str:
    """The version that served most of the partition, read from the profile's counts."""
    profiled = view.get_column(column) if column else None
    if profiled is None:
        return str(champion)
    return partition_version(category_counts(profiled), missing_count(profiled), champion)


def drift_report(model: ModelConfig, baseline: Baseline, current: DatasetProfileView) -> DriftReport:
    features = monitored_columns(model.columns, model.drift, [c.name for c in baseline.inputs],
                                 baseline.reference.get_columns())
    if not features:
        raise ValueError(f"{model.name}: no features configured and the model signature lists none")
    return score_drift(
        baseline.reference,
        current,
        features,
        thresholds=model.drift.features,
        default=model.drift.default,
        categorical=categorical_columns(model.columns, model.task, features, baseline.reference),
    )


def drift_check_result(report: DriftReport, rows: int, version: str | None = None) -> dg.AssetCheckResult:
    level = report.level
    worst = max(
        report.features, key=lambda f: (finite_or_none(f.score) or 0.0) / f.warn, default=None
    )
    rows_table = [
        {"feature": f.feature, "kind": f.kind, "metric": f.metric, "score": f.score,
         "warn": f.warn, "error": f.error, "level": f.level,
         "missing_now": f.missing_rate_current, "missing_ref": f.missing_rate_reference,
         "unseen": ", ".join(f.unseen_categories[:5])}
        for f in sorted(report.features, key=lambda f: -(finite_or_none(f.score) or 0.0))
    ]
    drifted = [f.feature for f in report.drifted]
    if rows == 0:
        description = "no rows to score"
    elif drifted:
        description = escape_markdown(f"{len(drifted)} feature(s) drifted: {', '.join(drifted)}")
    else:
        description = "no feature past its drift threshold"
    return dg.AssetCheckResult(
        check_name=DRIFT_CHECK,
        passed=level == "ok",
        severity=dg.AssetCheckSeverity.ERROR if level == "error" else dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "observed": finite_or_none(worst.score) if worst else None,
            "observed_feature": worst.feature if worst else "",
            "threshold": worst.warn if worst else None,
            "threshold_error": worst.error if worst else None,
            "baseline": f"reference profile of version {version}" if version else "reference profile",
            "version": version or "",
            "drifted_features": dg.MetadataValue.json(drifted),
            "features": markdown_table(
                rows_table,
                ["feature", "kind", "metric", "score", "warn", "error", "level", "missing_now", "missing_ref", "unseen"],
            ),
        },
    )


def input_digest(model: ModelConfig, partition: str, validated_batch: pd.DataFrame) -> str:
    """What the profile depends on, cheaply: the landed files (name, size, modification time),
    the validated rows' count and columns. Hashing the rows themselves costs seconds per 1M."""
    files, _ = partition_entries(model.inference.location, partition)
    landed = sorted((name, info.get("size"), str(arrival_time(info))) for name, info in files)
    shape = (len(validated_batch), [(c, str(validated_batch[c].dtype)) for c in validated_batch.columns])
    return hashlib.sha256(json.dumps([landed, shape], default=str).encode()).hexdigest()[:32]


def stored_profile_if_unchanged(context: dg.AssetExecutionContext, storage: MonitoringStorage,
                                model: ModelConfig, digest: str) -> DatasetProfileView | None:
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=context.asset_key, asset_partitions=[context.partition_key]), limit=1,
    ).records
    previous = records[0].asset_materialization.metadata.get("input_digest") if records else None
    if previous is None or previous.value != digest:
        return None
    stored = storage.read_profile(model.name, INFERENCE_PROFILE, context.partition_key)
    return view_from_bytes(stored) if stored else None


def build_inference_profile(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=INFERENCE_PROFILE,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        # Ids are unique by the schema: their sketches (a third of the profiling time of a
        # 16-column batch) describe nothing that drifts, so they are neither read nor profiled,
        # unless the config makes the id a feature.
        ins={"validated_batch": dg.AssetIn(key=[model.name, VALIDATED_BATCH], metadata=leaving_out(
            None if model.columns.id in (model.columns.features or ()) else model.columns.id))},
        io_manager_key="profile_io_manager",
        kinds={"whylogs"},
        description="whylogs profile of the validated batch (every column but the id); partitions merge into windows.",
    )
    def inference_profile(context: dg.AssetExecutionContext, validated_batch: pd.DataFrame,
                          storage: MonitoringStorage) -> dg.Output[DatasetProfileView]:
        # KLL sketches compact at random: profiling the same rows twice gives drift scores that
        # differ in the third decimal, and every rerun would rebuild the MLflow run. Unchanged
        # input (the same landed files, the same validated rows) reuses the stored profile.
        digest = input_digest(model, context.partition_key, validated_batch)
        view = stored_profile_if_unchanged(context, storage, model, digest)
        reused = view is not None
        if view is None:
            view = profile_frame(validated_batch)
        return dg.Output(
            view,
            metadata={"dagster/row_count": len(validated_batch), "columns": len(validated_batch.columns),
                      "input_digest": digest, "reused_stored_profile": reused},
        )

    return inference_profile


def build_feature_drift(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=FEATURE_DRIFT,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        ins={
            # The partition and the ones before it: the window is merged from stored profiles.
            "inference_profiles": dg.AssetIn(
                key=[model.name, INFERENCE_PROFILE],
                partition_mapping=dg.TimeWindowPartitionMapping(
                    start_offset=-(model.drift.window_partitions - 1), end_offset=0
                ),
                metadata={"allow_missing_partitions": True},
            ),
        },
        io_manager_key="report_io_manager",
        kinds={"whylogs"},
        check_specs=[
            partition_check_spec(
                DRIFT_CHECK, [model.name, FEATURE_DRIFT], partitions_def,
                "Every feature, the prediction and the score stay within their drift thresholds "
                "(effect sizes against the reference profile of the version that served the partition).",
            )
        ],
        description="Per-feature drift scores of the partition against the reference profile.",
    )
    def feature_drift(
        context: dg.AssetExecutionContext, inference_profiles: Any, mlflow: MlflowRegistry,
    ):
        profiles = inference_profiles if isinstance(inference_profiles, dict) else {
            context.partition_key: inference_profiles}
        inference_profile = profiles[context.partition_key]
        registry = mlflow.registry
        champion = registry.version_for_alias(model.registered_model, model.champion_alias)
        version = profiled_version(inference_profile, model.columns.model_version, champion)
        baseline = registry.baseline(model.registered_model, version)
        report = drift_report(model, baseline, inference_profile)
        rows = max((f.rows_current for f in report.features), default=0)
        metadata: dict[str, object] = {
            f"drift/{f.feature}": score
            for f in report.features
            if (score := finite_or_none(f.score)) is not None
        }
        metadata["reference_version"] = version
        metadata["drifted"] = len(report.drifted)
        window = drift_report(model, baseline, merge_views(profiles[k] for k in sorted(profiles)))
        metadata["window_partitions"] = len(profiles)
        metadata["window_drifted"] = dg.MetadataValue.json([f.feature for f in window.drifted])
        worst = max((finite_or_none(f.score) or 0.0 for f in window.features), default=0.0)
        metadata["window_max_drift"] = worst
        yield dg.Output(
            report.to_dict() | {
                "reference_version": version, "partition": context.partition_key,
                "window": {"partitions": sorted(profiles), **window.to_dict()},
            },
            metadata=metadata,
        )
        yield drift_check_result(report, rows, version)

    return feature_drift


