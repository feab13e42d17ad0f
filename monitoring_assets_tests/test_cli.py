"""The command line: check-file's exit codes, the schema printout, baseline registration."""

import yaml
from mlflow.tracking import MlflowClient

from monitoring_assets.cli import main
from monitoring_assets_tests.world import World, day


def world_with_config(tmp_path):
    world = World(tmp_path)
    world.register()
    config = tmp_path / "monitoring.yaml"
    config.write_text(yaml.safe_dump(world.config_dict()))
    return world, config


def test_check_file_exit_codes(tmp_path, capsys):
    world, config = world_with_config(tmp_path)
    world.write_day(day(0), with_labels=False)
    clean = next((world.inference / day(0)).iterdir())
    assert main(["check-file", "--model", "m", "--config", str(config), str(clean)]) == 0
    assert "PASS" in capsys.readouterr().out

    import pandas as pd

    bad_rows = tmp_path / "bad_rows.csv"
    frame = pd.read_parquet(clean)
    frame.loc[3, "x1"] = float("inf")
    frame.to_csv(bad_rows, index=False)
    assert main(["check-file", "--model", "m", "--config", str(config), str(bad_rows)]) == 1
    out = capsys.readouterr().out
    assert "column 'x1'" in out and "bad_rows.csv" in out and "finite" in out

    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"not parquet")
    assert main(["check-file", "--model", "m", "--config", str(config), str(corrupt)]) == 2
    assert "corrupt.parquet" in capsys.readouterr().out


def test_schema_command_prints_the_derived_schema(tmp_path, capsys):
    _, config = world_with_config(tmp_path)
    assert main(["schema", "--model", "m", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "m-model version 1" in out
    assert "column" in out.splitlines()[1] and "nullable" in out.splitlines()[1]
    assert any(line.startswith("x1 ") and "feature" in line for line in out.splitlines())
    assert "in_range(" in out and "unique" in out


def test_config_errors_exit_2_with_the_key(tmp_path, capsys):
    config = tmp_path / "monitoring.yaml"
    config.write_text("mlflow: {tracking_uri: x}\nstorage: {root: y}\nmodels: [{name: 'bad name'}]\n")
    assert main(["schema", "--model", "x", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "models[0](bad name).name" in err


def test_baseline_command_registers_metrics_and_profile(tmp_path):
    world = World(tmp_path)
    version = world.register(alias=None)
    reference = tmp_path / "reference.parquet"
    world.write_day(day(1), with_labels=False)
    next((world.inference / day(1)).iterdir()).rename(reference)
    assert main(["baseline", "--tracking-uri", world.tracking_uri, "--model-name", world.registered_model,
                 "--version", version, "--reference", str(reference), "--metric", "accuracy=0.91",
                 "--alias", "champion"]) == 0
    client = MlflowClient(tracking_uri=world.tracking_uri)
    mv = client.get_model_version_by_alias(world.registered_model, "champion")
    assert str(mv.version) == version
    assert client.get_run(mv.run_id).data.metrics["baseline.accuracy"] == 0.91
