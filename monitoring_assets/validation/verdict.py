"""From a validation outcome to a verdict: passed, severity and a one-line reason.

The asset check, the `check-file` command and the tests share this, so a file judged clean
before it lands is judged clean by the pipeline too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from monitoring_assets.validation.readers import (
    PartitionReadError,
    UnreadableFile,
    read_files,
    read_partition,
)
from monitoring_assets.validation.schema import InferenceSchema
from monitoring_assets.validation.validate import ValidationOutcome, validate_batch

Severity = Literal["WARN", "ERROR"]


@dataclass
class Verdict:
    passed: bool
    severity: Severity
    status: Literal["ok", "rows_quarantined", "no_data", "batch_failure", "unreadable", "warnings"]
    description: str
    outcome: ValidationOutcome | None = None
    unreadable: list[UnreadableFile] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 clean, 1 row-level problems, 2 unusable (the `check-file` contract)."""
        if self.status in ("unreadable", "batch_failure"):
            return 2
        if self.status == "rows_quarantined" or (self.severity == "ERROR" and not self.passed):
            return 1
        return 0

    def render(self) -> str:
        lines = [f"{'PASS' if self.passed else self.severity}: {self.description}"]
        lines += [f"UNUSABLE {f.path}: {f.reason}" for f in self.unreadable]
        if self.outcome is not None:
            lines.append(self.outcome.render())
        return "\n".join(lines)


def judge(outcome: ValidationOutcome, max_quarantine_share: float) -> Verdict:
    share = outcome.quarantined_share
    files = ", ".join(outcome.files) or "<no file>"
    if outcome.rows_in == 0:
        return Verdict(False, "WARN", "no_data", f"no data for partition ({files})", outcome)
    if outcome.batch_failures:
        reasons = "; ".join(f.message() for f in outcome.batch_failures)
        return Verdict(False, "ERROR", "batch_failure", f"{files}: {reasons}", outcome)
    if outcome.rows_quarantined:
        worst = outcome.row_failures[0]
        detail = (f"{outcome.rows_quarantined} of {outcome.rows_in} rows quarantined ({share:.2%}); "
                  f"most: column {worst.column!r} failed {worst.check} in {', '.join(worst.files)}")
        if share > max_quarantine_share:
            return Verdict(False, "ERROR", "rows_quarantined",
                           f"{detail}; above the {max_quarantine_share:.2%} maximum", outcome)
        return Verdict(False, "WARN", "rows_quarantined", detail, outcome)
    if outcome.warnings:
        first = outcome.warnings[0]
        return Verdict(False, "WARN", "warnings",
                       f"column {first.column!r}: {first.check} in {first.count} row(s) "
                       f"(e.g. {', '.join(first.examples)}) in {', '.join(first.files)}", outcome)
    extra = f"; extra columns kept: {', '.join(outcome.extra_columns)}" if outcome.extra_columns else ""
    return Verdict(True, "WARN", "ok", f"{outcome.rows_in} rows valid{extra}", outcome)


def check_partition(location: str, partition: str, schema: InferenceSchema,
                    max_quarantine_share: float, csv_delimiter: str = ",") -> Verdict:
    try:
        data = read_partition(location, partition, csv_delimiter)
    except PartitionReadError as exc:
        return Verdict(False, "ERROR", "unreadable", str(exc), unreadable=exc.failures)
    if data.empty:
        return Verdict(False, "WARN", "no_data", f"no data for partition {partition} at {location}")
    return judge(validate_batch(data.frame, schema, data.files), max_quarantine_share)


def check_files(paths: list[str], schema: InferenceSchema, max_quarantine_share: float,
                csv_delimiter: str = ",") -> Verdict:
    frame, _, unreadable = read_files(paths, csv_delimiter)
    if unreadable:
        reasons = "; ".join(f"{f.path}: {f.reason}" for f in unreadable)
        return Verdict(False, "ERROR", "unreadable", reasons, unreadable=unreadable)
    return judge(validate_batch(frame, schema, paths), max_quarantine_share)
