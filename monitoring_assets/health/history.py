"""What the Dagster instance knows of a model: each partition's latest check verdicts and the
newest partition that brought inference rows. Shared by the health asset, the status command
and the demo, so they read the same history the same way."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import dagster as dg

from monitoring_assets.assets.partitions import partitions_for
from monitoring_assets.assets.names import (
    ESTIMATED_CHECK,
    ESTIMATED_PERFORMANCE,
    RECONCILED_CHECK,
    DRIFT_CHECK,
    FEATURE_DRIFT,
    INFERENCE_BATCH,
    LABEL_COVERAGE_CHECK,
    LATENCY_SLO_CHECK,
    MODEL_PERFORMANCE,
    PERFORMANCE_CHECK,
    SCHEMA_CHECK,
    SERVICE_HEALTH,
    VALIDATED_BATCH,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.health.status import CheckOutcome

# Each monitoring check and the asset it is attached to.
CHECK_ASSETS = {
    SCHEMA_CHECK: VALIDATED_BATCH,
    DRIFT_CHECK: FEATURE_DRIFT,
    PERFORMANCE_CHECK: MODEL_PERFORMANCE,
    LABEL_COVERAGE_CHECK: MODEL_PERFORMANCE,
    LATENCY_SLO_CHECK: SERVICE_HEALTH,
    ESTIMATED_CHECK: ESTIMATED_PERFORMANCE,
    RECONCILED_CHECK: ESTIMATED_PERFORMANCE,
}
# Check executions read per check: a year of daily partitions, each re-run a few times.
HISTORY_LIMIT = 2000


def plain(value: Any) -> Any:
    raw = getattr(value, "value", value)
    if isinstance(raw, (str, int, float, bool)) or raw is None:
        return raw
    if isinstance(raw, (list, dict)):
        return json.loads(json.dumps(raw, default=str))
    return str(raw)


def check_outcomes(instance: dg.DagsterInstance, model: ModelConfig,
                   limit: int = HISTORY_LIMIT) -> dict[str, dict[str, CheckOutcome]]:
    """partition -> check -> the latest evaluation of that check on that partition."""
    outcomes: dict[str, dict[str, CheckOutcome]] = defaultdict(dict)
    run_partitions: dict[str, str | None] = {}
    for check, asset in CHECK_ASSETS.items():
        key = dg.AssetCheckKey(dg.AssetKey([model.name, asset]), check)
        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=limit)
        for record in records:  # newest first
            entry = record.event
            data = entry.dagster_event.event_specific_data if entry is not None and entry.dagster_event else None
            if data is None or not hasattr(data, "passed"):
                continue  # planned or skipped: no verdict
            partition = record.partition or getattr(data, "partition", None) or _run_partition(
                instance, record.run_id, run_partitions)
            if partition is None or check in outcomes[partition]:
                continue
            outcomes[partition][check] = CheckOutcome(
                passed=bool(data.passed), severity=data.severity.value, description=data.description or "",
                metadata={k: plain(v) for k, v in data.metadata.items()},
            )
    return dict(outcomes)


def _run_partition(instance: dg.DagsterInstance, run_id: str, cache: dict[str, str | None]) -> str | None:
    # Evaluations stored before the checks were partitioned carry the partition on their run.
    if run_id not in cache:
        run = instance.get_run_by_id(run_id)
        cache[run_id] = run.tags.get("dagster/partition") if run else None
    return cache[run_id]


def newest_partition_with_data(instance: dg.DagsterInstance, model: ModelConfig, limit: int = 500) -> str | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey([model.name, INFERENCE_BATCH])), limit=limit, ascending=False,
    ).records
    newest = None
    for record in records:
        materialization = record.asset_materialization
        rows = plain(materialization.metadata.get("dagster/row_count")) if materialization else None
        if record.partition_key and isinstance(rows, int) and rows > 0:
            newest = max(newest or record.partition_key, record.partition_key)
    return newest


def expected_partition(model: ModelConfig, now: dt.datetime | None = None) -> str | None:
    """The newest partition whose inference data is due by `now`."""
    partitions_def = partitions_for(model)
    now = now or dt.datetime.now(dt.timezone.utc)
    grain = dt.timedelta(days=1) if model.partitions.grain == "daily" else dt.timedelta(hours=1)
    delay = dt.timedelta(hours=model.freshness.max_delay_hours) if model.freshness.max_delay_hours else 2 * grain
    window = partitions_def.get_last_partition_window()
    while window is not None and window.end + delay > now:
        window = partitions_def.get_prev_partition_window(window.start)
    return window.start.strftime(partitions_def.fmt) if window is not None else None
