import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from monitoring_assets.assets.factory import build_model_assets
from monitoring_assets.config import ConfigError, load_config, parse_config
from monitoring_assets.wiring import build_definitions


def minimal_model(name: str, tmp_path: Path) -> dict:
    return {
        "name": name,
        "registered_model": f"{name}-model",
        "task": "binary",
        "partitions": {"grain": "daily", "start": "2026-01-01"},
        "inference": {"location": str(tmp_path / name / "inference")},
        "labels": {"location": str(tmp_path / name / "labels")},
    }


def config_dict(tmp_path: Path, *names: str) -> dict:
    return {
        "mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"},
        "storage": {"root": str(tmp_path / "storage")},
        "models": [minimal_model(n, tmp_path) for n in names],
    }


def test_a_misspelt_key_is_named_with_its_model(tmp_path):
    data = config_dict(tmp_path, "churn")
    data["models"][0]["thresholdz"] = {}
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="monitoring.yaml")
    message = str(info.value)
    assert "monitoring.yaml" in message
    assert "models[0](churn).thresholdz" in message
    assert "unknown key" in message


def test_a_wrong_value_names_the_key_and_the_reason(tmp_path):
    data = config_dict(tmp_path, "churn")
    data["models"][0]["task"] = "ranking"
    data["models"][0]["drift"] = {"default": {"warn": 0.3, "error": 0.1}}
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    message = str(info.value)
    assert "models[0](churn).task" in message and "binary" in message
    assert "models[0](churn).drift.default" in message and "must not be below warn" in message


def test_missing_file_and_bad_yaml_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(bad)


def test_duplicate_model_names_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="used twice"):
        parse_config(config_dict(tmp_path, "churn", "churn"))


def test_performance_thresholds_default_by_task(tmp_path):
    data = config_dict(tmp_path, "churn")
    data["models"][0]["task"] = "regression"
    model = parse_config(data).models[0]
    assert list(model.performance) == ["rmse"]
    assert model.performance["rmse"].greater_is_better is False


def test_two_models_give_two_disjoint_asset_groups(tmp_path):
    config = parse_config(config_dict(tmp_path, "churn", "fraud"))
    defs = build_definitions(config)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    churn = {k for k in keys if k.startswith("churn/")}
    fraud = {k for k in keys if k.startswith("fraud/")}
    assert churn and fraud and churn | fraud == keys
    assert {k.split("/", 1)[1] for k in churn} == {k.split("/", 1)[1] for k in fraud}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in (key.path[0], f"{key.path[0]}_promotion", "model_health")
        # The model's own group is one partition's work; what spans partitions is apart.
        assert (node.group_name == key.path[0]) == (node.partitions_def is not None)
        assert (node.group_name == "model_health") == (key.path[1] == "health")
        for parent in node.parent_keys:
            assert parent.path[0] == key.path[0]
    assert {c.name for a in build_model_assets(config.models[0]) for c in a.check_keys} == {
        "schema_valid", "drift_within_limits", "performance_vs_baseline", "label_coverage", "latency_slo",
        "labels_consistent",
        "candidate_meets_thresholds", "candidate_signature_compatible", "candidate_prediction_drift",
        "evaluation_window_labeled", "model_healthy", "data_freshness",
        "estimated_performance_vs_baseline", "estimate_reconciled",
    }


def test_the_code_location_loads_and_validates(tmp_path):
    config_file = tmp_path / "monitoring.yaml"
    config_file.write_text(yaml.safe_dump(config_dict(tmp_path, "churn")))
    workspace = Path(__file__).resolve().parents[2] / "workspace.yaml"
    env = {"MONITORING_CONFIG": str(config_file), "DAGSTER_HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", str(workspace)],
        capture_output=True, text=True, env=env, cwd=workspace.parent, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_the_tracking_uri_may_come_from_the_environment(tmp_path, monkeypatch):
    data = config_dict(tmp_path, "churn")
    data["mlflow"] = {}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert parse_config(data).mlflow.tracking_uri == "http://127.0.0.1:5999"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    with pytest.raises(ConfigError, match=r"mlflow: .*MLFLOW_TRACKING_URI"):
        parse_config(data)
