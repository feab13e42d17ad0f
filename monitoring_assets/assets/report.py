"""<model>/report: the model's metrics for the partition upserted into the metrics store, and
the model's HTML report regenerated from the store, kept under the storage root and logged to
MLflow."""

import datetime as dt
from typing import Any

import dagster as dg
import fsspec

from monitoring_assets.alerts.messages import mlflow_link
from monitoring_assets.assets.health import model_health
from monitoring_assets.assets.names import LIFECYCLE, MONITORING_RUN, REPORT
from monitoring_assets.config import ModelConfig
from monitoring_assets.config.models import LinksConfig
from monitoring_assets.health.history import plain
from monitoring_assets.metrics_store.report import render_report
from monitoring_assets.metrics_store.rows import health_row
from monitoring_assets.resources import MlflowRegistry, MonitoringStorage
from monitoring_assets.resources.metrics_store import MetricsStoreResource
from monitoring_assets.resources.replace import replacing

REPORT_FILE = "report.html"


def report_path(storage_root: str, model: str) -> str:
    return f"{storage_root.rstrip('/')}/{model}/{REPORT}/{REPORT_FILE}"


def mlflow_artifact_link(base: str, experiment_id: str, run_id: str) -> str:
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}/artifacts/{REPORT_FILE}"


GRAFANA_DASHBOARD_UID = "monitoring-assets"


def grafana_link(base: str, model: str) -> str:
    return f"{base.rstrip('/')}/d/{GRAFANA_DASHBOARD_UID}/model-monitoring?var-model={model}"


def report_links(model: ModelConfig, links: LinksConfig | None) -> dict[str, str]:
    links = links or LinksConfig()
    page_links = {"Health in Dagster": f"{links.dagster_url.rstrip('/')}/assets/{model.name}/health",
                  "Model in MLflow": mlflow_link(links.mlflow_url, model.registered_model, None)}
    if links.grafana_url:
        page_links["Grafana dashboard"] = grafana_link(links.grafana_url, model.name)
    return page_links


def write_health_row(store: Any, model: ModelConfig, report: Any, rows: list[dict]) -> None:
    """The health, stamped on the latest judged partition and the version served there."""
    if report.latest_partition is None:
        return
    latest = [r for r in rows if r["kind"] in ("drift", "service")]
    if not latest:
        return
    newest = max(r["partition_start"] for r in latest)
    version = next(r["version"] for r in latest if r["partition_start"] == newest)
    end = next(r["partition_end"] for r in latest if r["partition_start"] == newest)
    store.write_partition([health_row(model.name, version, newest, end, report.status)],
                          replace=[(model.name, newest, "health")])


LIFECYCLE_SHOWN = 20


def recent_lifecycle(instance: dg.DagsterInstance, model: ModelConfig) -> list[dict[str, Any]]:
    """The model's latest promotions, rejections, rollbacks and retrainings (its audit history)."""
    result = instance.fetch_observations(dg.AssetKey([model.name, LIFECYCLE]), limit=LIFECYCLE_SHOWN,
                                         ascending=False)
    events = []
    for record in result.records:
        observation = record.asset_observation
        if observation is None:
            continue
        metadata = {k: plain(v) for k, v in observation.metadata.items()}
        events.append({"at": dt.datetime.fromtimestamp(record.timestamp, dt.timezone.utc),
                       "event": str(metadata.get("event") or ""), "summary": str(metadata.get("summary") or ""),
                       "version": str(metadata.get("version") or "")})
    return events


def refresh_report(instance: dg.DagsterInstance, model: ModelConfig, store: Any, storage_root: str,
                   links: dict[str, str] | None = None, generated_at: dt.datetime | None = None,
                   judged: Any = None) -> tuple[Any, str, str]:
    """Judge the health (unless `judged` is given), store it, render the report from the
    model's rows and replace its file: (health, html, path)."""
    report = judged if judged is not None else model_health(instance, model)[0]
    rows = store.rows(model.name)
    write_health_row(store, model, report, rows)
    html = render_report(model.name, model.registered_model, report.to_dict(), rows,
                         lifecycle=recent_lifecycle(instance, model),
                         hourly=model.partitions.grain == "hourly", links=links, generated_at=generated_at,
                         timezone=model.partitions.timezone)
    path = report_path(storage_root, model.name)
    fs, fs_path = fsspec.core.url_to_fs(path)
    with replacing(fs, fs_path) as handle:
        handle.write(html.encode("utf-8"))
    return report, html, path


def build_report(model: ModelConfig, partitions_def: dg.PartitionsDefinition,
                 links: LinksConfig | None = None) -> dg.AssetsDefinition:
    links = links or LinksConfig()

    @dg.asset(
        name=REPORT,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        deps=[dg.AssetKey([model.name, MONITORING_RUN])],
        kinds={"html", "mlflow"},
        pool=f"mlflow_writeback_{model.name}",
        description="The model's HTML report (health, checks per partition, drift against its thresholds, "
        "metrics against their baseline, version changes), regenerated from the metrics store after each "
        "partition, kept under the storage root and logged to MLflow.",
    )
    def report(context: dg.AssetExecutionContext, mlflow: MlflowRegistry, metrics: MetricsStoreResource,
               storage: MonitoringStorage) -> dg.MaterializeResult:
        store = metrics.store()
        health, html, path = refresh_report(context.instance, model, store, storage.root, report_links(model, links))
        experiment_id, run_id = mlflow.registry.record_report(model.registered_model, html)
        return dg.MaterializeResult(metadata={
            "status": health.status,
            "report_path": dg.MetadataValue.path(path),
            "report_mlflow": dg.MetadataValue.url(mlflow_artifact_link(links.mlflow_url, experiment_id, run_id)),
            "report_bytes": len(html.encode("utf-8")),
        })

    return report
