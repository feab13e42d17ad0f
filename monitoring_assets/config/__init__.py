"""The monitoring configuration: one YAML file that lists the monitored models."""

from monitoring_assets.config.load import ConfigError, load_config, parse_config
from monitoring_assets.config.models import (
    ColumnRoles,
    DriftThreshold,
    ModelConfig,
    MonitoringConfig,
    PerformanceThreshold,
)

__all__ = [
    "ColumnRoles",
    "ConfigError",
    "DriftThreshold",
    "ModelConfig",
    "MonitoringConfig",
    "PerformanceThreshold",
    "load_config",
    "parse_config",
]
