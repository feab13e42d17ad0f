"""The demo's training function, named in the config as `remediation.training_function`.

A user's own function has the same shape: it gets the recent labeled production window and
returns the version it registered. Retraining is idempotent: the same window gives back the
version it already produced, so a retried run does not register twice.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from monitoring_assets.demo.data import FEATURES
from monitoring_assets.demo.train import fit_model, log_and_register
from monitoring_assets.registry import ModelRegistry

DIGEST_TAG = "monitoring.training_digest"


def window_digest(window: pd.DataFrame, columns: list[str]) -> str:
    ordered = window.sort_values("id")[columns].reset_index(drop=True)
    return hashlib.sha256(pd.util.hash_pandas_object(ordered, index=False).values.tobytes()).hexdigest()[:20]


def train_on_window(window: pd.DataFrame, *, registered_model: str, tracking_uri: str,
                    features: list[str] | None = None, label: str = "label", task: str = "binary",
                    shuffle_labels_seed: int | None = None) -> str:
    features = features or FEATURES
    frame = window.rename(columns={label: "label"})
    if shuffle_labels_seed is not None:  # the demo's deliberately bad candidate
        frame = frame.assign(label=np.random.default_rng(shuffle_labels_seed).permutation(frame["label"].to_numpy()))
    digest = window_digest(frame, [*features, "label"])
    for version in ModelRegistry(tracking_uri).versions(registered_model):
        if version.tags.get(DIGEST_TAG) == digest:
            return str(version.version)
    frame = frame.sort_values("timestamp") if "timestamp" in frame else frame
    split = int(len(frame) * 0.75)
    model = fit_model(frame.iloc[:split])
    return log_and_register(
        tracking_uri, registered_model, model, frame.iloc[split:].reset_index(drop=True),
        artifact_location=None, tags={DIGEST_TAG: digest}, task=task, features=features,
    )
