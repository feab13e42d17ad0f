"""The on-disk copy of downloaded baselines, shared by every step and run of a deployment.

An entry is keyed by the version's source run and baseline tag (its stamp): a new registration
makes every cached copy stale. A read-only or missing cache costs downloads, never a verdict.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict

import fsspec

from monitoring_assets.profiling.whylogs_compat import view_from_bytes, view_to_bytes
from monitoring_assets.registry.baseline import Baseline, InputColumn

CACHE_FORMAT = 2  # 2: with the calibration map


def _folder(cache_root: str | None, registered_model: str, version: str) -> str | None:
    if not cache_root:
        return None
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in registered_model)
    return f"{cache_root}/baselines/{safe}/{version}"


def read(cache_root: str | None, registered_model: str, version: str, stamp: str) -> Baseline | None:
    folder = _folder(cache_root, registered_model, version)
    if folder is None:
        return None
    fs, path = fsspec.core.url_to_fs(folder)
    try:
        with fs.open(f"{path}/baseline.json", "r") as handle:
            facts = json.load(handle)
        if facts.get("stamp") != stamp or facts.get("format") != CACHE_FORMAT:
            return None
        with fs.open(f"{path}/reference_profile.bin", "rb") as handle:
            reference = view_from_bytes(handle.read())
    except (OSError, ValueError, KeyError):
        return None
    return Baseline(model_name=registered_model, version=version, run_id=facts["run_id"],
                    metrics=facts["metrics"], reference=reference,
                    inputs=[InputColumn(**c) for c in facts["inputs"]], calibration=facts.get("calibration"))


def write(cache_root: str | None, baseline: Baseline, stamp: str) -> None:
    folder = _folder(cache_root, baseline.model_name, baseline.version)
    if folder is None:
        return
    fs, path = fsspec.core.url_to_fs(folder)
    facts = {"format": CACHE_FORMAT, "stamp": stamp, "run_id": baseline.run_id, "metrics": baseline.metrics,
             "inputs": [asdict(c) for c in baseline.inputs], "calibration": baseline.calibration}
    token = uuid.uuid4().hex[:8]
    try:
        fs.makedirs(path, exist_ok=True)
        # The profile first and the facts last, each under a temporary name: a reader sees
        # a complete entry or a stale stamp, never half a file.
        for name, data in (("reference_profile.bin", view_to_bytes(baseline.reference)),
                           ("baseline.json", json.dumps(facts).encode())):
            with fs.open(f"{path}/.{name}.{token}", "wb") as handle:
                handle.write(data)
            fs.mv(f"{path}/.{name}.{token}", f"{path}/{name}")
    except OSError:
        return
