"""One rule for the version that served a partition, from rows or from their profile."""

import numpy as np
import pandas as pd

from monitoring_assets.profiling.profiler import profile_frame
from monitoring_assets.registry.registry import default_artifact_location
from monitoring_assets.registry.served import frame_version, normalise_version, partition_version, row_versions


def test_versions_are_normalised_whatever_the_dtype():
    assert [normalise_version(v) for v in ("2", 2, 2.0, "2.0", " 3 ", np.nan, None, "", "v7")] == [
        "2", "2", "2", "2", "3", None, None, None, "v7"]


def test_missing_values_belong_to_the_champion_row_by_row_and_in_the_count():
    frame = pd.DataFrame({"model_version": [1.0, 2.0, None, None, 2.0]})
    assert row_versions(frame, "model_version", "1").tolist() == ["1", "2", "1", "1", "2"]
    assert frame_version(frame, "model_version", "1") == "1"  # 3 rows (1 + 2 missing) against 2
    assert frame_version(frame, "model_version", "3") == "3"  # the 2 missing rows make v3 the largest
    assert frame_version(frame, None, "4") == "4"
    assert row_versions(frame, "absent", "4").tolist() == ["4"] * 5


def test_ties_go_to_the_champion_then_to_the_lowest_version():
    assert partition_version({"1": 5, "2": 5}, 0, champion="2") == "2"
    assert partition_version({"3": 5, "2": 5}, 0, champion="1") == "2"
    assert partition_version({}, 0, champion="1") == "1"


def test_the_profile_gives_the_same_version_as_the_rows():
    from monitoring_assets.assets.profile_drift import profiled_version

    rng = np.random.default_rng(3)
    values = rng.choice(["1", "2", None], size=999, p=[0.3, 0.45, 0.25])
    frame = pd.DataFrame({"model_version": pd.Series(values, dtype="str"), "x": rng.normal(size=999)})
    view = profile_frame(frame, workers=1)
    for champion in ("1", "2"):
        assert profiled_version(view, "model_version", champion) == frame_version(frame, "model_version", champion)


def test_database_stores_get_an_explicit_artifact_location_and_servers_choose_their_own(tmp_path):
    assert default_artifact_location("http://mlflow:5000", str(tmp_path)) is None
    for uri in ("sqlite:///x.db", "postgresql://u@h/db", "file:///tmp/mlruns", "./mlruns"):
        assert default_artifact_location(uri, str(tmp_path / "store")) == (tmp_path / "store" / "mlflow-artifacts").as_uri()
    assert default_artifact_location("sqlite:///x.db", "s3://bucket/root/") == "s3://bucket/root/mlflow-artifacts"


def test_row_versions_name_each_row_as_normalise_version_does_whatever_the_dtype():
    values = ["2", "2.0", None, " 3 ", "", "nan", "v7", "2"]
    for column in (pd.Series(values, dtype="str"), pd.Series(values, dtype=object),
                   pd.Series(values, dtype="category"), pd.Series([2.0, None, 3.0, 2.0, np.nan, 1.5, 3.0, 2.0])):
        frame = pd.DataFrame({"model_version": column.array}, index=range(10, 18))
        expected = [normalise_version(v) or "9" for v in column.tolist()]
        rows = row_versions(frame, "model_version", "9")
        assert rows.tolist() == expected, column.dtype
        assert rows.index.tolist() == list(range(10, 18))
