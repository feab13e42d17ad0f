"""A model's time partitions, from its config."""

from __future__ import annotations

import dagster as dg

from monitoring_assets.config import ModelConfig


def partitions_for(model: ModelConfig) -> dg.TimeWindowPartitionsDefinition:
    spec = model.partitions
    if spec.grain == "hourly":
        return dg.HourlyPartitionsDefinition(
            start_date=spec.start.strftime("%Y-%m-%d-%H:%M"),
            end_date=spec.end.strftime("%Y-%m-%d-%H:%M") if spec.end else None,
            timezone=spec.timezone,
        )
    return dg.DailyPartitionsDefinition(
        start_date=spec.start.strftime("%Y-%m-%d"),
        end_date=spec.end.strftime("%Y-%m-%d") if spec.end else None,
        timezone=spec.timezone,
    )
