"""Importing the package changes nothing in the process: whylogs, logging and MLflow keep
their own behaviour until the project's code is called."""

import subprocess
import sys
import textwrap


def test_importing_the_code_location_patches_nothing():
    script = textwrap.dedent("""
        import logging
        import mlflow
        from whylogs.core.preprocessing import PreprocessedColumn
        from whylogs.core.metrics.metrics import CardinalityMetric, FrequentItemsMetric
        before = (PreprocessedColumn._pandas_split, CardinalityMetric.columnar_update,
                  FrequentItemsMetric.columnar_update)
        uri = mlflow.get_tracking_uri()
        loggers = ("urllib3.connectionpool", "requests", "apprise")
        filters = {name: list(logging.getLogger(name).filters) for name in loggers}
        import monitoring_assets.definitions, monitoring_assets.wiring, monitoring_assets.alerts.channels
        import monitoring_assets.resources, monitoring_assets.profiling.profiler
        after = (PreprocessedColumn._pandas_split, CardinalityMetric.columnar_update,
                 FrequentItemsMetric.columnar_update)
        assert before == after, "whylogs patched at import"
        assert filters == {name: list(logging.getLogger(name).filters) for name in loggers}, "filters at import"
        assert mlflow.get_tracking_uri() == uri

        import pandas as pd
        from monitoring_assets.profiling.whylogs_compat import log_frame, vectorised_preprocessing
        with vectorised_preprocessing():
            assert PreprocessedColumn._pandas_split is not before[0]
            with vectorised_preprocessing():
                pass
            assert PreprocessedColumn._pandas_split is not before[0]
        log_frame(pd.DataFrame({"x": [1.0, 2.0]}))
        assert (PreprocessedColumn._pandas_split, CardinalityMetric.columnar_update,
                FrequentItemsMetric.columnar_update) == before, "patch left in place"
        print("clean")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("clean")


def test_whylogs_sends_no_usage_statistics_and_leaves_the_profiler_free_to_fork():
    script = textwrap.dedent("""
        import threading
        from monitoring_assets.profiling import profiler
        import whylogs.api.usage_stats as usage
        print(usage._TELEMETRY_DISABLED, threading.active_count(), profiler.start_method())
    """)
    env = {k: v for k, v in __import__("os").environ.items() if k != "WHYLOGS_NO_ANALYTICS"}
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert output.stdout.split() == ["True", "1", "fork"]
