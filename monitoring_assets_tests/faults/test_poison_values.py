"""Fault: a value near the float limit in a numeric column that has no range (latency).

Before: validation let 1e308 through (latency has no range), then every drift window holding
that partition failed with OverflowError in whylogs' merge, for that day and the 6 after it.
Now: each partition's run succeeds, its drift check is judged, and the neighbours' windows
(which merge the poisoned profile) are judged too.
"""

import math

import numpy as np
import pandas as pd
import pytest

from monitoring_assets.assets.names import DRIFT_CHECK, LATENCY_SLO_CHECK
from monitoring_assets.drift.scores import normed_wasserstein, numeric_sketch_from_kll
from monitoring_assets.profiling.profiler import merge_views, profile_frame
from monitoring_assets_tests.world import World, checks_of, day


def test_drift_maths_is_finite_for_every_finite_float():
    rng = np.random.default_rng(3)
    clean = profile_frame(pd.DataFrame({"x": rng.normal(100, 10, 5000)}))
    for poison in (1e155, 1e200, 1e308, -1e308, np.finfo(float).max):
        values = rng.normal(100, 10, 5000)
        values[17] = poison
        poisoned = profile_frame(pd.DataFrame({"x": values}))
        for window in (merge_views([clean, poisoned]), merge_views([poisoned, clean])):
            assert window.get_column("x").get_metric("counts").n.value == 10_000
        reference = numeric_sketch_from_kll(poisoned.get_column("x").get_metric("distribution").kll.value,
                                            poisoned.get_column("x").get_metric("distribution").stddev)
        # A poisoned reference keeps a finite, sensible scale (from its quartiles).
        assert math.isfinite(reference.std) and 5 < reference.std < 20, poison
        current = numeric_sketch_from_kll(clean.get_column("x").get_metric("distribution").kll.value, 10.0)
        # Wasserstein weighs the extreme value by its mass: a number (possibly inf), never an error.
        assert not math.isnan(normed_wasserstein(reference, current)), poison
        assert normed_wasserstein(current, current) == 0.0


@pytest.fixture(scope="module")
def poisoned_days(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("poison"))
    world.register()
    for offset in range(4):
        world.write_day(day(offset), seed=30 + offset)
    poisoned = world.inference / day(1) / "predictions-31.parquet"
    frame = pd.read_parquet(poisoned)
    frame.loc[5, "latency_ms"] = 1e308
    frame.loc[6, "latency_ms"] = 1e200
    frame.to_parquet(poisoned, index=False)
    return {offset: world.materialize(day(offset), raise_on_error=False) for offset in range(4)}


def test_every_partition_and_every_window_is_judged(poisoned_days):
    for offset, result in poisoned_days.items():
        assert result.success, offset
        drift = checks_of(result)[DRIFT_CHECK]
        assert drift.passed, (offset, drift.description)
    # The days after the poisoned one merge it into their window, and still score it.
    for offset in (2, 3):
        window = poisoned_days[offset].asset_materializations_for_node("m__feature_drift")[0].metadata
        assert window["window_partitions"].value == offset + 1
        assert window["window_drifted"].value == []


def test_the_poisoned_partition_says_where_the_value_is(poisoned_days):
    slo = checks_of(poisoned_days[1])[LATENCY_SLO_CHECK]
    # Two extreme rows of 400 move the p99, not the p95: the SLO verdict comes from the rest.
    assert slo.metadata["observed"].value is not None and slo.metadata["observed"].value < 100
