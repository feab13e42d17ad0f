"""Assembling a `Definitions` object from a validated config."""

from __future__ import annotations

import dagster as dg

from monitoring_assets.assets.factory import build_model_assets
from monitoring_assets.assets.factory import (
    build_comparison_job,
    build_labels_job,
    build_monitoring_job,
    build_model_specs,
    build_promotion_jobs,
    labels_job_name,
    monitoring_job_name,
    partitions_for,
    retrain_job_name,
    rollback_job_name,
)
from monitoring_assets.assets.health import build_health_job, build_health_sensor
from monitoring_assets.config import MonitoringConfig
from monitoring_assets.registry.registry import registry_settings
from monitoring_assets.metrics_store.store import METRICS_URL_ENV, local_root, sqlite_url_under
from monitoring_assets.resources.metrics_store import MetricsStoreResource
from monitoring_assets.resources.storage import frames_base, profiles_base
from monitoring_assets.sensors.alert_sensor import build_alert_sensor
from monitoring_assets.sensors.landing import build_landing_sensor
from monitoring_assets.sensors.remediation import build_remediation_sensor
from monitoring_assets.resources import (
    FrameIOManager,
    JsonIOManager,
    MlflowRegistry,
    MonitoringStorage,
    ProfileIOManager,
)


# The code location's name in workspace.yaml and pyproject.toml.
CODE_LOCATION = "monitoring_assets"


def code_location_tags() -> dict[str, str]:
    """Tags that tie a run started in process (the demo, `monitoring-assets run`) to this code
    location's jobs, as Dagster tags the runs it launches itself, so that the UI's Overview and
    Jobs pages list them. `.dagster/repository` holds `<repository>@<location>`; a
    `Definitions` object is the repository `__repository__`."""
    return {".dagster/repository": f"__repository__@{CODE_LOCATION}"}


def build_registry_resource(config: MonitoringConfig) -> MlflowRegistry:
    return MlflowRegistry(**registry_settings(config))


def metrics_store_resource(config: MonitoringConfig) -> MetricsStoreResource:
    """storage.metrics_url, else $MONITORING_METRICS_URL (through EnvVar: it may hold a
    password), else SQLite under a local storage root."""
    import os

    if config.storage.metrics_url:
        return MetricsStoreResource(url=config.storage.metrics_url)
    if os.environ.get(METRICS_URL_ENV):
        return MetricsStoreResource(url=dg.EnvVar(METRICS_URL_ENV))
    return MetricsStoreResource(url=sqlite_url_under(local_root(config.storage.root)))


def build_resources(config: MonitoringConfig) -> dict[str, object]:
    root = config.storage.root.rstrip("/")
    return {
        "mlflow": build_registry_resource(config),
        "metrics": metrics_store_resource(config),
        "storage": MonitoringStorage(root=root),
        "frame_io_manager": FrameIOManager(base_path=frames_base(root)),
        "profile_io_manager": ProfileIOManager(base_path=profiles_base(root)),
        "report_io_manager": JsonIOManager(base_path=f"{root}/reports"),
    }


def build_sensors(config: MonitoringConfig, jobs_by_name: dict, job_models: dict[str, str]) -> list[dg.SensorDefinition]:
    """`job_models`: each job's model; a failed run of any of them means the monitor is not
    doing its work, and is notified."""
    sensors = []
    watched = {}
    for model in config.models:
        partitions_def = partitions_for(model)
        model_sensors = [
            build_remediation_sensor(
                model, config, [jobs_by_name[retrain_job_name(model)], jobs_by_name[rollback_job_name(model)]]),
            build_landing_sensor(model, "inference", model.inference.location, monitoring_job_name(model),
                                 partitions_def, config.sensors),
            build_landing_sensor(model, "labels", model.labels.location, labels_job_name(model), partitions_def,
                                 config.sensors),
            build_health_sensor(model, config.sensors.alert_interval_seconds, config.sensors.default_running),
        ]
        sensors += model_sensors
        watched |= {sensor.name: model.name for sensor in model_sensors}
    sensors.append(build_alert_sensor(config, job_models, watched))
    return sensors


def build_definitions(config: MonitoringConfig) -> dg.Definitions:
    assets: list = [asset for model in config.models for asset in build_model_assets(model, config.links)]
    assets += [spec for model in config.models for spec in build_model_specs(model)]
    jobs = []
    job_models: dict[str, str] = {}
    for model in config.models:
        model_jobs = [build_monitoring_job(model), build_labels_job(model), build_comparison_job(model),
                      build_health_job(model)] + build_promotion_jobs(model)
        jobs += model_jobs
        job_models |= {job.name: model.name for job in model_jobs}
    jobs_by_name = {job.name: job for job in jobs}
    return dg.Definitions(
        assets=assets, jobs=jobs, sensors=build_sensors(config, jobs_by_name, job_models), resources=build_resources(config),
        executor=dg.in_process_executor,
    )
