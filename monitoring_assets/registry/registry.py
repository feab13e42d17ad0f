"""The one route to MLflow: aliases, baselines, the served version's audit tags, write-back runs
and pyfunc loading all go through `ModelRegistry`.

Baselines (metrics, reference profile, signature inputs) are cached on disk under the storage
root, keyed by the version's baseline stamp, so every step and every run of every process shares
one download per registered baseline. Every experiment the project creates gets an explicit
artifact location, so nothing lands in `./mlruns` of whatever directory a process started in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from monitoring_assets.profiling.whylogs_compat import (
    DatasetProfileView,
    log_frame,
    view_from_bytes,
)
from monitoring_assets.registry import aliases, baseline_cache, monitoring_runs
from monitoring_assets.registry.baseline import (
    ARTIFACT_DIR,
    BASELINE_METRIC_PREFIX,
    BASELINE_TAG,
    CALIBRATION_ARTIFACT,
    REFERENCE_PROFILE_ARTIFACT,
    Baseline,
    BaselineNotFound,
    is_not_found,
    signature_inputs,
    unavailable,
)

# Tracking URIs whose server chooses the artifact location itself.
_SERVER_SCHEMES = ("http", "https", "databricks", "databricks-uc", "uc")
NO_CALIBRATION = '{"kind": "none"}'
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"


def default_artifact_location(tracking_uri: str, storage_root: str) -> str | None:
    """Where experiments keep artifacts when the config names no place.

    A tracking server decides for itself. A database store (SQLite, PostgreSQL, MySQL) or a
    file store would otherwise fall back to `./mlruns` of the current directory, so their
    artifacts go under the storage root.
    """
    scheme = urlsplit(tracking_uri).scheme.lower()
    if scheme in _SERVER_SCHEMES:
        return None
    return as_uri(f"{storage_root.rstrip('/')}/mlflow-artifacts")


def as_uri(location: str) -> str:
    """A local path becomes an absolute file URI; a URL is kept as it is."""
    if "://" in location:
        return location
    return Path(location).expanduser().resolve().as_uri()


def registry_settings(config: Any) -> dict[str, str | None]:
    """The registry's settings from a `MonitoringConfig`: its MLflow section and storage root."""
    root = config.storage.root.rstrip("/")
    mlflow_config = config.mlflow
    return {
        "tracking_uri": mlflow_config.tracking_uri,
        "registry_uri": mlflow_config.registry_uri,
        "artifact_location": (as_uri(mlflow_config.artifact_location) if mlflow_config.artifact_location
                              else default_artifact_location(mlflow_config.tracking_uri, root)),
        "cache_root": f"{root}/cache",
    }


def _calibration_json(reference: Any, labels: Any, score_column: str,
                      class_score_columns: Mapping[str, str] | None = None,
                      prediction_column: str = "prediction") -> str | None:
    """The score-to-probability map fitted on the labelled reference: one map for a binary
    classifier's score, one per class (against the rest) for a multiclass model's class scores."""
    if labels is None or not isinstance(reference, pd.DataFrame):
        return None
    from monitoring_assets.performance.estimation import (
        CalibrationMap,
        ClassCalibration,
        reference_spread,
    )

    truth = pd.Series(labels).reset_index(drop=True)
    if len(truth) != len(reference):
        raise ValueError(f"labels has {len(truth)} rows, the reference {len(reference)}: they must match row for row")
    if class_score_columns:
        missing = [c for c in class_score_columns.values() if c not in reference]
        if missing:
            raise ValueError(f"the reference has no class score column(s) {missing}")
        scores = reference[list(class_score_columns.values())].apply(pd.to_numeric, errors="coerce").reset_index(drop=True)
        usable = scores.notna().all(axis=1) & truth.notna()
        calibration = ClassCalibration.fit(scores[usable].to_numpy(), truth[usable].astype(str).to_numpy(),
                                           list(class_score_columns))
        if prediction_column in reference:
            calibration = reference_spread(calibration, scores[usable].to_numpy(),
                                           reference[prediction_column].reset_index(drop=True)[usable].to_numpy(),
                                           truth[usable].to_numpy())
        return calibration.to_json()
    if score_column not in reference:
        return None
    scores = pd.to_numeric(reference[score_column], errors="coerce").reset_index(drop=True)
    usable = scores.notna() & truth.notna()
    if set(truth[usable].unique()) - {0, 1, True, False}:
        return None  # not a binary classifier's 0/1 labels
    calibration = CalibrationMap.fit(scores[usable].to_numpy(), truth[usable].astype(int).to_numpy())
    if prediction_column in reference:
        calibration = reference_spread(calibration, scores[usable].to_numpy(),
                                       reference[prediction_column].reset_index(drop=True)[usable].to_numpy(),
                                       truth[usable].astype(int).to_numpy())
    return calibration.to_json()


def registry_for(config: Any) -> ModelRegistry:
    return ModelRegistry(**registry_settings(config))


# MLflow's defaults retry a request 7 times with a backoff factor of 2 and wait 120 s for each
# answer: 4 minutes before an unreachable server is reported. A monitor should say so in about
# 30 s. Settings the user exported are kept.
HTTP_REQUEST_BOUNDS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "8",
}


