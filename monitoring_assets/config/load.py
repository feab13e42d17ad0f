"""Reading and validating `monitoring.yaml`, with errors that name the offending key."""

from __future__ import annotations

import importlib
import os
import tempfile
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
    config = parse_config(data, source=str(resolved))
    check_environment(config, str(resolved))
    return config


def check_environment(config: MonitoringConfig, source: str) -> None:
    """What the file cannot show by itself: the training functions import, and a local
    storage root can be written. Each problem names the file and the key."""
    problems = []
    for index, model in enumerate(config.models):
        target = model.remediation.training_function
        if not target:
            continue
        key = f"models[{index}]({model.name}).remediation.training_function"
        module_name, _, function = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # any failure to import is the user's to see, with its kind
            problems.append(f"  {key}: cannot import {module_name!r}: {type(exc).__name__}: {exc}")
            continue
        if not callable(getattr(module, function, None)):
            problems.append(f"  {key}: {module_name!r} has no function {function!r}")
    root = config.storage.root
    if "://" not in root or root.startswith("file://"):
        # A probe, not os.access: permissions alone do not say a read-only or full volume (or
        # /proc) refuses, and root passes every access check. It writes only inside the root.
        local = Path(root.removeprefix("file://")).expanduser()
        try:
            local.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=local, prefix=".write-probe-"):
                pass
        except OSError as exc:
            problems.append(f"  storage.root: {root} cannot be written: {exc.strerror or exc}")
    if problems:
        raise ConfigError(f"{source}: unusable configuration\n" + "\n".join(problems))
