"""The catalogue of broken inputs: every case gives a clear outcome and loses no row.

Each case writes real files into a landing-zone partition, runs the same verdict the asset
check uses, and asserts the outcome and its severity, that the message names the file, the
column and the reason, and that `rows_in = rows_valid + rows_quarantined`.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from monitoring_assets.validation.verdict import check_partition
from monitoring_assets_tests.validation.helpers import clean_batch, demo_schema

PARTITION = "2026-01-05"
MAX_SHARE = 0.05


@dataclass
class Case:
    name: str
    write: Callable[[Path], int]  # writes files, returns the rows it wrote (-1: not countable)
    status: str
    severity: str
    passed: bool
    mentions: tuple[str, ...]  # column / reason words the message must contain
    names_file: bool = True
    strict: bool = False


def parquet(folder: Path, frame: pd.DataFrame, name: str = "part-0.parquet") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    frame.to_parquet(path, index=False)
    return path


def csv(folder: Path, frame: pd.DataFrame, name: str = "part-0.csv", **kwargs) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    frame.to_csv(path, index=False, **kwargs)
    return path


def with_change(change: Callable[[pd.DataFrame], pd.DataFrame], rows: int = 200, fmt: str = "parquet") -> Callable[[Path], int]:
    def write(folder: Path) -> int:
        frame = change(clean_batch(rows))
        (parquet if fmt == "parquet" else csv)(folder, frame)
        return len(frame)
    return write


def set_values(column: str, positions: list[int], value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(value, (int, float)) and frame[column].dtype.kind == "f":
            frame[column] = frame[column].astype(object)
        for pos in positions:
            frame.loc[pos, column] = value
        return frame
    return change


def write_clean_csv(folder: Path) -> int:
    csv(folder, clean_batch())
    return 200


def write_clean_jsonl(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    frame = clean_batch()
    frame["timestamp"] = frame["timestamp"].astype(str)
    frame.to_json(folder / "part-0.jsonl", orient="records", lines=True)
    return 200


def write_several_files(folder: Path) -> int:
    parquet(folder, clean_batch(100, seed=1), "a.parquet")
    csv(folder, clean_batch(50, seed=2), "b.csv")
    return 150


def write_nothing(folder: Path) -> int:
    return 0


def write_empty_file(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.csv").write_bytes(b"")
    return 0


def write_corrupt_parquet(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.parquet").write_bytes(b"PAR1 this is not parquet at all" * 10)
    return -1


def write_truncated_parquet(folder: Path) -> int:
    path = parquet(folder, clean_batch())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return -1


def write_truncated_csv_line(folder: Path) -> int:
    path = csv(folder, clean_batch())
    text = path.read_text().rstrip("\n")
    path.write_text(text[: text.rfind(",", 0, len(text) - 40)] + "\n")
    return 200


def write_non_utf8(folder: Path) -> int:
    path = csv(folder, clean_batch())
    data = path.read_bytes().replace(b"north", b"n\xf6rth", 1)
    path.write_bytes(data)
    return -1


def write_wrong_delimiter(folder: Path) -> int:
    csv(folder, clean_batch(), sep=";")
    return -1


def write_one_bad_file_among_good(folder: Path) -> int:
    parquet(folder, clean_batch(100, seed=1), "good.parquet")
    folder.joinpath("bad.parquet").write_bytes(b"garbage")
    return -1


def duplicate_ids(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[[10, 11, 12], "id"] = frame.loc[0, "id"]
    return frame


def all_null_column(frame: pd.DataFrame) -> pd.DataFrame:
    frame["age"] = np.nan
    return frame


def extra_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame["debug_trace"] = "x"
    return frame


def drop_column(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["income"])


def wrong_type(frame: pd.DataFrame) -> pd.DataFrame:
    frame["tenure_months"] = [f"{v} months" for v in frame["tenure_months"]]
    return frame


def bad_timestamps(frame: pd.DataFrame) -> pd.DataFrame:
    frame["timestamp"] = frame["timestamp"].astype(object)
    frame.loc[[3, 4], "timestamp"] = "yesterday"
    return frame


CASES = [
    Case("clean parquet", with_change(lambda f: f), "ok", "WARN", True, ("200 rows valid",), names_file=False),
    Case("clean csv", write_clean_csv, "ok", "WARN", True, ("200 rows valid",), names_file=False),
    Case("clean jsonl", write_clean_jsonl, "ok", "WARN", True, ("200 rows valid",), names_file=False),
    Case("several files per partition", write_several_files, "ok", "WARN", True, ("150 rows valid",), names_file=False),
    Case("no file at all", write_nothing, "no_data", "WARN", False, ("no data for partition",), names_file=False),
    Case("empty file", write_empty_file, "no_data", "WARN", False, ("no data for partition",)),
    Case("corrupt parquet", write_corrupt_parquet, "unreadable", "ERROR", False, ("corrupt or truncated Parquet",)),
    Case("truncated parquet", write_truncated_parquet, "unreadable", "ERROR", False, ("corrupt or truncated Parquet",)),
    Case("truncated csv line", write_truncated_csv_line, "rows_quarantined", "WARN", False, ("truncated_line", "quarantined")),
    Case("non-utf8 byte", write_non_utf8, "unreadable", "ERROR", False, ("not UTF-8", "0xf6", "line ")),
    Case("wrong delimiter", write_wrong_delimiter, "unreadable", "ERROR", False, ("wrong delimiter", "';'")),
    Case("one bad file among good ones", write_one_bad_file_among_good, "unreadable", "ERROR", False, ("bad.parquet", "1 other file")),
    Case("duplicate ids", with_change(duplicate_ids), "rows_quarantined", "WARN", False, ("'id'", "duplicate id")),
    Case("missing id", with_change(set_values("id", [5], None)), "rows_quarantined", "WARN", False, ("'id'", "not_nullable")),
    Case("inf in a feature", with_change(set_values("income", [5], np.inf)), "rows_quarantined", "WARN", False, ("'income'", "finite")),
    Case("NaN in a required feature", with_change(set_values("age", [7, 8], np.nan)), "rows_quarantined", "WARN", False, ("'age'", "not_nullable")),
    Case("all-null column", with_change(all_null_column), "rows_quarantined", "ERROR", False, ("'age'", "above the 5.00% maximum")),
    Case("extra column kept", with_change(extra_columns), "ok", "WARN", True, ("debug_trace",), names_file=False),
    Case("extra column, strict schema", with_change(extra_columns), "batch_failure", "ERROR", False, ("strict_columns", "debug_trace"), strict=True),
    Case("required column missing", with_change(drop_column), "batch_failure", "ERROR", False, ("'income'", "required column is missing")),
    Case("column of the wrong type", with_change(wrong_type), "batch_failure", "ERROR", False, ("'tenure_months'", "cannot be read as float")),
    Case("a few unparseable numbers", with_change(set_values("monthly_spend", [1, 2], "twelve"), fmt="csv"), "rows_quarantined", "WARN", False, ("'monthly_spend'", "coerce_to_float")),
    Case("value out of the reference range", with_change(set_values("age", [9], 1e6)), "rows_quarantined", "WARN", False, ("'age'", "in_range")),
    Case("score outside [0, 1]", with_change(set_values("score", [4], 1.7)), "rows_quarantined", "WARN", False, ("'score'", "in_range")),
    Case("unparseable timestamps", with_change(bad_timestamps, fmt="csv"), "rows_quarantined", "WARN", False, ("'timestamp'", "coerce_to_datetime")),
    Case("timestamps at another resolution", with_change(lambda f: f.assign(timestamp=f["timestamp"].astype("datetime64[us, UTC]"))),
         "ok", "WARN", True, ("200 rows valid",), names_file=False),
    Case("unseen category is a warning", with_change(set_values("region", [0, 1], "atlantis")), "warnings", "WARN", False, ("'region'", "unseen_category", "atlantis")),
]


@pytest.fixture(scope="module")
def schemas():
    return {False: demo_schema(), True: demo_schema(strict=True)}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_catalogue_case(case: Case, schemas, tmp_path):
    landing = tmp_path / "inference"
    folder = landing / PARTITION
    written = case.write(folder)
    files_before = sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    verdict = check_partition(str(landing), PARTITION, schemas[case.strict], MAX_SHARE)

    assert verdict.status == case.status, verdict.render()
    assert verdict.severity == case.severity
    assert verdict.passed is case.passed
    message = verdict.render()
    for word in case.mentions:
        assert word in message, (word, message)
    if case.names_file:
        assert any(name in message for name in files_before), message
    # Nothing is moved or deleted: a fixed file can be dropped in again.
    assert (sorted(p.name for p in folder.iterdir()) if folder.exists() else []) == files_before
    outcome = verdict.outcome
    if outcome is not None:
        assert outcome.reconciles()
        if written >= 0:
            assert outcome.rows_in == written
        assert len(outcome.quarantined) == outcome.rows_quarantined
        if outcome.rows_quarantined:
            assert outcome.quarantined["_quarantine_reasons"].str.len().min() > 2
        if case.status == "batch_failure":  # a broken batch passes no row downstream
            assert outcome.rows_valid == 0 and outcome.rows_quarantined == outcome.rows_in


def test_catalogue_has_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_labels_for_ids_never_predicted_are_counted():
    from monitoring_assets.assets.performance import join_labels
    from monitoring_assets.config.models import ModelConfig

    model = ModelConfig.model_validate({
        "name": "m", "registered_model": "m", "task": "binary",
        "partitions": {"start": "2026-01-01"}, "inference": {"location": "x"}, "labels": {"location": "y"},
    })
    predictions = clean_batch(50)
    labels = pd.DataFrame({"id": list(predictions["id"][:30]) + ["ghost-1", "ghost-2"], "label": [1] * 32})
    joined, orphans = join_labels(model, predictions, labels)
    assert orphans == 2
    assert len(joined) == 50
    assert joined["label"].notna().sum() == 30


def test_config_overrides_win_over_signature_and_profile(tmp_path):
    from monitoring_assets.config.models import ColumnOverride
    from monitoring_assets.validation.validate import validate_batch
    from monitoring_assets_tests.validation.helpers import ROLES, signature_inputs
    from monitoring_assets.profiling.profiler import profile_frame
    from monitoring_assets.validation.schema import build_inference_schema

    reference = clean_batch(2000, seed=99, prefix="ref")
    schema = build_inference_schema(
        signature_inputs=signature_inputs(), reference=profile_frame(reference), roles=ROLES, task="binary",
        column_overrides={"age": ColumnOverride(nullable=True, minimum=18, maximum=60),
                          "region": ColumnOverride(allowed=["north", "south"])},
    )
    assert schema.rule("age").nullable and schema.rule("age").maximum == 60
    assert schema.sources["age"].endswith("config override")
    batch = clean_batch(300, seed=4)
    batch.loc[0, "age"] = None
    outcome = validate_batch(batch, schema, ["x.parquet"])
    reasons = {(g.column, g.check) for g in outcome.row_failures}
    assert ("age", "not_nullable") not in reasons
    assert any(c == "age" and k.startswith("in_range") for c, k in reasons)
    assert any(c == "region" and k.startswith("isin") for c, k in reasons)
    assert outcome.reconciles()
