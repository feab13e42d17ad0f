"""Reading and validating `monitoring.yaml`, with errors that name the offending key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitoring_assets.config.models import MonitoringConfig

CONFIG_ENV_VAR = "MONITORING_CONFIG"


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names the file, key and reason."""


def _key_path(loc: tuple[Any, ...], data: Any) -> str:
    # pydantic reports list positions; a model's name is what a user searches the file for.
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            node = node[item]
            name = node.get("name") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{item}]" + (f"({name})" if name else "")
            continue
        parts.append(str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_config(data: Any, source: str = "<config>") -> MonitoringConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return MonitoringConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _key_path(tuple(err["loc"]), data) or "<top level>"
            reason = err["msg"]
            if err["type"] == "extra_forbidden":
                reason = "unknown key (misspelt?)"
            lines.append(f"  {key}: {reason}")
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(lines)) from None


def load_config(path: str | os.PathLike[str] | None = None) -> MonitoringConfig:
    """Load the config from `path`, or from $MONITORING_CONFIG, or ./monitoring.yaml."""
    resolved = Path(path or os.environ.get(CONFIG_ENV_VAR) or "monitoring.yaml")
    if not resolved.exists():
        raise ConfigError(
            f"{resolved}: configuration file not found "
            f"(pass --config or set {CONFIG_ENV_VAR})"
        )
    try:
        data = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{resolved}: not valid YAML: {exc}") from None
    return parse_config(data, source=str(resolved))
