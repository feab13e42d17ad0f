"""Fault (trust): loading a candidate through pyfunc can run pickled code, and the run worker
that loads it holds the alert channels' secrets. Candidates are now scored in a child process
whose environment is an allowlist: the code in the model sees no secret.
"""

import mlflow.pyfunc
import pandas as pd

from monitoring_assets.promotion.scoring import ScoringFailed, score_isolated


def save_snooping_model(path) -> None:
    class Snoop(mlflow.pyfunc.PythonModel):  # defined here, so pickled by value, as an attacker's would be
        def predict(self, context, model_input, params=None):
            import os

            seen = [k for k in os.environ if "WEBHOOK" in k or "PASSWORD" in k or "TOKEN" in k]
            if model_input["x"].iloc[0] < 0:
                raise ValueError("rows: " + ",".join(map(str, model_input["x"])))
            return pd.Series([len(seen)] * len(model_input))

    mlflow.pyfunc.save_model(str(path), python_model=Snoop())


def test_the_scoring_process_sees_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("ONCALL_WEBHOOK_URL", "https://hooks.example/T000/B000/XXXX")
    monkeypatch.setenv("ONCALL_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "token-123")
    save_snooping_model(tmp_path / "model")
    predictions, scores = score_isolated(str(tmp_path / "model"), "regression", pd.DataFrame({"x": [1.0, 2.0]}))
    assert predictions.tolist() == [0, 0]  # no secret variable was visible to the model's code
    assert scores is None


def test_a_model_that_fails_reports_its_error_kind_not_the_rows(tmp_path):
    save_snooping_model(tmp_path / "model")
    try:
        score_isolated(str(tmp_path / "model"), "regression", pd.DataFrame({"x": [-1.0, 123456.0]}))
    except ScoringFailed as exc:
        assert "123456" not in str(exc)
    else:
        raise AssertionError("the failing model should have raised")
