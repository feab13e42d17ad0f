"""Which model version served a partition: one rule for every step.

A row was served by the version in its model-version column, or by the champion when the
column is absent or the value is missing. A partition belongs to the version that served most
of its rows; a tie goes to the champion, then to the lowest version. The rule is the same
whether the rows are at hand (validation, performance) or only their profile (drift).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd


def normalise_version(value: object) -> str | None:
    """'2', 2, 2.0 and '2.0' name the same version; a missing value is None."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    if not text or text.lower() in ("nan", "none", "<na>"):
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def row_versions(frame: pd.DataFrame, column: str | None, champion: str) -> pd.Series:
    """The version that served each row, as a categorical whose categories (the versions) are in
    text order: grouping or comparing a million rows works on their codes."""
    if not column or column not in frame:
        return pd.Series(pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [str(champion)]),
                         index=frame.index)
    # One name per distinct value, taken by each row's code: a million rows hold a few versions.
    codes, distinct = pd.factorize(frame[column])
    names = [normalise_version(value) for value in distinct]
    names = [str(champion) if name is None else name for name in names] + [str(champion)]  # code -1: missing
    categories = sorted(set(names))
    position = {name: index for index, name in enumerate(categories)}
    category_of_code = np.array([position[name] for name in names], dtype=np.int64)
    return pd.Series(pd.Categorical.from_codes(category_of_code[codes], categories), index=frame.index)


def partition_version(counts: Mapping[object, float], missing: float, champion: str) -> str:
    """The version that served most rows, from per-value counts and the count of missing values."""
    totals: dict[str, float] = {}
    for value, count in counts.items():
        version = normalise_version(value)
        key = version if version is not None else str(champion)
        totals[key] = totals.get(key, 0.0) + float(count)
    if missing:
        totals[str(champion)] = totals.get(str(champion), 0.0) + float(missing)
    if not totals:
        return str(champion)

    def rank(item: tuple[str, float]) -> tuple[float, int, float, str]:
        version, count = item
        numeric = float(version) if version.replace(".", "", 1).isdigit() else math.inf
        return (-count, 0 if version == str(champion) else 1, numeric, version)

    return min(totals.items(), key=rank)[0]


def frame_version(frame: pd.DataFrame, column: str | None, champion: str) -> str:
    """The partition's version from its rows."""
    if not column or column not in frame:
        return str(champion)
    values = frame[column]
    return partition_version(values.value_counts(dropna=True).to_dict(), float(values.isna().sum()), champion)
