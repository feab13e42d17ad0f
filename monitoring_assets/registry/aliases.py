"""Moving aliases with an audit trail: every decision is a set of tags on the version."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from monitoring_assets.registry.baseline import is_not_found, unavailable

PREVIOUS_CHAMPION = "monitoring.previous_champion"
DECISION = "monitoring.decision"
ROLLED_BACK = "monitoring.rolled_back"


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def version_for(client: MlflowClient, registered_model: str, alias: str) -> str | None:
    """None when the alias (or the model) does not exist; an unreachable MLflow raises."""
    try:
        return str(client.get_model_version_by_alias(registered_model, alias).version)
    except MlflowException as exc:
        if is_not_found(exc):
            return None
        raise unavailable(client.tracking_uri, f"reading the {alias!r} alias of {registered_model}", exc) from None


def version_tags(client: MlflowClient, registered_model: str, version: str) -> dict[str, str]:
    return dict(client.get_model_version(registered_model, version).tags)


def tag_version(client: MlflowClient, registered_model: str, version: str, tags: Mapping[str, Any]) -> None:
    for key, value in tags.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
        client.set_model_version_tag(registered_model, version, key, text[:5000])


def promote(client: MlflowClient, registered_model: str, version: str, champion_alias: str,
            candidate_alias: str, audit: Mapping[str, Any]) -> dict[str, Any]:
    """Move the champion alias to `version`; a no-op when it is already there."""
    previous = version_for(client, registered_model, champion_alias)
    if previous == str(version):
        return {"changed": False, "previous": previous, "champion": previous}
    client.set_registered_model_alias(registered_model, champion_alias, str(version))
    tag_version(client, registered_model, str(version), {
        DECISION: "promoted", PREVIOUS_CHAMPION: previous or "", "monitoring.promoted_at": now_iso(), **audit,
    })
    with contextlib.suppress(MlflowException):
        client.delete_registered_model_alias(registered_model, candidate_alias)
    return {"changed": True, "previous": previous, "champion": str(version)}


def reject(client: MlflowClient, registered_model: str, version: str, reasons: list[str],
           audit: Mapping[str, Any]) -> None:
    tag_version(client, registered_model, str(version), {
        DECISION: "rejected", "monitoring.rejection_reasons": reasons, "monitoring.rejected_at": now_iso(), **audit,
    })


def rollback(client: MlflowClient, registered_model: str, champion_alias: str, target: str,
             audit: Mapping[str, Any]) -> str:
    current = version_for(client, registered_model, champion_alias)
    if current is None:
        raise ValueError(f"{registered_model} has no {champion_alias!r} to roll back")
    client.set_registered_model_alias(registered_model, champion_alias, target)
    tag_version(client, registered_model, current, {ROLLED_BACK: "true", "monitoring.rolled_back_at": now_iso(),
                                                    "monitoring.rolled_back_to": target, **audit})
    tag_version(client, registered_model, target, {DECISION: "restored_by_rollback",
                                                   "monitoring.restored_at": now_iso()})
    return current
