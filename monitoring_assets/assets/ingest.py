"""Assets that read one partition of the landing zone: inference logs and late labels."""


import dagster as dg
import pandas as pd

from monitoring_assets.assets.common import partition_check_spec
from monitoring_assets.assets.names import (
    INFERENCE_BATCH,
    LABELS,
    LABELS_CONSISTENT_CHECK,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.validation.labels import LabelSettlement, settle_labels
from monitoring_assets.validation.readers import PartitionReadError, read_partition


def _read_or_fail(context: dg.AssetExecutionContext, location: str, partition: str,
                  delimiter: str, in_arrival_order: bool = False) -> tuple[pd.DataFrame, list[str], list[str]]:
    try:
        data = read_partition(location, partition, delimiter, in_arrival_order)
    except PartitionReadError as exc:
        raise dg.Failure(
            description=str(exc),
            metadata={
                "unreadable_files": dg.MetadataValue.json(
                    [{"file": f.path, "reason": f.reason} for f in exc.failures]
                ),
                "readable_files_left_in_place": dg.MetadataValue.json(exc.readable),
            },
            allow_retries=False,
        ) from None
    if data.ignored_links:
        context.log.warning(f"partition {partition}: {len(data.ignored_links)} link(s) resolve outside the landing "
                            f"root {location} and were not read: {', '.join(data.ignored_links[:5])}")
    return data.frame, data.files, data.ignored_links


def build_inference_batch(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=INFERENCE_BATCH,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        io_manager_key="frame_io_manager",
        kinds={"pandas", "parquet"},
        description=f"Inference logs of {model.registered_model} for one partition, as landed.",
    )
    def inference_batch(context: dg.AssetExecutionContext) -> dg.Output[pd.DataFrame]:
        partition = context.partition_key
        frame, files, ignored = _read_or_fail(context, model.inference.location, partition,
                                              model.inference.csv_delimiter)
        status = "ok" if files else "no data for partition"
        if not files:
            context.log.warning(f"{model.name}: no inference files for partition {partition}")
        return dg.Output(
            frame,
            metadata={
                "dagster/row_count": len(frame),
                "files": len(files),
                "file_names": dg.MetadataValue.json(files),
                "status": status,
                "location": model.inference.location,
                "ignored_links": dg.MetadataValue.json(ignored),
            },
        )

    return inference_batch


def labels_check(model: ModelConfig, settlement: LabelSettlement) -> dg.AssetCheckResult:
    limit = model.labels_policy.max_conflict_share
    share = settlement.conflict_share
    passed = share <= limit
    description = (f"{settlement.conflicting_ids} of {settlement.labelled_ids} labelled ids got contradicting labels "
                   f"({share:.2%}; at most {limit:.0%}); {settlement.duplicate_rows} repeated rows; {settlement.rule}")
    return dg.AssetCheckResult(
        check_name=LABELS_CONSISTENT_CHECK, passed=passed, severity=dg.AssetCheckSeverity.WARN,
        description=description if not passed or settlement.duplicate_rows else f"one label per id; {settlement.rule}",
        metadata={"observed": share, "threshold": limit, "conflicting_ids": settlement.conflicting_ids,
                  "duplicate_rows": settlement.duplicate_rows, "labelled_ids": settlement.labelled_ids,
                  "rule": settlement.rule},
    )


def build_labels(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=LABELS,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        io_manager_key="frame_io_manager",
        kinds={"pandas", "parquet"},
        check_specs=[
            partition_check_spec(LABELS_CONSISTENT_CHECK, [model.name, LABELS], partitions_def,
                                 "Label files do not contradict themselves: few ids get different labels "
                                 "from different rows (the latest label wins)."),
        ],
        description="Ground-truth labels for the partition's predictions; they arrive late. Files are applied "
                    "in the order they landed, or by the label time column, so a correction wins.",
    )
    def labels(context: dg.AssetExecutionContext):
        partition = context.partition_key
        frame, files, ignored = _read_or_fail(context, model.labels.location, partition, model.labels.csv_delimiter,
                                              in_arrival_order=True)
        roles = model.columns
        if files and (roles.id not in frame or roles.label not in frame):
            missing = [c for c in (roles.id, roles.label) if c not in frame]
            raise dg.Failure(
                description=(
                    f"label files of partition {partition} lack column(s) {missing}: "
                    f"{', '.join(files)}"
                ),
                allow_retries=False,
            )
        if files:
            frame, settlement = settle_labels(frame, roles.id, roles.label, model.labels_policy.time_column)
        else:
            frame = pd.DataFrame({roles.id: pd.Series(dtype="str"), roles.label: pd.Series(dtype="float64")})
            settlement = LabelSettlement(0, 0, 0, 0, "no label files")
        yield dg.Output(
            frame,
            metadata={
                "dagster/row_count": len(frame),
                "files": len(files),
                "file_names": dg.MetadataValue.json(files),
                "ignored_links": dg.MetadataValue.json(ignored),
                "duplicate_label_rows": settlement.duplicate_rows,
                "conflicting_label_ids": settlement.conflicting_ids,
            },
        )
        yield labels_check(model, settlement)

    return labels
