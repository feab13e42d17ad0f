"""Interpreters of their own for the tools the benchmarks compare with: they are not project
dependencies (NannyML and Evidently need pandas 2) and never run in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def interpreter_with(venv: Path, packages: list[str]) -> Path:
    """The Python of `venv`, made with `packages` if it does not exist yet."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"making a virtualenv at {venv} with {', '.join(packages)} (a few minutes) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-cache-dir", *packages], check=True)
    return python


def quiet_environment(home: Path) -> dict[str, str]:
    """For a rival's process: its usage reporting off (NannyML posts to segment.io, Evidently to
    its own collector) and its home in the benchmark's temporary folder."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "DO_NOT_TRACK": "1",
            "NML_DISABLE_USAGE_LOGGING": "1", "ITERATIVE_DO_NOT_TRACK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
