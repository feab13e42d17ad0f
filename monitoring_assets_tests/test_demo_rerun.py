import datetime as dt

from mlflow.tracking import MlflowClient

from monitoring_assets.demo.run import REGISTERED_MODEL, run_demo


def test_running_the_demo_twice_reuses_the_home(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    start = dt.date(2026, 3, 1)
    first = run_demo(home=tmp_path, days=3, seed=3, start=start, rows_per_day=300, drift_day=2, echo=False)
    second = run_demo(home=tmp_path, days=3, seed=3, start=start, rows_per_day=300, drift_day=2, echo=False)
    client = MlflowClient(tracking_uri=first["mlflow_tracking_uri"])
    versions = client.search_model_versions(f"name='{REGISTERED_MODEL}'")
    assert [str(v.version) for v in versions] == ["1"]
    assert first["champion_version"] == second["champion_version"] == "1"
    assert set(second["partitions"]) == {"2026-03-01", "2026-03-02", "2026-03-03"}
    # The drifted days alerted once, in the first run; the second run sends nothing new.
    assert first["alerts"]["messages"] >= 1 and first["alerts"]["firing"] >= 1
    assert second["alerts"]["messages"] == 0
    log = (tmp_path / "alerts.log").read_text().splitlines()
    assert len(log) == first["alerts"]["messages"]
