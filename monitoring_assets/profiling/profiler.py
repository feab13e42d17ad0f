"""Profiling a batch into a standard whylogs profile view."""

from __future__ import annotations

import pandas as pd

from monitoring_assets.profiling.whylogs_compat import DatasetProfileView, log_frame


def profile_frame(frame: pd.DataFrame) -> DatasetProfileView:
    """Profile every column of `frame`; datetimes are profiled as epoch seconds."""
    prepared = frame
    datetime_columns = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if datetime_columns:
        prepared = frame.copy()
        for column in datetime_columns:
            values = prepared[column]
            epoch = pd.Timestamp("1970-01-01", tz=values.dt.tz)
            prepared[column] = (values - epoch).dt.total_seconds()
    return log_frame(prepared)
