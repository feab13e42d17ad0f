"""<model>/lifecycle: the model's audit history in Dagster. Promotions, rejections, rollbacks
and retraining are recorded as observations of this asset by the gate, the rollback job and
the remediation sensor; the alert sensor reads them by cursor and sends each one through the
alert book, with its retries and dedup."""

from __future__ import annotations

import dagster as dg

from monitoring_assets.assets.names import LIFECYCLE
from monitoring_assets.config import ModelConfig

EVENTS = ("promoted", "rejected", "rolled_back", "retrain_started", "retrain_finished", "remediation")


def lifecycle_key(model: ModelConfig) -> dg.AssetKey:
    return dg.AssetKey([model.name, LIFECYCLE])


def build_lifecycle_spec(model: ModelConfig, group_name: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        lifecycle_key(model), group_name=group_name, owners=model.owners or None, tags=model.tags or None,
        kinds={"mlflow"},
        description=f"{model.registered_model}'s lifecycle: each promotion, rejection, rollback and "
        "retraining, observed when it happens (the Events tab is the audit history).",
    )


def lifecycle_event(model: ModelConfig, event: str, summary: str, *, details: str = "", severity: str = "INFO",
                    version: str | None = None, previous: str | None = None,
                    links: dict[str, str] | None = None) -> dg.AssetObservation:
    if event not in EVENTS:
        raise ValueError(f"unknown lifecycle event {event!r}")
    metadata: dict[str, object] = {"event": event, "summary": summary, "severity": severity,
                                   "version": version or "", "previous_version": previous or ""}
    if details:
        metadata["details"] = details
    if links:
        metadata["links"] = dg.MetadataValue.json(links)
    return dg.AssetObservation(asset_key=lifecycle_key(model), description=summary, metadata=metadata)


def metrics_phrase(candidate: dict, champion: dict, names: list[str]) -> str:
    """`accuracy 0.705 vs 0.323, roc_auc 0.78 vs 0.51`: the new version's value first."""
    parts = []
    for name in names:
        if name in candidate:
            theirs = champion.get(name)
            parts.append(f"{name} {candidate[name]:.3g}" + (f" vs {theirs:.3g}" if isinstance(theirs, (int, float)) else ""))
    return ", ".join(parts)
