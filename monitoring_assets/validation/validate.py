"""Lazy validation of a batch: every failure is collected, bad rows are quarantined.

Type coercion happens here before Pandera runs: Pandera's own coercion turns one
unparseable value into a column-wide failure, while this keeps it a row-level one.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from monitoring_assets.validation.readers import SHORT_LINE_COLUMN, SOURCE_FILE_COLUMN
from monitoring_assets.validation.schema import InferenceSchema

REASONS_COLUMN = "_quarantine_reasons"
# A column whose non-null values mostly fail to parse has the wrong type; a few bad values
# are bad rows.
_WRONG_TYPE_SHARE = 0.5
_EXAMPLES = 5


@dataclass
class BatchFailure:
    column: str | None
    check: str
    reason: str

    def message(self) -> str:
        where = f"column {self.column!r}" if self.column else "batch"
        return f"{where}: {self.check}: {self.reason}"


@dataclass
class FailureGroup:
    column: str
    check: str
    count: int
    examples: list[str]
    files: list[str]


@dataclass
class ValidationOutcome:
    valid: pd.DataFrame
    quarantined: pd.DataFrame
    batch_failures: list[BatchFailure]
    row_failures: list[FailureGroup]
    warnings: list[FailureGroup]
    extra_columns: list[str]
    rows_in: int
    files: list[str] = field(default_factory=list)

    @property
    def rows_valid(self) -> int:
        return len(self.valid)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantined)

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def reconciles(self) -> bool:
        return self.rows_in == self.rows_valid + self.rows_quarantined

    def grouped_report(self) -> list[dict[str, Any]]:
        rows = [
            {"column": g.column, "check": g.check, "rows": g.count,
             "examples": ", ".join(g.examples), "files": ", ".join(g.files), "level": "row"}
            for g in self.row_failures
        ]
        rows += [
            {"column": g.column, "check": g.check, "rows": g.count,
             "examples": ", ".join(g.examples), "files": ", ".join(g.files), "level": "warning"}
            for g in self.warnings
        ]
        rows += [
            {"column": f.column or "", "check": f.check, "rows": 0, "examples": f.reason,
             "files": ", ".join(self.files), "level": "batch"}
            for f in self.batch_failures
        ]
        return rows

    def render(self) -> str:
        lines = [
            f"rows_in={self.rows_in} rows_valid={self.rows_valid} "
            f"rows_quarantined={self.rows_quarantined} ({self.quarantined_share:.2%})"
        ]
        for failure in self.batch_failures:
            lines.append(f"BATCH  {failure.message()}")
        for group in self.row_failures:
            lines.append(
                f"ROWS   column {group.column!r}: {group.check}: {group.count} row(s), "
                f"e.g. {', '.join(group.examples)} [in {', '.join(group.files)}]"
            )
        for group in self.warnings:
            lines.append(
                f"WARN   column {group.column!r}: {group.check}: {group.count} row(s), "
                f"e.g. {', '.join(group.examples)} [in {', '.join(group.files)}]"
            )
        if self.extra_columns:
            lines.append(f"INFO   extra columns (reported, not validated, not stored with the batch): {', '.join(self.extra_columns)}")
        return "\n".join(lines)


_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def _as_text(values: pd.Series) -> pd.Series:
    """Text that keeps nulls null: pandas 2 would turn None into the string 'None'."""
    text = values.astype("string")
    if _PANDAS_3:
        return text.astype("str")
    return text.astype(object).where(text.notna(), None)


def _already_coerced(dtype: Any, kind: str, role: str) -> bool:
    """The column already has the type coercion would give it (as Parquet delivers it)."""
    if kind in ("float", "int"):
        return dtype == np.float64
    if kind == "datetime":
        return dtype == "datetime64[ns, UTC]"
    if kind == "bool":
        return isinstance(dtype, pd.BooleanDtype)
    return _PANDAS_3 and dtype == "str"


def _coerce(frame: pd.DataFrame, schema: InferenceSchema) -> tuple[pd.DataFrame, dict, list[BatchFailure]]:
    """Coerce each declared column; returns the frame, row failures and wrong-type columns."""
    coerced = frame.copy(deep=False)  # columns are replaced, never written into
    failures: dict[tuple[str, str], list[int]] = defaultdict(list)
    batch: list[BatchFailure] = []
    for rule in schema.rules:
        if rule.name not in coerced:
            continue
        original = coerced[rule.name]
        if _already_coerced(original.dtype, rule.kind, rule.role):
            continue  # nothing to parse, so nothing can fail to parse
        present = original.notna().to_numpy()
        if rule.kind in ("float", "int"):
            if pd.api.types.is_bool_dtype(original.dtype):
                converted = original.astype(float)
            else:
                converted = pd.to_numeric(original, errors="coerce").astype("float64")
            check = f"coerce_to_{rule.kind}"
        elif rule.kind == "datetime":
            # One resolution whatever the writer used (pandas 3 keeps s, ms or us as read).
            converted = pd.to_datetime(original, errors="coerce", utc=True, format="mixed").astype("datetime64[ns, UTC]")
            check = "coerce_to_datetime"
        elif rule.kind == "bool":
            mapping = {"true": True, "false": False, "1": True, "0": False}
            converted = original.astype("boolean") if original.dtype == np.bool_ else original.map(
                lambda v: v if isinstance(v, (bool, np.bool_)) or v is None or v is pd.NA
                else mapping.get(str(v).strip().lower())
            ).astype("boolean")
            check = "coerce_to_bool"
        else:
            converted = _as_text(original)
            if rule.role == "id" or rule.role == "model_version":
                # Floats read from CSV print as "3.0"; an id "3" must stay "3".
                numeric = pd.to_numeric(original, errors="coerce")
                whole = numeric.notna() & (numeric == np.floor(numeric.fillna(0)))
                if whole.any() and pd.api.types.is_float_dtype(original.dtype):
                    converted = converted.where(~whole, numeric[whole].astype("int64").astype("str"))
            coerced[rule.name] = converted
            continue
        bad = present & converted.isna().to_numpy()
        if rule.kind in ("float", "int") and bad.any():
            # NaN is a null, not a parse failure.
            bad &= ~original.astype(str).str.lower().isin(["nan", "none", "null", ""]).to_numpy()
        n_bad = int(bad.sum())
        n_present = int(present.sum())
        if n_bad and n_present and n_bad / n_present > _WRONG_TYPE_SHARE:
            example = original[bad].astype(str).iloc[0]
            batch.append(BatchFailure(
                rule.name, f"wrong_type({rule.kind})",
                f"{n_bad} of {n_present} values cannot be read as {rule.kind} "
                f"(e.g. {example!r}; dtype {original.dtype})",
            ))
        elif n_bad:
            failures[(rule.name, check)].extend(np.flatnonzero(bad).tolist())
        coerced[rule.name] = converted
    return coerced, failures, batch


def _files_of(frame: pd.DataFrame, positions: list[int]) -> list[str]:
    if SOURCE_FILE_COLUMN not in frame or not positions:
        return []
    return sorted(str(f) for f in frame[SOURCE_FILE_COLUMN].iloc[positions].unique())


def _examples(values: pd.Series) -> list[str]:
    seen: list[str] = []
    # The first distinct values are nearly always among the first rows; the rest is read only if not.
    head = values.iloc[:1000].tolist()
    for raw in itertools.chain(head, values.iloc[1000:].tolist() if len(values) > 1000 else ()):
        value = str(raw)[:60]
        if value not in seen:
            seen.append(value)
        if len(seen) == _EXAMPLES:
            break
    return seen


def _restore_integers(frame: pd.DataFrame, schema: InferenceSchema) -> pd.DataFrame:
    """Integer columns were parsed as floats to hold nulls; give them back their type."""
    for rule in schema.rules:
        if rule.kind == "int" and rule.name in frame and frame[rule.name].notna().all():
            values = frame[rule.name]
            if (values == np.floor(values)).all():
                frame[rule.name] = values.astype("int64")
    return frame


def validate_batch(frame: pd.DataFrame, schema: InferenceSchema, files: list[str] | None = None) -> ValidationOutcome:
    """Validate `frame` lazily; every input row ends up valid or quarantined."""
    frame = frame.reset_index(drop=True)
    rows_in = len(frame)
    extra = [c for c in frame.columns if c not in schema.columns and c not in (SOURCE_FILE_COLUMN, SHORT_LINE_COLUMN)]
    coerced, coercion_failures, batch_failures = _coerce(frame, schema)
    if schema.strict and extra:
        batch_failures.append(BatchFailure(None, "strict_columns", f"unexpected columns: {', '.join(extra)}"))

    row_reasons: dict[int, list[dict[str, str]]] = defaultdict(list)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (column, check), positions in coercion_failures.items():
        for pos in positions:
            row_reasons[pos].append({"column": column, "check": check, "value": str(frame[column].iloc[pos])[:200]})
        groups[(column, check)].extend(positions)

    pandera_schema = schema.to_pandera()
    # Columns that failed as a whole are reported once, not as a failure of every row.
    failed_columns = {f.column for f in batch_failures if f.column}
    if failed_columns:
        pandera_schema = pandera_schema.remove_columns([c for c in failed_columns if c in pandera_schema.columns])
    try:
        if rows_in:  # no rows is "no data", not a batch without its columns
            # in place: the coerced frame is this function's own, and a copy of 1M rows costs 0.7 s
            pandera_schema.validate(coerced, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for case in cases.itertuples(index=False):
            column = case.column if isinstance(case.column, str) else None
            check = str(case.check)
            if case.index is None or (isinstance(case.index, float) and np.isnan(case.index)):
                if check.startswith("column_in_dataframe"):
                    reason = "required column is missing"
                    check = "column_missing"
                    column = str(case.failure_case)
                elif check.startswith("dtype("):
                    reason = f"wrong type: {case.failure_case}"
                else:
                    reason = str(case.failure_case)[:200]
                batch_failures.append(BatchFailure(column, check, reason))
                continue
            pos = int(case.index)
            if column is None:
                continue
            row_reasons[pos].append({"column": column, "check": check, "value": str(frame[column].iloc[pos])[:200]})
            groups[(column, check)].append(pos)

    warnings: list[FailureGroup] = []
    for rule in schema.rules:
        if rule.known_categories and rule.name in coerced:
            values = coerced[rule.name]
            unseen = values.notna() & ~values.isin(rule.known_categories)
            if unseen.any():
                positions = np.flatnonzero(unseen.to_numpy()).tolist()
                warnings.append(FailureGroup(rule.name, "unseen_category", len(positions),
                                             _examples(values[unseen]), _files_of(frame, positions)))

    for rule in schema.rules:
        # The served version decides which baseline judges the batch: without it the champion's
        # is assumed, and a user should see that this is an assumption.
        if rule.role == "model_version" and rows_in and (rule.name not in coerced or coerced[rule.name].isna().all()):
            state = "missing" if rule.name not in coerced else "all null"
            warnings.append(FailureGroup(rule.name, f"model_version_{state.replace(' ', '_')}", rows_in,
                                         ["served version assumed to be the champion"],
                                         _files_of(frame, list(range(min(rows_in, 1))))))

    if SHORT_LINE_COLUMN in frame:
        short = frame[SHORT_LINE_COLUMN].notna().to_numpy()
        for pos in np.flatnonzero(short).tolist():
            first_missing = str(frame[SHORT_LINE_COLUMN].iloc[pos])
            row_reasons[pos].append({"column": first_missing, "check": "truncated_line",
                                     "value": "line has fewer fields than the header"})
            groups[(first_missing, "truncated_line")].append(pos)

    if batch_failures:
        # A batch that fails as a whole keeps every row, in quarantine, with the batch reasons.
        batch_reasons = [{"column": f.column, "check": f.check, "value": f.reason[:200]} for f in batch_failures]
        for pos in range(rows_in):
            row_reasons[pos] = batch_reasons + row_reasons.get(pos, [])

    bad_positions = sorted(row_reasons)
    mask = np.zeros(rows_in, dtype=bool)
    mask[bad_positions] = True
    quarantined = frame[mask].copy()
    quarantined[REASONS_COLUMN] = [json.dumps(row_reasons[p]) for p in bad_positions]
    valid = _restore_integers(coerced[~mask].reset_index(drop=True) if bad_positions else coerced, schema)
    valid = valid.drop(columns=[SHORT_LINE_COLUMN], errors="ignore")
    row_groups = [
        FailureGroup(column, check, len(positions),
                     _examples(frame[column].iloc[positions]) if column in frame else [],
                     _files_of(frame, positions))
        for (column, check), positions in sorted(groups.items(), key=lambda item: -len(item[1]))
    ]
    return ValidationOutcome(
        valid=valid, quarantined=quarantined.reset_index(drop=True), batch_failures=batch_failures,
        row_failures=row_groups, warnings=warnings, extra_columns=extra, rows_in=rows_in,
        files=list(files or []),
    )
