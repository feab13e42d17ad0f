"""Scoring a model version in a child process that holds no secrets (no Dagster here).

Loading a model through MLflow pyfunc can run pickled code, so whoever can set the candidate
alias can run code wherever the candidate is loaded. The run worker holds the alert channels'
secrets (webhook URLs, SMTP passwords) and the stores' credentials; the child gets none of
them: its environment is an allowlist (paths, locale, temp folder), it reads the model from a
local copy and the rows from a file, and writes back only predictions.

    python -m monitoring_assets.promotion.scoring <model_dir> <task> <rows.parquet> <out.parquet>
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

# What a Python process needs to start and import the model's libraries; nothing else passes.
_ALLOWED_ENV = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")
_ALLOWED_PREFIXES = ("LC_",)


class ScoringFailed(RuntimeError):
    """The model could not score the rows; the message gives the error's kind, not the rows."""


def child_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k in _ALLOWED_ENV or k.startswith(_ALLOWED_PREFIXES)}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["WHYLOGS_NO_ANALYTICS"] = "1"
    return env


def score_isolated(model_dir: str, task: str, features: pd.DataFrame,
                   timeout_s: float = 600) -> tuple[pd.Series, pd.Series | None]:
    """Predictions (and the positive class's scores for a binary model) of the pyfunc model in
    `model_dir`, computed in a child process without the parent's secrets."""
    with tempfile.TemporaryDirectory(prefix="monitoring-scoring-") as tmp:
        rows, out = Path(tmp) / "rows.parquet", Path(tmp) / "predictions.parquet"
        features.reset_index(drop=True).to_parquet(rows, index=False)
        done = subprocess.run([sys.executable, "-m", "monitoring_assets.promotion.scoring", model_dir, task,
                               str(rows), str(out)], env=child_environment(), capture_output=True, text=True,
                              timeout=timeout_s, cwd=tmp)
        if done.returncode != 0 or not out.exists():
            kind = (done.stderr.strip().splitlines() or ["the scoring process died"])[-1].split(":", 1)[0]
            raise ScoringFailed(kind[:200])
        scored = pd.read_parquet(out)
    predictions = pd.Series(scored["prediction"].to_numpy(), index=features.index)
    scores = pd.Series(scored["score"].to_numpy(), index=features.index) if "score" in scored else None
    return predictions, scores


def _score(model_dir: str, task: str, rows: str, out: str) -> None:
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(model_dir)
    features = pd.read_parquet(rows)
    result = pd.DataFrame({"prediction": np.asarray(model.predict(features)).ravel()})
    if task == "binary":
        raw = model.get_raw_model() if hasattr(model, "get_raw_model") else None
        if raw is not None and hasattr(raw, "predict_proba"):
            result["score"] = raw.predict_proba(features)[:, 1]
    result.to_parquet(out, index=False)


if __name__ == "__main__":
    _score(*sys.argv[1:5])
