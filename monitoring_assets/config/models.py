"""pydantic models of the monitoring configuration file (`monitoring.yaml`)."""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from typing import Literal

from pydantic import Field, field_validator, model_validator

from monitoring_assets.config.notifications import NotificationsConfig
from monitoring_assets.config.strict import Strict as _Strict

Task = Literal["binary", "multiclass", "regression"]
NumericDriftMetric = Literal["wasserstein", "psi", "hellinger", "ks"]
CategoricalDriftMetric = Literal["jensenshannon", "psi", "chi2"]

_ASSET_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class ColumnRoles(_Strict):
    """Which column of the inference logs plays which role."""

    id: str = "id"
    timestamp: str = "timestamp"
    prediction: str = "prediction"
    score: str | None = "score"
    label: str = "label"
    latency: str | None = "latency_ms"
    model_version: str | None = "model_version"
    error: str | None = Field(
        default=None, description="Boolean column that flags a failed prediction."
    )
    features: list[str] | None = Field(
        default=None, description="Feature columns; default: the model signature's inputs."
    )
    categorical: list[str] | None = Field(
        default=None,
        description="Features scored as categorical; default: string columns of the reference.",
    )
    segments: list[str] = Field(default_factory=list)
    class_scores: dict[str, str] = Field(
        default_factory=dict,
        description="Multiclass: each class's score column (class: column), for estimated performance.")


class PartitionsConfig(_Strict):
    grain: Literal["daily", "hourly"] = "daily"
    start: dt.datetime
    end: dt.datetime | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name, such as 'UTC' or 'Europe/Paris')") from None
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> PartitionsConfig:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class LocationConfig(_Strict):
    """A landing zone: `<location>/<partition_key>/*.{parquet,csv,jsonl}`.

    `location` is a local folder or any fsspec URL (s3://, gs://, memory://, ...).
    """

    location: str
    csv_delimiter: str = ","


class DriftThreshold(_Strict):
    numeric_metric: NumericDriftMetric = "wasserstein"
    categorical_metric: CategoricalDriftMetric = "jensenshannon"
    warn: float = Field(default=0.1, gt=0)
    error: float = Field(default=0.2, gt=0)

    @model_validator(mode="after")
    def _error_not_below_warn(self) -> DriftThreshold:
        if self.error < self.warn:
            raise ValueError(f"error ({self.error}) must not be below warn ({self.warn})")
        return self


class DriftConfig(_Strict):
    default: DriftThreshold = Field(default_factory=DriftThreshold)
    features: dict[str, DriftThreshold] = Field(default_factory=dict)
    include_prediction: bool = True
    include_score: bool = Field(
        default=True, description="Score the score column's drift too: often the first sign of trouble."
    )
    window_partitions: int = Field(
        default=7, ge=1, description="Partitions merged (from stored profiles) into the window score."
    )


class PerformanceThreshold(_Strict):
    """MLflow's MetricThreshold semantics, applied to the live metric against the baseline.

    `min_absolute_change` and `min_relative_change` may be negative here: for monitoring
    they give the largest tolerated drop (-0.05 = may fall by at most 0.05).
    """

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool = True

    @model_validator(mode="after")
    def _something_to_check(self) -> PerformanceThreshold:
        if (
            self.threshold is None
            and self.min_absolute_change is None
            and self.min_relative_change is None
        ):
            raise ValueError(
                "give at least one of threshold, min_absolute_change, min_relative_change"
            )
        return self


class LabelsPolicy(_Strict):
    min_coverage: float = Field(default=0.5, ge=0, le=1)
    deadline_hours: float = Field(default=72, gt=0)
    max_conflict_share: float = Field(
        default=0.01, ge=0, le=1,
        description="WARN when more than this share of labelled ids got different labels from different rows.")
    time_column: str = Field(
        default="label_time",
        description="Optional column of the label files: when each label was given. The latest wins; without "
                    "it, the row of the file that landed last (modification time) wins.")


class FreshnessPolicy(_Strict):
    """Inference data for a partition is due `max_delay_hours` after the partition ends."""

    enabled: bool = True
    max_delay_hours: float | None = Field(
        default=None, gt=0, description="Default: two partitions' length (48 h daily, 2 h hourly).")


