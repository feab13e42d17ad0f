"""Small helpers shared by the asset modules."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from monitoring_assets.health.status import escape_markdown
from monitoring_assets.resources.io_managers import COLUMNS_LEFT_OUT_METADATA, COLUMNS_METADATA


def reading_only(*columns: str | None) -> dict[str, list[str]]:
    """AssetIn metadata that makes the frame IO manager read just these columns."""
    return {COLUMNS_METADATA: [c for c in dict.fromkeys(columns) if c]}


def leaving_out(*columns: str | None) -> dict[str, list[str]]:
    """AssetIn metadata that makes the frame IO manager read every column but these."""
    return {COLUMNS_LEFT_OUT_METADATA: [c for c in dict.fromkeys(columns) if c]}


def finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def markdown_table(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            if isinstance(value, float):
                value = f"{value:.4g}"
            # Cells hold data (category values, column names): links, images and HTML stay text.
            cells.append(escape_markdown(str(value)))
        lines.append("| " + " | ".join(cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def float_metadata(values: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Finite numbers only: the UI plots numeric metadata over partitions."""
    result = {}
    for key, value in values.items():
        number = finite_or_none(value)
        if number is not None:
            result[f"{prefix}{key}"] = number
    return result


def partition_check_spec(name: str, asset: list[str], partitions_def: dg.PartitionsDefinition,
                         description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    """A check whose evaluations are stored per partition, so the UI shows each partition's
    verdict rather than the newest one. `partitions_def` on a check spec is a preview in
    Dagster 1.13 (pinned in pyproject.toml); its warning is kept out of users' logs here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")
        return dg.AssetCheckSpec(name, asset=asset, description=description, blocking=blocking,
                                 partitions_def=partitions_def)
