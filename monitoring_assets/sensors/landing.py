"""New-data and labels sensors: each new or rewritten file requests its partition once.

Each tick looks only at the partitions of a look-back window that ends at the newest
partition, and the cursor keeps the file versions of that window alone, so neither the
tick's time nor the cursor grows with the landing zone's history. A file that lands for a
partition older than the window is not seen by the sensor: run it by hand
(`monitoring-assets run`), as a backfill.
"""

import json

import dagster as dg

from monitoring_assets.config import ModelConfig
from monitoring_assets.config.models import SensorsConfig
from monitoring_assets.sensors.file_scan import changed_partitions, partition_digest, scan_partitions


def recent_partitions(partitions_def: dg.TimeWindowPartitionsDefinition, count: int) -> list[str]:
    """The newest `count` partition keys, oldest first, without listing the whole history."""
    window = partitions_def.get_last_partition_window()
    keys: list[str] = []
    while window is not None and len(keys) < count:
        keys.append(window.start.strftime(partitions_def.fmt))
        window = partitions_def.get_prev_partition_window(window.start)
    return keys[::-1]


def lookback_partitions(model: ModelConfig, kind: str, settings: SensorsConfig) -> int:
    """Labels arrive late: their window reaches back past the label deadline."""
    count = settings.lookback_partitions
    if kind == "labels":
        grain_hours = 24 if model.partitions.grain == "daily" else 1
        count = max(count, int(model.labels_policy.deadline_hours // grain_hours) + 2)
    return count


def landing_sensor_name(model: ModelConfig, kind: str) -> str:
    return f"{model.name}_{kind}_sensor"


def build_landing_sensor(
    model: ModelConfig,
    kind: str,
    location: str,
    job_name: str,
    partitions_def: dg.TimeWindowPartitionsDefinition,
    settings: SensorsConfig,
) -> dg.SensorDefinition:
    lookback = lookback_partitions(model, kind, settings)

    @dg.sensor(
        name=landing_sensor_name(model, kind),
        job_name=job_name,
        minimum_interval_seconds=settings.landing_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING if settings.default_running else dg.DefaultSensorStatus.STOPPED,
        description=f"Requests a {job_name} run for each partition whose {kind} files appear or change "
        f"under {location}, within the newest {lookback} partitions.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {}
        window = recent_partitions(partitions_def, lookback)
        if not window:
            return dg.SensorResult(skip_reason=f"{model.name}: no partition has started yet")
        # A cursor from before the look-back window was a flat map of every file ever seen.
        previous = state.get("files", {}) if "files" in state else state
        current = scan_partitions(location, window)
        changed = changed_partitions(previous, current)
        requests = [
            dg.RunRequest(
                partition_key=partition,
                run_key=f"{kind}:{partition}:{partition_digest(current, partition)}",
                tags={"monitoring/trigger": kind, "monitoring/files": str(len(changed[partition]))},
            )
            for partition in sorted(changed)
        ]
        cursor = {"watermark": window[0], "files": current}
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return landing_sensor
