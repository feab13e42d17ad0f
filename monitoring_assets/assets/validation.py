"""validated_batch: Pandera validation against the schema derived from MLflow."""


import dagster as dg
import pandas as pd

from monitoring_assets.assets.common import markdown_table, partition_check_spec
from monitoring_assets.assets.names import (
    INFERENCE_BATCH,
    SCHEMA_CHECK,
    VALIDATED_BATCH,
)
from monitoring_assets.config import ModelConfig
from monitoring_assets.health.status import escape_markdown
from monitoring_assets.registry.served import frame_version
from monitoring_assets.resources import MlflowRegistry, MonitoringStorage
from monitoring_assets.validation.readers import SOURCE_FILE_COLUMN
from monitoring_assets.validation.schema import InferenceSchema, schema_for
from monitoring_assets.validation.validate import ValidationOutcome, validate_batch
from monitoring_assets.validation.verdict import judge

_DAGSTER_TYPES = {"float": "float", "int": "int", "str": "string", "bool": "bool", "datetime": "datetime"}


def table_schema(schema: InferenceSchema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=row["column"],
                type=_DAGSTER_TYPES.get(row["type"], row["type"]),
                description=f"{row['role']}; " + "; ".join(row["checks"]),
                constraints=dg.TableColumnConstraints(nullable=row["nullable"]),
            )
            for row in schema.describe()
        ]
    )


def schema_check_result(model: ModelConfig, outcome: ValidationOutcome, version: str | None = None) -> dg.AssetCheckResult:
    verdict = judge(outcome, model.schema_policy.max_quarantine_share)
    report = outcome.grouped_report()
    return dg.AssetCheckResult(
        check_name=SCHEMA_CHECK,
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity(verdict.severity),
        description=escape_markdown(verdict.description),  # it names columns and values from the data
        metadata={
            "status": verdict.status,
            "rows_in": outcome.rows_in,
            "rows_valid": outcome.rows_valid,
            "rows_quarantined": outcome.rows_quarantined,
            "observed": outcome.quarantined_share,
            "threshold": model.schema_policy.max_quarantine_share,
            "baseline": "schema from the MLflow signature and reference profile",
            "version": version or "",
            "failures": markdown_table(report, ["level", "column", "check", "rows", "examples", "files"]),
            "extra_columns": dg.MetadataValue.json(outcome.extra_columns),
        },
    )


def build_validated_batch(model: ModelConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=VALIDATED_BATCH,
        key_prefix=[model.name],
        owners=model.owners or None,
        tags=model.tags or None,
        group_name=model.name,
        partitions_def=partitions_def,
        ins={"inference_batch": dg.AssetIn(key=[model.name, INFERENCE_BATCH])},
        io_manager_key="frame_io_manager",
        kinds={"pandera", "pandas"},
        check_specs=[
            partition_check_spec(
                SCHEMA_CHECK, [model.name, VALIDATED_BATCH], partitions_def,
                "Rows and columns match the schema derived from the MLflow signature "
                "and reference profile; bad rows are quarantined.",
                blocking=True,
            )
        ],
        description="Rows of the inference batch that pass the Pandera schema.",
    )
    def validated_batch(
        context: dg.AssetExecutionContext,
        inference_batch: pd.DataFrame,
        mlflow: MlflowRegistry,
        storage: MonitoringStorage,
    ):
        registry = mlflow.registry
        champion = registry.version_for_alias(model.registered_model, model.champion_alias)
        version = frame_version(inference_batch, model.columns.model_version, champion)
        schema = schema_for(model, registry.baseline(model.registered_model, version))
        files = (
            sorted(inference_batch[SOURCE_FILE_COLUMN].unique().tolist())
            if SOURCE_FILE_COLUMN in inference_batch else []
        )
        outcome = validate_batch(inference_batch, schema, files)
        quarantine_path = storage.write_quarantine(model.name, context.partition_key, outcome.quarantined)
        for line in outcome.render().splitlines():
            context.log.info(line)
        # Only the columns the model knows go on to be stored and profiled: extra ones are
        # reported (and kept in the landed inference batch), so 10,000 stray columns cost no
        # profile of 10,000 columns.
        known = set(schema.columns) | set(model.columns.segments) | set(model.columns.class_scores.values()) | {
            model.columns.label}
        valid = outcome.valid[[c for c in outcome.valid.columns if c in known]]
        yield dg.Output(
            valid,
            metadata={
                "dagster/row_count": outcome.rows_valid,
                "dagster/column_schema": table_schema(schema),
                "rows_in": outcome.rows_in,
                "rows_valid": outcome.rows_valid,
                "rows_quarantined": outcome.rows_quarantined,
                "quarantine_file": quarantine_path or "",
                "extra_columns_left_out": len(outcome.extra_columns),
                "schema_from_version": version,
            },
        )
        yield schema_check_result(model, outcome, version)

    return validated_batch
