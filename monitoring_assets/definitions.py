"""The Dagster code location: built from `monitoring.yaml` when Dagster loads it."""

import dagster as dg

from monitoring_assets.wiring import build_definitions
from monitoring_assets.config import load_config


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_config())
