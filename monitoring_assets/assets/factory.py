"""One asset group per monitored model, from its config entry."""

from __future__ import annotations

import dagster as dg

from monitoring_assets.assets.estimation import build_estimated_performance
from monitoring_assets.assets.health import build_health
from monitoring_assets.assets.ingest import build_inference_batch, build_labels
from monitoring_assets.assets.partitions import partitions_for
from monitoring_assets.assets.mlflow_writeback import build_monitoring_run, build_version_comparison
from monitoring_assets.assets.names import (
    CANDIDATE_EVALUATION,
    CHAMPION_PROMOTION,
    RETRAINED_CANDIDATE,
)
from monitoring_assets.assets.lifecycle import build_lifecycle_spec
from monitoring_assets.assets.promotion import (
    build_candidate_evaluation,
    build_champion_promotion,
    build_retrained_candidate,
    promotion_group,
)
from monitoring_assets.assets.remediation import build_rollback_job
from monitoring_assets.assets.performance import build_model_performance, build_service_health
from monitoring_assets.assets.profile_drift import build_feature_drift, build_inference_profile
from monitoring_assets.assets.validation import build_validated_batch
from monitoring_assets.assets.report import build_report
from monitoring_assets.config import ModelConfig
from monitoring_assets.config.models import LinksConfig


def build_model_assets(model: ModelConfig, links: LinksConfig | None = None) -> list[dg.AssetsDefinition]:
    partitions_def = partitions_for(model)
    return [build_report(model, partitions_def, links)] + [
        build(model, partitions_def)
        for build in (
            build_inference_batch,
            build_validated_batch,
            build_inference_profile,
            build_feature_drift,
            build_labels,
            build_model_performance,
            build_estimated_performance,
            build_service_health,
            build_monitoring_run,
        )
    ] + [
        build_version_comparison(model),
        build_retrained_candidate(model),
        build_candidate_evaluation(model),
        build_champion_promotion(model),
        build_health(model, links),
    ]


def build_model_specs(model: ModelConfig) -> list[dg.AssetSpec]:
    return [build_lifecycle_spec(model, promotion_group(model))]


def monitoring_job_name(model: ModelConfig) -> str:
    return f"{model.name}_monitoring"


def labels_job_name(model: ModelConfig) -> str:
    return f"{model.name}_labels_refresh"


def build_labels_job(model: ModelConfig) -> dg.UnresolvedAssetJobDefinition:
    """What late labels change: the labels, the performance judged on them, the estimate's
    reconciliation and the write-back."""
    return dg.define_asset_job(
        labels_job_name(model),
        selection=dg.AssetSelection.assets(
            [model.name, "labels"], [model.name, "model_performance"], [model.name, "estimated_performance"],
            [model.name, "monitoring_run"], [model.name, "report"]
        ),
        partitions_def=partitions_for(model),
        description=f"Re-judge the performance of {model.registered_model} when labels arrive.",
    )


def comparison_job_name(model: ModelConfig) -> str:
    return f"{model.name}_version_comparison"


def build_comparison_job(model: ModelConfig) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        comparison_job_name(model),
        selection=dg.AssetSelection.assets([model.name, "version_comparison"]),
        description=f"Tabulate every served version of {model.registered_model} against its baseline.",
    )


def build_monitoring_job(model: ModelConfig) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        monitoring_job_name(model),
        # Comparison and promotion span many partitions: they are in the model's promotion group.
        selection=dg.AssetSelection.groups(model.name),
        partitions_def=partitions_for(model),
        description=f"Validate, profile and judge one partition of {model.registered_model}.",
    )


def promotion_job_name(model: ModelConfig) -> str:
    return f"{model.name}_promotion"


def retrain_job_name(model: ModelConfig) -> str:
    return f"{model.name}_retrain"


def rollback_job_name(model: ModelConfig) -> str:
    return f"{model.name}_rollback"


def build_promotion_jobs(model: ModelConfig) -> list:
    gate = [[model.name, CANDIDATE_EVALUATION], [model.name, CHAMPION_PROMOTION]]
    return [
        dg.define_asset_job(
            promotion_job_name(model), selection=dg.AssetSelection.assets(*gate),
            description=f"Judge the {model.candidate_alias!r} version of {model.registered_model} "
            f"and promote it only if every gate check passes.",
        ),
        dg.define_asset_job(
            retrain_job_name(model),
            selection=dg.AssetSelection.assets([model.name, RETRAINED_CANDIDATE], *gate),
            description=f"Retrain {model.registered_model} on recent labeled data, then run the gate.",
        ),
        build_rollback_job(model, rollback_job_name(model)),
    ]
