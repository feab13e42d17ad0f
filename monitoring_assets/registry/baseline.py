"""Register and read a model version's baseline in MLflow.

The baseline lives on the version's source run: its metrics as `baseline.<name>` and the
whylogs reference profile as the artifact `monitoring/reference_profile.bin`. A training
pipeline calls `register_baseline` right after it registers a version.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from monitoring_assets.profiling.whylogs_compat import DatasetProfileView, log_frame, read_view

BASELINE_METRIC_PREFIX = "baseline."
ARTIFACT_DIR = "monitoring"
REFERENCE_PROFILE_ARTIFACT = f"{ARTIFACT_DIR}/reference_profile.bin"
BASELINE_TAG = "monitoring.baseline"


class BaselineNotFound(LookupError):
    """The model version has no registered baseline (or no such version or alias exists)."""


@dataclass(frozen=True)
class InputColumn:
    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class Baseline:
    model_name: str
    version: str
    run_id: str
    metrics: dict[str, float]
    reference: DatasetProfileView
    inputs: list[InputColumn] = field(default_factory=list)


def _client(client: MlflowClient | str | None) -> MlflowClient:
    if isinstance(client, MlflowClient):
        return client
    return MlflowClient(tracking_uri=client)


def resolve_alias(client: MlflowClient | str | None, model_name: str, alias: str) -> str:
    mlflow_client = _client(client)
    try:
        return str(mlflow_client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException as exc:
        raise BaselineNotFound(
            f"registered model {model_name!r} has no version under alias {alias!r}"
        ) from exc


def register_baseline(
    client: MlflowClient | str | None,
    model_name: str,
    version: str | int,
    metrics: dict[str, float],
    reference: pd.DataFrame | DatasetProfileView,
    alias: str | None = None,
) -> Baseline:
    """Attach baseline metrics and a reference profile to a registered model version.

    `reference` is the validation frame (profiled here) or an existing whylogs profile view.
    Calling it again replaces the reference profile and logs the metrics again; MLflow keeps
    the latest value of each metric, so the baseline is what was registered last.
    """
    mlflow_client = _client(client)
    mv = mlflow_client.get_model_version(model_name, str(version))
    if not mv.run_id:
        raise BaselineNotFound(
            f"{model_name} version {version} has no source run to hold its baseline"
        )
    view = reference if isinstance(reference, DatasetProfileView) else log_frame(reference)
    for name, value in metrics.items():
        mlflow_client.log_metric(mv.run_id, f"{BASELINE_METRIC_PREFIX}{name}", float(value))
    with tempfile.TemporaryDirectory() as tmp:
        profile_path = Path(tmp) / "reference_profile.bin"
        view.write(str(profile_path))
        summary_path = Path(tmp) / "baseline.json"
        summary_path.write_text(
            json.dumps({"model": model_name, "version": str(version), "metrics": metrics}, indent=2)
        )
        mlflow_client.log_artifact(mv.run_id, str(profile_path), ARTIFACT_DIR)
        mlflow_client.log_artifact(mv.run_id, str(summary_path), ARTIFACT_DIR)
    mlflow_client.set_model_version_tag(model_name, str(version), BASELINE_TAG, "registered")
    if alias:
        mlflow_client.set_registered_model_alias(model_name, alias, str(version))
    return load_baseline(mlflow_client, model_name, str(version))


def signature_of(client: MlflowClient, model_name: str, version: str):  # -> ModelSignature | None
    """The version's MLflow signature, read from its MLmodel file through this client's URIs."""
    from mlflow.artifacts import download_artifacts
    from mlflow.models import Model

    source = client.get_model_version_download_uri(model_name, version)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = download_artifacts(
                artifact_uri=f"{source.rstrip('/')}/MLmodel", dst_path=tmp,
                tracking_uri=client.tracking_uri,
            )
        except (MlflowException, OSError):
            return None
        return Model.load(local).signature


def _signature_inputs(client: MlflowClient, model_name: str, version: str) -> list[InputColumn]:
    signature = signature_of(client, model_name, version)
    if signature is None or signature.inputs is None:
        return []
    columns = []
    for spec in signature.inputs.inputs:
        type_name = getattr(spec.type, "name", str(spec.type))
        columns.append(
            InputColumn(name=spec.name, type=str(type_name), required=bool(spec.required))
        )
    return columns


def load_baseline(client: MlflowClient | str | None, model_name: str, version: str) -> Baseline:
    mlflow_client = _client(client)
    try:
        mv = mlflow_client.get_model_version(model_name, str(version))
    except MlflowException as exc:
        raise BaselineNotFound(f"{model_name} version {version} does not exist") from exc
    if not mv.run_id:
        raise BaselineNotFound(f"{model_name} version {version} has no source run")
    run = mlflow_client.get_run(mv.run_id)
    metrics = {
        key[len(BASELINE_METRIC_PREFIX):]: value
        for key, value in run.data.metrics.items()
        if key.startswith(BASELINE_METRIC_PREFIX)
    }
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow_client.download_artifacts(mv.run_id, REFERENCE_PROFILE_ARTIFACT, tmp)
        except (MlflowException, OSError) as exc:
            raise BaselineNotFound(
                f"{model_name} version {version}: run {mv.run_id} has no "
                f"{REFERENCE_PROFILE_ARTIFACT}; call register_baseline for it"
            ) from exc
        reference = read_view(local)
    return Baseline(
        model_name=model_name,
        version=str(version),
        run_id=mv.run_id,
        metrics=metrics,
        reference=reference,
        inputs=_signature_inputs(mlflow_client, model_name, str(version)),
    )
