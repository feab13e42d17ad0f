"""Monitoring results written back to MLflow: one run per model version, one point per
metric per partition, so that MLflow's own UI charts performance over time.

MLflow cannot delete a single metric point. When a partition is recomputed with different
values (more labels arrived), the version's run is rebuilt: a new run gets every other point
and artifact plus the new values, and the old run is deleted. A rerun with the same values
logs nothing. Either way the run holds exactly one value per metric per partition, and a
rebuild becomes visible only once complete (`monitoring.complete`).
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mlflow.entities import Metric, RunStatus
from mlflow.tracking import MlflowClient

MONITORING_EXPERIMENT = "model-monitoring"
TAG_MONITORING = "monitoring"
TAG_MODEL = "monitoring.registered_model"
TAG_VERSION = "monitoring.version"
TAG_KIND = "monitoring.kind"
TAG_COMPLETE = "monitoring.complete"
_BATCH = 900  # MLflow accepts 1000 metrics per log_batch call


# Values equal to this relative tolerance are the same value: a metric read back from MLflow's
# store, or recomputed in another float order, must not rebuild the run.
VALUE_TOLERANCE = 1e-9


def same_value(stored: float, new: float) -> bool:
    return math.isclose(stored, new, rel_tol=VALUE_TOLERANCE, abs_tol=1e-12)


def partition_step(start: dt.datetime, grain_seconds: int) -> int:
    """A stable step that reads as the partition's date in MLflow's charts: 20261117 for a day,
    2026111713 for an hour. It is the same however often a run is rebuilt."""
    if grain_seconds >= 86_400:
        return int(start.strftime("%Y%m%d"))
    return int(start.strftime("%Y%m%d%H"))


def find_monitoring_run(client: MlflowClient, experiment_id: str, registered_model: str, version: str,
                        tidy: bool = False) -> str | None:
    """The version's complete monitoring run. A rebuild that died half-way (its run still
    tagged incomplete) is deleted, never written into; of two complete runs (a rebuild that
    died after completing, before deleting the old run) the newer one, which holds every
    point, is kept. With `tidy` (a writer's lookup) the others are deleted: writers of one model
    are serialized (a pool of one slot), so an incomplete run a writer sees is an orphan."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`{TAG_MONITORING}` = 'true' and tags.`{TAG_MODEL}` = '{registered_model}' "
            f"and tags.`{TAG_VERSION}` = '{version}' and tags.`{TAG_KIND}` = 'version'"
        ),
        order_by=["attributes.start_time DESC"],
    )
    # Runs written before the tag existed are complete.
    complete = [r for r in runs if r.data.tags.get(TAG_COMPLETE, "true") == "true"]
    for run in runs if tidy else ():
        if run is not (complete[0] if complete else None):
            client.delete_run(run.info.run_id)
    return complete[0].info.run_id if complete else None


def _create_run(client: MlflowClient, registered_model: str, version: str, experiment_id: str,
                complete: bool = True) -> str:
    run = client.create_run(
        experiment_id,
        run_name=f"monitoring {registered_model} v{version}",
        tags={
            TAG_MONITORING: "true", TAG_MODEL: registered_model, TAG_VERSION: str(version),
            TAG_KIND: "version", TAG_COMPLETE: "true" if complete else "false", "mlflow.note.content":
                f"Production monitoring of {registered_model} version {version}: one step per partition.",
        },
    )
    client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FINISHED))
    return run.info.run_id


def _log_points(client: MlflowClient, run_id: str, points: list[Metric]) -> None:
    for start in range(0, len(points), _BATCH):
        client.log_batch(run_id, metrics=points[start:start + _BATCH])


def _copy_artifacts(client: MlflowClient, source_run: str, target_run: str) -> None:
    if not client.list_artifacts(source_run):
        return
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(source_run, "", tmp)
        for child in Path(local).iterdir():
            if child.is_dir():
                client.log_artifacts(target_run, str(child), child.name)
            else:
                client.log_artifact(target_run, str(child))


def record_partition(
    client: MlflowClient,
    experiment_id: str,
    registered_model: str,
    version: str,
    partition_start: dt.datetime,
    grain_seconds: int,
    metrics: Mapping[str, float],
    artifacts: Mapping[str, str | bytes] | None = None,
    partition_key: str | None = None,
) -> str:
    """Write one partition's values to the version's monitoring run; returns the run id."""
    step = partition_step(partition_start, grain_seconds)
    timestamp = int(partition_start.timestamp() * 1000)
    values = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
    run_id = find_monitoring_run(client, experiment_id, registered_model, version, tidy=True)
    if run_id is None:
        run_id = _create_run(client, registered_model, version, experiment_id)

    histories = {key: client.get_metric_history(run_id, key) for key in values}
    at_step = {key: [p for p in history if p.step == step] for key, history in histories.items()}
    unchanged = all(len(points) == 1 and same_value(points[0].value, values[key]) for key, points in at_step.items())
    fresh = all(not points for points in at_step.values())
    new_points = [Metric(key, value, timestamp, step) for key, value in values.items()]

    if not (unchanged or fresh):
        old_run = run_id
        # Invisible to the lookup until complete: a kill or an MLflow outage part-way leaves an
        # orphan that the next write deletes, and the old run, whole, in use.
        run_id = _create_run(client, registered_model, version, experiment_id, complete=False)
        kept: list[Metric] = []
        for key in client.get_run(old_run).data.metrics:
            for point in client.get_metric_history(old_run, key):
                if key in values and point.step == step:
                    continue
                kept.append(Metric(key, point.value, point.timestamp, point.step))
        _log_points(client, run_id, kept + new_points)
        _copy_artifacts(client, old_run, run_id)
        client.set_tag(run_id, TAG_COMPLETE, "true")
        client.delete_run(old_run)
    elif not unchanged:
        _log_points(client, run_id, new_points)
    if artifacts:
        folder = f"partitions/{partition_key or step}"
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in artifacts.items():
                path = Path(tmp) / name
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content)
                client.log_artifact(run_id, str(path), folder)
    return run_id


def record_comparison(client: MlflowClient, experiment_id: str, registered_model: str,
                      artifacts: Mapping[str, str]) -> str:
    """Keep the version comparison table on one model-level run, replaced on each write."""
    return record_model_run(client, experiment_id, registered_model, "comparison",
                            f"version comparison {registered_model}", artifacts)


def record_model_run(client: MlflowClient, experiment_id: str, registered_model: str, kind: str, run_name: str,
                     artifacts: Mapping[str, str]) -> str:
    """One model-level run per kind (comparison, report) whose artifacts each write replaces."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{TAG_MODEL}` = '{registered_model}' and tags.`{TAG_KIND}` = '{kind}'",
    )
    if runs:
        run_id = runs[0].info.run_id
    else:
        run = client.create_run(
            experiment_id, run_name=run_name,
            tags={TAG_MONITORING: "true", TAG_MODEL: registered_model, TAG_KIND: kind},
        )
        run_id = run.info.run_id
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in artifacts.items():
            path = Path(tmp) / name
            path.write_text(content, encoding="utf-8")
            client.log_artifact(run_id, str(path))
    return run_id
