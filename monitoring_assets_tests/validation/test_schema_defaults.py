"""Schema defaults a new user meets: ranges, a column with two roles, empty and zero-byte files,
and a missing model-version column."""

import pandas as pd

from monitoring_assets.config.models import ColumnRoles
from monitoring_assets.profiling.profiler import profile_frame
from monitoring_assets.validation.schema import build_inference_schema, widened_range
from monitoring_assets.validation.validate import validate_batch
from monitoring_assets.validation.verdict import check_files, judge
from monitoring_assets_tests.validation.helpers import clean_batch, demo_schema, signature_inputs

FEATURES_AND_OUTPUTS = ["tenure_months", "prediction", "score"]


def test_a_never_negative_column_keeps_zero_as_its_floor():
    # The reported case: age 18..73 was widened to (-37, 128); a long-tailed count at half the
    # margin quarantined a real row of the demo (tenure 229 > 228), so the margin stays 1.0.
    assert widened_range(18.0, 73.0, 1.0) == (0.0, 128.0)
    assert widened_range(18.0, 73.0, 0.5) == (0.0, 100.5)
    assert widened_range(-10.0, 10.0, 0.5) == (-20.0, 20.0)
    assert widened_range(5.0, 5.0, 0.5) == (2.5, 7.5)
    rendered = demo_schema().render()
    assert "in_range(0, inf)" in rendered  # latency: a floor and no ceiling
    assert "-inf)" not in rendered


def test_a_role_column_listed_as_a_feature_has_one_rule():
    reference = clean_batch(2000, seed=5)
    schema = build_inference_schema(
        signature_inputs=signature_inputs(), reference=profile_frame(reference, workers=1),
        roles=ColumnRoles(error="error", features=["income", "score"]), task="binary",
    )
    assert [r.name for r in schema.rules].count("score") == 1
    assert schema.rule("score").role == "score"
    assert (schema.rule("score").minimum, schema.rule("score").maximum) == (0.0, 1.0)


def test_a_zero_byte_parquet_is_unusable_and_named(tmp_path):
    path = tmp_path / "part-0.parquet"
    path.write_bytes(b"")
    verdict = check_files([str(path)], demo_schema(), 0.05)
    assert verdict.status == "unreadable" and verdict.exit_code == 2
    assert "part-0.parquet" in verdict.render() and "0 bytes" in verdict.render()


def test_an_empty_parquet_with_the_right_columns_is_no_data_without_missing_columns(tmp_path):
    path = tmp_path / "part-0.parquet"
    clean_batch(10).iloc[:0].to_parquet(path, index=False)
    verdict = check_files([str(path)], demo_schema(), 0.05)
    text = verdict.render()
    assert verdict.status == "no_data" and verdict.exit_code == 0
    assert "BATCH" not in text and "missing" not in text


def test_a_missing_model_version_column_is_a_warning_that_says_what_is_assumed():
    batch = clean_batch(300).drop(columns=["model_version"])
    verdict = judge(validate_batch(batch, demo_schema()), 0.05)
    assert not verdict.passed and verdict.severity == "WARN" and verdict.status == "warnings"
    assert "model_version" in verdict.description and "champion" in verdict.description
    assert verdict.outcome.rows_valid == 300  # a warning quarantines nothing
    nulls = clean_batch(300).assign(model_version=pd.Series([None] * 300, dtype="str"))
    assert "all_null" in judge(validate_batch(nulls, demo_schema()), 0.05).description
