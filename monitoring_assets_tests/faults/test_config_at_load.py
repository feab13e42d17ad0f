"""Faults a configuration file cannot show by itself, caught when it is loaded, each naming
the file and the key; and a secret whose variable is unset, named where it is missed.

Before: an invalid timezone failed later without naming file or key; a training function that
could not be imported failed only when a retrain ran; an unwritable storage root failed the
first run's first write.
"""

import pytest
import yaml

from monitoring_assets.alerts.channels import DeliveryError
from monitoring_assets.config import ConfigError, load_config, parse_config
from monitoring_assets.sensors.alert_sensor import build_channel, unset_secrets

BASE = {
    "mlflow": {"tracking_uri": "sqlite:///unused.db"},
    "storage": {"root": "STORAGE"},
    "models": [{"name": "churn", "registered_model": "churn-model", "task": "binary",
                "partitions": {"start": "2026-01-01"},
                "inference": {"location": "/landing/inference"}, "labels": {"location": "/landing/labels"}}],
}


def write(tmp_path, change) -> str:
    data = yaml.safe_load(yaml.safe_dump(BASE).replace("STORAGE", str(tmp_path / "storage")))
    change(data)
    path = tmp_path / "monitoring.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def load_error(path: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_an_unknown_timezone_names_the_file_and_key(tmp_path):
    path = write(tmp_path, lambda d: d["models"][0]["partitions"].update(timezone="Europe/Pariss"))
    message = load_error(path)
    assert message.startswith(f"{path}: invalid configuration")
    assert "models[0](churn).partitions.timezone" in message and "'Europe/Pariss'" in message


def test_a_training_function_that_cannot_be_imported_is_caught_at_load(tmp_path):
    def retrain_with(target):
        return lambda d: d["models"][0].update(remediation={"policy": "retrain", "training_function": target})

    message = load_error(write(tmp_path, retrain_with("churn_training.fit:train")))
    assert "models[0](churn).remediation.training_function: cannot import 'churn_training.fit'" in message
    message = load_error(write(tmp_path, retrain_with("monitoring_assets.demo.retrain:no_such_function")))
    assert "has no function 'no_such_function'" in message
    load_config(write(tmp_path, retrain_with("monitoring_assets.demo.retrain:train_on_window")))


def test_an_unwritable_storage_root_is_caught_at_load(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    message = load_error(write(tmp_path, lambda d: d["storage"].update(root=str(blocker / "storage"))))
    assert f"storage.root: {blocker / 'storage'} cannot be written" in message
    load_config(write(tmp_path, lambda d: None))
    assert [p.name for p in (tmp_path / "storage").iterdir()] == []  # the probe leaves nothing behind


def test_an_unset_secret_is_named_in_status_and_at_delivery(monkeypatch):
    monkeypatch.delenv("ONCALL_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("ONCALL_WEBHOOK_URL", raising=False)
    config = parse_config(BASE | {"notifications": {"channels": {
        "mail": {"type": "email", "smtp_host": "127.0.0.1", "sender": "a@b.c", "recipients": ["d@e.f"],
                 "username": "monitor", "password_env": "ONCALL_SMTP_PASSWORD"},
        "hook": {"type": "webhook", "url_env": "ONCALL_WEBHOOK_URL"}}}})
    assert unset_secrets(config) == ["channel mail: $ONCALL_SMTP_PASSWORD is not set",
                                     "channel hook: $ONCALL_WEBHOOK_URL is not set"]
    for name in ("mail", "hook"):
        with pytest.raises(DeliveryError, match=rf"{name}: \$ONCALL_(SMTP_PASSWORD|WEBHOOK_URL) is not set"):
            build_channel(name, config.notifications.channels[name]).send({"title": "t", "text": "x"})
    monkeypatch.setenv("ONCALL_SMTP_PASSWORD", "hunter2")
    assert unset_secrets(config) == ["channel hook: $ONCALL_WEBHOOK_URL is not set"]
