"""Fault: `columns.features` names a column the model's signature does not have (a typo).

Before: the misspelt column was validated and profiled as a column of its own (missing in
every batch) and the real feature went unmonitored. Now the first run fails, naming the key,
the column and the signature's inputs.
"""

from monitoring_assets.cli import main
from monitoring_assets_tests.world import FEATURES, World, day


def test_a_feature_the_signature_lacks_fails_the_run_by_name(tmp_path, capsys):
    import yaml

    world = World(tmp_path)
    world.register()
    world.write_day(day(0))
    features = [*FEATURES[:-1], "x_typo"]
    result = world.materialize(day(0), config=world.config(columns={**world.config_dict()["models"][0]["columns"],
                                                                   "features": features}), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error, text = failure.step_failure_data.error, []
    while error is not None:
        text.append(error.message)
        error = error.cause
    message = "\n".join(text)
    assert failure.step_key == "m__validated_batch"
    assert "columns.features of model 'm' lists ['x_typo']" in message
    assert "m-model version 1" in message and FEATURES[-1] in message

    config = tmp_path / "monitoring.yaml"
    data = world.config_dict()
    data["models"][0]["columns"]["features"] = features
    config.write_text(yaml.safe_dump(data))
    assert main(["schema", "--model", "m", "--config", str(config)]) == 2
    assert "error: columns.features of model 'm' lists ['x_typo']" in capsys.readouterr().err
