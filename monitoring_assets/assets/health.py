"""<model>/health: one status per model (HEALTHY, WARNING, DEGRADED) with since and why, in the
group `model_health` that lists every model, next to its freshness check."""

import dagster as dg

from monitoring_assets.assets.names import (
    FEATURE_DRIFT,
    FRESHNESS_CHECK,
    HEALTH,
    HEALTH_CHECK,
    HEALTH_GROUP,
    MODEL_PERFORMANCE,
    ESTIMATED_CHECK,
    MONITORING_CHECKS,
    MONITORING_RUN,
    SERVICE_HEALTH,
    VALIDATED_BATCH,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.config.models import LinksConfig
from monitoring_assets.resources.metrics_store import MetricsStoreResource
from monitoring_assets.resources.storage import MonitoringStorage
from monitoring_assets.health.history import check_outcomes, expected_partition, newest_partition_with_data
from monitoring_assets.health.status import (
    DEGRADED,
    HEALTHY,
    HealthReport,
    escape_markdown,
    freshness_of,
    judge_health,
    render_markdown,
)


def model_health(instance: dg.DagsterInstance, model: ModelConfig) -> tuple[HealthReport, dict]:
    """The model's health from the instance, and the outcomes it was judged on."""
    outcomes = check_outcomes(instance, model)
    freshness = None
    if model.freshness.enabled:
        freshness = freshness_of(newest_partition_with_data(instance, model), expected_partition(model), model.name)
    # Estimates count toward the health only where the config allows it.
    checks = MONITORING_CHECKS + ((ESTIMATED_CHECK,) if model.remediation.use_estimates else ())
    return judge_health(model.name, outcomes, checks, freshness), outcomes


def health_job_name(model: ModelConfig) -> str:
    return f"{model.name}_health"


def build_health(model: ModelConfig, links: LinksConfig | None = None) -> dg.AssetsDefinition:
    key = [model.name, HEALTH]

    @dg.asset(
        name=HEALTH,
        key_prefix=[model.name],
        group_name=HEALTH_GROUP,
        deps=[dg.AssetKey([model.name, name]) for name in (VALIDATED_BATCH, FEATURE_DRIFT, MODEL_PERFORMANCE,
                                                            SERVICE_HEALTH)],
        kinds={"dagster"},
        owners=model.owners or None,
        tags=model.tags or None,
        check_specs=[
            dg.AssetCheckSpec(HEALTH_CHECK, asset=key, description=(
                "HEALTHY passes; WARNING fails at WARN and DEGRADED at ERROR: the worst verdict of each "
                "check on its latest judged partition, and data freshness.")),
            dg.AssetCheckSpec(FRESHNESS_CHECK, asset=key, description=(
                "Inference data arrived for every partition that is due (the partition's end plus "
                "freshness.max_delay_hours).")),
        ],
        description=f"Is {model.registered_model} healthy? Since when and why not: the latest verdict of "
        "every monitoring check, the top drifted features and each metric against its baseline.",
    )
    def health(context: dg.AssetExecutionContext, metrics: MetricsStoreResource, storage: MonitoringStorage):
        from monitoring_assets.assets.report import grafana_link, refresh_report, report_links

        report, outcomes = model_health(context.instance, model)
        # The report (file) and the exporter's health (store) follow the health's latest verdict.
        _, _, report_file = refresh_report(context.instance, model, metrics.store(), storage.root,
                                              report_links(model, links), judged=report)
        summary = render_markdown(report)
        yield dg.MaterializeResult(metadata={
            "status": report.status,
            "status_code": report.code,  # plotted over materializations: 0 healthy, 1 warning, 2 degraded
            "since": report.since or "",
            "summary": dg.MetadataValue.md(summary),
            "failing_checks": len(report.failing),
            "partitions_judged": len(outcomes),
            "latest_partition": report.latest_partition or "",
            "report_path": dg.MetadataValue.path(report_file),
            **({"dashboard": dg.MetadataValue.url(grafana_link(links.grafana_url, model.name))}
               if links is not None and links.grafana_url else {}),
        })
        failing = ", ".join(f["check"] for f in report.failing)
        yield dg.AssetCheckResult(
            check_name=HEALTH_CHECK, passed=report.status == HEALTHY,
            severity=dg.AssetCheckSeverity.ERROR if report.status == DEGRADED else dg.AssetCheckSeverity.WARN,
            description=report.headline(),
            metadata={"status": report.status, "since": report.since or "", "failing": failing,
                      "observed": report.status, "threshold": HEALTHY, "baseline": "every check passes"},
        )
        fresh = report.freshness
        yield dg.AssetCheckResult(
            check_name=FRESHNESS_CHECK, passed=fresh is None or fresh.fresh, severity=dg.AssetCheckSeverity.ERROR,
            description=escape_markdown(fresh.description) if fresh else "freshness is not checked (freshness.enabled: false)",
            metadata={"observed": (fresh.newest_with_data or "") if fresh else "",
                      "threshold": (fresh.expected or "") if fresh else "", "baseline": "partition end + max delay"},
        )

    return health


def build_health_job(model: ModelConfig):
    return dg.define_asset_job(
        health_job_name(model), selection=dg.AssetSelection.assets([model.name, HEALTH]),
        description=f"Judge {model.registered_model}'s health from the instance's check history.",
    )


def health_sensor_name(model: ModelConfig) -> str:
    return f"{model.name}_health_sensor"


def build_health_sensor(model: ModelConfig, interval_seconds: int, default_running: bool) -> dg.SensorDefinition:
    """Re-judges the health when new check verdicts were stored, and once an hour regardless,
    so that a dead upstream (no runs, no verdicts) still turns the model DEGRADED."""

    @dg.sensor(
        name=health_sensor_name(model),
        job_name=health_job_name(model),
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING if default_running else dg.DefaultSensorStatus.STOPPED,
        description=f"Materializes {model.name}/health after new check verdicts, and hourly for freshness.",
    )
    def health_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        import time

        # The write-back is the last step of the monitoring and labels jobs: one health run per
        # finished partition run, not one per step.
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey([model.name, MONITORING_RUN])), limit=1, ascending=False,
        ).records
        latest = int(records[0].storage_id) if records else 0
        hour = int(time.time() // 3600)
        marker = f"{latest}:{hour}"
        if marker == context.cursor:
            return dg.SensorResult(skip_reason="no new verdicts this hour")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"health:{marker}")], cursor=marker)

    return health_sensor
