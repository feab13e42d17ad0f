"""New-data and labels sensors: each new or rewritten file requests its partition once."""

import json

import dagster as dg

from monitoring_assets.config import ModelConfig
from monitoring_assets.config.models import SensorsConfig
from monitoring_assets.sensors.file_scan import changed_partitions, partition_digest, scan_location


def build_landing_sensor(
    model: ModelConfig,
    kind: str,
    location: str,
    job_name: str,
    partitions_def: dg.PartitionsDefinition,
    settings: SensorsConfig,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{model.name}_{kind}_sensor",
        job_name=job_name,
        minimum_interval_seconds=settings.landing_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING if settings.default_running else dg.DefaultSensorStatus.STOPPED,
        description=f"Requests a {job_name} run for each partition whose {kind} files appear or change "
        f"under {location}.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        previous = json.loads(context.cursor) if context.cursor else {}
        current = scan_location(location)
        changed = changed_partitions(previous, current)
        known = set(partitions_def.get_partition_keys())
        requests = []
        for partition in sorted(changed):
            if partition not in known:
                context.log.warning(f"{model.name}: {kind} files for {partition!r}, which is not a partition; ignored")
                continue
            requests.append(dg.RunRequest(
                partition_key=partition,
                run_key=f"{kind}:{partition}:{partition_digest(current, partition)}",
                tags={"monitoring/trigger": kind, "monitoring/files": str(len(changed[partition]))},
            ))
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(current, sort_keys=True))

    return landing_sensor
