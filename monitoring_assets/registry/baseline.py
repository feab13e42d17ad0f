"""Register and read a model version's baseline in MLflow.

The baseline lives on the version's source run: its metrics as `baseline.<name>` and the
whylogs reference profile as the artifact `monitoring/reference_profile.bin`. A training
pipeline calls `register_baseline` right after it registers a version.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from mlflow.exceptions import MlflowException

from monitoring_assets.profiling.whylogs_compat import DatasetProfileView

BASELINE_METRIC_PREFIX = "baseline."
ARTIFACT_DIR = "monitoring"
REFERENCE_PROFILE_ARTIFACT = f"{ARTIFACT_DIR}/reference_profile.bin"
CALIBRATION_ARTIFACT = f"{ARTIFACT_DIR}/calibration.json"
BASELINE_TAG = "monitoring.baseline"


class BaselineNotFound(LookupError):
    """The model version has no registered baseline (or no such version or alias exists)."""


class MlflowUnavailable(RuntimeError):
    """MLflow did not answer: the monitor cannot judge, which is not the same as "not found"."""


# What MLflow answers when the thing asked for is not there; anything else is a failure to ask.
_NOT_FOUND_CODES = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}


def is_not_found(exc: Exception) -> bool:
    return getattr(exc, "error_code", None) in _NOT_FOUND_CODES


_CAUSES = (
    re.compile(r"\[Errno -?\d+\] [^'\")\]]+"),  # Connection refused, Name or service not known...
    re.compile(r"(Read|Connect) timed out[^'\")]*"),
    re.compile(r"Max retries exceeded[^(]*"),
    re.compile(r"status code \d+[^'\")]*|HTTP \d{3}[^'\")]*"),
)


def connection_error(exc: Exception) -> str:
    """The root cause of a failed request, short: what a reader needs to fix the connection."""
    text = str(exc)
    for pattern in _CAUSES:
        found = pattern.search(text)
        if found:
            return found.group(0).strip().rstrip(":,")
    return f"{type(exc).__name__}: {text[:160]}"


def safe_uri(tracking_uri: str) -> str:
    """The tracking URI without user, password or query (where tokens travel)."""
    parts = urlsplit(tracking_uri)
    if not parts.netloc:
        return tracking_uri.split("?", 1)[0]
    host = f"{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    return f"{parts.scheme}://{host}{parts.path}"


def unavailable(tracking_uri: str, what: str, exc: Exception) -> MlflowUnavailable:
    """The error names the server (never its credentials), the connection error and what was
    needed from it."""
    return MlflowUnavailable(f"MLflow at {safe_uri(tracking_uri)} is unreachable while {what}: {connection_error(exc)}; "
                             "the monitor cannot judge this partition until it answers")


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
    # Score-to-probability map fitted on the labelled reference (JSON, see performance/estimation):
    # None when the version was registered without labels or scores, so nothing can be estimated.
    calibration: str | None = None


def signature_inputs(model_source_uri: str, tracking_uri: str) -> list[InputColumn]:
    """The inputs of the MLflow signature in the model's MLmodel file; empty without one."""
    from mlflow.artifacts import download_artifacts
    from mlflow.models import Model

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = download_artifacts(artifact_uri=f"{model_source_uri.rstrip('/')}/MLmodel", dst_path=tmp,
                                       tracking_uri=tracking_uri)
        except (MlflowException, OSError):
            return []
        signature = Model.load(local).signature
    if signature is None or signature.inputs is None:
        return []
    return [InputColumn(name=spec.name, type=str(getattr(spec.type, "name", spec.type)), required=bool(spec.required))
            for spec in signature.inputs.inputs]


def register_baseline(tracking_uri: str | None, model_name: str, version: str | int, metrics: dict[str, float],
                      reference: pd.DataFrame | DatasetProfileView, alias: str | None = None,
                      labels: Any = None, score_column: str = "score",
                      class_score_columns: dict[str, str] | None = None) -> Baseline:
    """For training pipelines: attach baseline metrics and a reference profile to a version.

    `reference` is the validation frame (profiled here) or an existing whylogs profile view.
    With `labels` (the reference's true labels, row for row) and a `score_column` in the frame,
    a binary classifier's scores are calibrated on the reference, so that its performance can be
    estimated before labels arrive; a multiclass model's per-class scores likewise, given
    `class_score_columns` (class to column).
    """
    from monitoring_assets.registry.registry import ModelRegistry

    return ModelRegistry(tracking_uri or _default_tracking_uri()).register_baseline(
        model_name, version, metrics, reference, alias=alias, labels=labels, score_column=score_column,
        class_score_columns=class_score_columns)


def _default_tracking_uri() -> str:
    import mlflow

    return mlflow.get_tracking_uri()