class ServiceLevel(_Strict):
    p50_ms: float | None = None
    p95_ms: float | None = 250.0
    p99_ms: float | None = 500.0
    max_error_rate: float | None = Field(default=0.01, ge=0, le=1)
    min_rows: int | None = Field(default=None, ge=0)


class ColumnOverride(_Strict):
    """Overrides of the derived schema for one column; they win over signature and profile."""

    required: bool | None = None
    nullable: bool | None = None
    minimum: float | None = None
    maximum: float | None = None
    allowed: list[str] | None = Field(default=None, description="Values outside this list are bad rows.")
    check_categories: bool | None = Field(default=None, description="false: no unseen-category warning.")


class SchemaPolicy(_Strict):
    max_quarantine_share: float = Field(default=0.05, ge=0, le=1)
    strict_columns: bool = False
    columns: dict[str, ColumnOverride] = Field(default_factory=dict)
    range_margin: float = Field(
        default=1.0, ge=0,
        description="Widen the reference min/max by this share of their span; a column that is "
        "never negative in the reference keeps zero as its floor.",
    )


def _default_performance(task: str) -> dict[str, PerformanceThreshold]:
    if task == "regression":
        return {"rmse": PerformanceThreshold(min_relative_change=-0.2, greater_is_better=False)}
    return {"accuracy": PerformanceThreshold(min_relative_change=-0.05)}


class PromotionConfig(_Strict):
    """The gate a candidate version must pass to replace the champion."""

    window_days: int = Field(default=7, ge=1, description="Recent labeled partitions to evaluate on.")
    min_labeled_rows: int = Field(default=200, ge=1)
    thresholds: dict[str, PerformanceThreshold] = Field(default_factory=dict)
    max_prediction_drift: float = Field(
        default=0.3, gt=0, description="Largest candidate-vs-champion prediction drift allowed."
    )


RemediationPolicy = Literal["none", "notify", "rollback", "retrain", "rollback_then_retrain"]


class RemediationConfig(_Strict):
    policy: RemediationPolicy = "notify"
    consecutive_failures: int = Field(default=3, ge=1)
    cooldown_hours: float = Field(default=24, ge=0)
    dry_run: bool = False
    training_function: str | None = Field(
        default=None, description="Import path `package.module:function` of the retraining function."
    )
    training_window_days: int = Field(default=7, ge=1)
    use_estimates: bool = Field(
        default=False,
        description="Count the estimated performance (CBPE) of partitions whose labels are pending as "
        "failures for this policy and for the model's health.")

    @model_validator(mode="after")
    def _retrain_needs_function(self) -> RemediationConfig:
        if self.policy in ("retrain", "rollback_then_retrain") and not self.training_function:
            raise ValueError(f"policy {self.policy!r} needs training_function")
        if self.training_function and ":" not in self.training_function:
            raise ValueError("training_function must look like 'package.module:function'")
        return self


class ModelConfig(_Strict):
    name: str = Field(description="Asset key prefix and group of this model's assets.")
    registered_model: str
    champion_alias: str = "champion"
    candidate_alias: str = "candidate"
    task: Task
    columns: ColumnRoles = Field(default_factory=ColumnRoles)
    partitions: PartitionsConfig
    inference: LocationConfig
    labels: LocationConfig
    drift: DriftConfig = Field(default_factory=DriftConfig)
    performance: dict[str, PerformanceThreshold] = Field(default_factory=dict)
    labels_policy: LabelsPolicy = Field(default_factory=LabelsPolicy)
    freshness: FreshnessPolicy = Field(default_factory=FreshnessPolicy)
    owners: list[str] = Field(
        default_factory=list, description="Dagster owners of the model's assets: emails or `team:name`.")
    tags: dict[str, str] = Field(default_factory=dict, description="Dagster tags of the model's assets.")
    service_level: ServiceLevel = Field(default_factory=ServiceLevel)
    schema_policy: SchemaPolicy = Field(default_factory=SchemaPolicy)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    remediation: RemediationConfig = Field(default_factory=RemediationConfig)

    @field_validator("owners")
    @classmethod
    def _dagster_owners(cls, value: list[str]) -> list[str]:
        bad = [o for o in value if not (o.startswith("team:") and len(o) > 5) and "@" not in o]
        if bad:
            raise ValueError(f"owners must be emails or 'team:<name>' (Dagster's rule): {bad}")
        return value

    @field_validator("name")
    @classmethod
    def _asset_safe(cls, value: str) -> str:
        if not _ASSET_NAME.match(value):
            raise ValueError("use letters, digits and underscores only (it becomes an asset key)")
        return value

    @model_validator(mode="after")
    def _fill_performance(self) -> ModelConfig:
        if not self.performance:
            self.performance = _default_performance(self.task)
        if not self.promotion.thresholds:
            # By default a candidate must be at least as good as the champion on each metric.
            self.promotion.thresholds = {
                name: PerformanceThreshold(min_absolute_change=0.0, greater_is_better=spec.greater_is_better)
                for name, spec in self.performance.items()
            }
        return self