def bound_http_requests() -> None:
    for name, value in HTTP_REQUEST_BOUNDS.items():
        os.environ.setdefault(name, value)


REPORT_ARTIFACT = "report.html"


class ModelRegistry:
    """Everything the project asks of MLflow, behind one small interface."""

    def __init__(self, tracking_uri: str, registry_uri: str | None = None,
                 artifact_location: str | None = None, cache_root: str | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri
        self.artifact_location = artifact_location.rstrip("/") if artifact_location else None
        self.cache_root = cache_root.rstrip("/") if cache_root else None
        self._memo: dict[tuple[str, str, str], Baseline] = {}
        self._lock = threading.Lock()

    @cached_property
    def client(self) -> MlflowClient:
        bound_http_requests()
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    # Aliases and versions ------------------------------------------------------------------

    def version_for_alias(self, registered_model: str, alias: str) -> str:
        """The version under `alias`; raises BaselineNotFound naming the model and alias."""
        version = self.alias_version(registered_model, alias)
        if version is None:
            raise BaselineNotFound(f"registered model {registered_model!r} has no version under alias {alias!r}")
        return version

    def alias_version(self, registered_model: str, alias: str) -> str | None:
        return aliases.version_for(self.client, registered_model, alias)

    def set_alias(self, registered_model: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(registered_model, alias, str(version))

    def version_tags(self, registered_model: str, version: str) -> dict[str, str]:
        return aliases.version_tags(self.client, registered_model, version)

    def tag_version(self, registered_model: str, version: str, tags: Mapping[str, Any]) -> None:
        aliases.tag_version(self.client, registered_model, version, tags)

    def versions(self, registered_model: str) -> list[Any]:
        """Every version of the model, oldest first."""
        found = self.client.search_model_versions(f"name='{registered_model}'")
        return sorted(found, key=lambda v: int(v.version))

    def promote(self, registered_model: str, version: str, champion_alias: str, candidate_alias: str,
                audit: Mapping[str, Any]) -> dict[str, Any]:
        return aliases.promote(self.client, registered_model, version, champion_alias, candidate_alias, audit)

    def reject(self, registered_model: str, version: str, reasons: list[str], audit: Mapping[str, Any]) -> None:
        aliases.reject(self.client, registered_model, version, reasons, audit)

    def rollback(self, registered_model: str, champion_alias: str, target: str, audit: Mapping[str, Any]) -> str:
        return aliases.rollback(self.client, registered_model, champion_alias, target, audit)

    # Baselines -----------------------------------------------------------------------------

    def register_baseline(self, registered_model: str, version: str | int, metrics: Mapping[str, float],
                          reference: pd.DataFrame | DatasetProfileView, alias: str | None = None,
                          labels: Any = None, score_column: str = "score",
                          class_score_columns: Mapping[str, str] | None = None) -> Baseline:
        """Attach baseline metrics and a reference profile to a registered model version.

        `reference` is the validation frame (profiled here) or a whylogs profile view. Calling
        it again replaces the baseline: MLflow keeps the latest value of each metric, and the
        new stamp makes every cached copy stale.
        """
        client = self.client
        mv = self._model_version(registered_model, str(version))
        if not mv.run_id:
            raise BaselineNotFound(f"{registered_model} version {version} has no source run to hold its baseline")
        view = reference if isinstance(reference, DatasetProfileView) else log_frame(reference)
        for name, value in metrics.items():
            client.log_metric(mv.run_id, f"{BASELINE_METRIC_PREFIX}{name}", float(value))
        with tempfile.TemporaryDirectory() as tmp:
            profile_path = Path(tmp) / "reference_profile.bin"
            view.write(str(profile_path))
            summary_path = Path(tmp) / "baseline.json"
            summary_path.write_text(json.dumps(
                {"model": registered_model, "version": str(version), "metrics": dict(metrics)}, indent=2))
            client.log_artifact(mv.run_id, str(profile_path), ARTIFACT_DIR)
            client.log_artifact(mv.run_id, str(summary_path), ARTIFACT_DIR)
            # Always written, so that registering again without labels replaces an earlier map.
            calibration_path = Path(tmp) / "calibration.json"
            calibration_path.write_text(
                _calibration_json(reference, labels, score_column, class_score_columns) or NO_CALIBRATION)
            client.log_artifact(mv.run_id, str(calibration_path), ARTIFACT_DIR)
        stamp = f"{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
        client.set_model_version_tag(registered_model, str(version), BASELINE_TAG, stamp)
        if alias:
            self.set_alias(registered_model, alias, str(version))
        return self.baseline(registered_model, str(version))

    def baseline(self, registered_model: str, version: str) -> Baseline:
        """The version's baseline, from the memo, the disk cache, or MLflow (in that order)."""
        mv = self._model_version(registered_model, str(version))
        if not mv.run_id:
            raise BaselineNotFound(f"{registered_model} version {version} has no source run")
        stamp = f"{mv.run_id}:{mv.tags.get(BASELINE_TAG, '')}"
        key = (registered_model, str(version), stamp)
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        baseline = baseline_cache.read(self.cache_root, registered_model, str(version), stamp)
        if baseline is None:
            baseline = self._download_baseline(registered_model, str(version), mv.run_id)
            baseline_cache.write(self.cache_root, baseline, stamp)
        with self._lock:
            self._memo[key] = baseline
        return baseline

    def _model_version(self, registered_model: str, version: str) -> Any:
        try:
            return self.client.get_model_version(registered_model, str(version))
        except MlflowException as exc:
            if not is_not_found(exc):
                raise unavailable(self.tracking_uri, f"loading the baseline of {registered_model} v{version}",
                                  exc) from None
            raise BaselineNotFound(f"{registered_model} version {version} does not exist") from exc

    def _download_baseline(self, registered_model: str, version: str, run_id: str) -> Baseline:
        client = self.client
        run = client.get_run(run_id)
        metrics = {key[len(BASELINE_METRIC_PREFIX):]: value for key, value in run.data.metrics.items()
                   if key.startswith(BASELINE_METRIC_PREFIX)}
        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = client.download_artifacts(run_id, REFERENCE_PROFILE_ARTIFACT, tmp)
            except (MlflowException, OSError) as exc:
                raise BaselineNotFound(
                    f"{registered_model} version {version}: run {run_id} has no "
                    f"{REFERENCE_PROFILE_ARTIFACT}; call register_baseline for it"
                ) from exc
            reference = view_from_bytes(Path(local).read_bytes())
            try:
                calibration = Path(client.download_artifacts(run_id, CALIBRATION_ARTIFACT, tmp)).read_text()
            except (MlflowException, OSError):
                calibration = None  # registered before calibration existed
            if calibration == NO_CALIBRATION:
                calibration = None  # registered without labelled scores: nothing to estimate with
        source = client.get_model_version_download_uri(registered_model, version)
        return Baseline(model_name=registered_model, version=version, run_id=run_id, metrics=metrics,
                        reference=reference, inputs=signature_inputs(source, self.tracking_uri),
                        calibration=calibration)

    # Write-back ----------------------------------------------------------------------------

    def experiment_id(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        """The experiment's id, created with an explicit artifact location when it is new."""
        client = self.client
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                client.restore_experiment(experiment.experiment_id)
            if EXPERIMENT_KIND_TAG not in experiment.tags:
                client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, "custom_model_development")
            return experiment.experiment_id
        location = f"{self.artifact_location}/{name}" if self.artifact_location else None
        # MLflow's UI opens an experiment without a kind as GenAI; these hold model metrics.
        tags = {EXPERIMENT_KIND_TAG: "custom_model_development", **(tags or {})}
        try:
            return client.create_experiment(name, artifact_location=location, tags=tags)
        except MlflowException:
            # Another process created it between the lookup and the create.
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return experiment.experiment_id

    def record_partition(self, registered_model: str, version: str, partition_start: dt.datetime,
                         grain_seconds: int, metrics: Mapping[str, float],
                         artifacts: Mapping[str, str | bytes] | None = None,
                         partition_key: str | None = None) -> str:
        return monitoring_runs.record_partition(self.client, self._monitoring_experiment(), registered_model, version, partition_start,
                                                grain_seconds, metrics, artifacts, partition_key)

    def record_comparison(self, registered_model: str, artifacts: Mapping[str, str]) -> str:
        return monitoring_runs.record_comparison(self.client, self._monitoring_experiment(), registered_model, artifacts)

    def record_report(self, registered_model: str, html: str) -> tuple[str, str]:
        """Log the model's HTML report on its model-level report run: (experiment id, run id)."""
        experiment_id = self._monitoring_experiment()
        run_id = monitoring_runs.record_model_run(self.client, experiment_id, registered_model, "report",
                                                  f"report {registered_model}", {REPORT_ARTIFACT: html})
        return experiment_id, run_id

    def monitoring_run_location(self, registered_model: str, version: str) -> tuple[str, str] | None:
        """(experiment id, run id) of the version's monitoring run, read only: None if none yet."""
        experiment = self.client.get_experiment_by_name(monitoring_runs.MONITORING_EXPERIMENT)
        if experiment is None:
            return None
        run_id = monitoring_runs.find_monitoring_run(self.client, experiment.experiment_id, registered_model, version)
        return (experiment.experiment_id, run_id) if run_id else None

    def monitoring_run(self, registered_model: str, version: str) -> str | None:
        location = self.monitoring_run_location(registered_model, version)
        return location[1] if location else None

    def _monitoring_experiment(self) -> str:
        return self.experiment_id(monitoring_runs.MONITORING_EXPERIMENT, {monitoring_runs.TAG_MONITORING: "true"})

    # Models --------------------------------------------------------------------------------

    def download_model(self, registered_model: str, version: str, destination: str) -> str:
        """A local copy of the version's model files (to load elsewhere); returns its folder."""
        from mlflow.artifacts import download_artifacts

        source = self.client.get_model_version_download_uri(registered_model, str(version))
        return download_artifacts(artifact_uri=source, dst_path=destination, tracking_uri=self.tracking_uri)
