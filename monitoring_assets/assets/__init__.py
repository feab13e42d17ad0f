"""Dagster assets and checks of each monitored model, built by one factory."""

from monitoring_assets.assets.factory import build_model_assets, partitions_for

__all__ = ["build_model_assets", "partitions_for"]