class MlflowConfig(_Strict):
    tracking_uri: str | None = Field(
        default=None, description="Default: $MLFLOW_TRACKING_URI, read when the config is loaded.")
    registry_uri: str | None = None
    artifact_location: str | None = Field(
        default=None,
        description="Artifact root of the experiments the project creates (monitoring runs). "
        "Default: `<storage.root>/mlflow-artifacts` for a database or file store; a tracking "
        "server chooses its own.",
    )


    @model_validator(mode="after")
    def _tracking_uri_from_environment(self) -> MlflowConfig:
        if not self.tracking_uri:
            self.tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or None
        if not self.tracking_uri:
            raise ValueError("set mlflow.tracking_uri, or MLFLOW_TRACKING_URI in the environment")
        return self


class StorageConfig(_Strict):
    """Where profiles, quarantined rows and intermediate batches are kept (fsspec URL)."""

    root: str
    metrics_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metrics store (report, exporter, Grafana). Default: "
        "$MONITORING_METRICS_URL when set, else SQLite at `<root>/metrics.db` for a local root.")

    @model_validator(mode="after")
    def _metrics_store_reachable(self) -> StorageConfig:
        local = "://" not in self.root or self.root.startswith("file://")
        if self.metrics_url is None and not local and not os.environ.get("MONITORING_METRICS_URL"):
            raise ValueError(
                f"metrics_url is required when the root is not a local folder ({self.root!r}): "
                "a PostgreSQL URL such as postgresql://user@host/db, or $MONITORING_METRICS_URL")
        if self.metrics_url is not None and not self.metrics_url.startswith(("sqlite", "postgresql")):
            raise ValueError(f"metrics_url must be a sqlite:// or postgresql:// URL, not {self.metrics_url!r}")
        return self


class LinksConfig(_Strict):
    dagster_url: str = "http://127.0.0.1:3000"
    mlflow_url: str = "http://127.0.0.1:5000"
    grafana_url: str | None = Field(
        default=None, description="Grafana's URL, when deploy/grafana's dashboard is provisioned there.")


class SensorsConfig(_Strict):
    default_running: bool = Field(
        default=True, description="Start the sensors with the daemon (false: start them in the UI)."
    )
    landing_interval_seconds: int = Field(default=30, ge=1)
    lookback_partitions: int = Field(
        default=14, ge=1,
        description="Partitions (ending at the newest) that the landing sensors look at on each tick; "
        "the labels sensor reaches back past the label deadline as well.",
    )
    alert_interval_seconds: int = Field(default=30, ge=1)


class MonitoringConfig(_Strict):
    mlflow: MlflowConfig
    storage: StorageConfig
    links: LinksConfig = Field(default_factory=LinksConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    sensors: SensorsConfig = Field(default_factory=SensorsConfig)
    models: list[ModelConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> MonitoringConfig:
        seen: set[str] = set()
        for model in self.models:
            if model.name in seen:
                raise ValueError(f"model name {model.name!r} is used twice")
            seen.add(model.name)
        return self

    def model(self, name: str) -> ModelConfig:
        for model in self.models:
            if model.name == name:
                return model
        known = ", ".join(m.name for m in self.models)
        raise KeyError(f"no model named {name!r} in the config (known: {known})")
