"""Reading one partition of a landing zone: `<location>/<partition_key>/*`.

Every file of the partition is tried; a file that cannot be read is reported by name and
reason, and nothing is moved or deleted, so a fixed file can simply be dropped in again.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SOURCE_FILE_COLUMN = "_source_file"
# Set on CSV rows whose line had fewer fields than the header: the first missing column.
SHORT_LINE_COLUMN = "_short_line"
SUPPORTED_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".json", ".ndjson")


class UnreadableFile(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class PartitionReadError(ValueError):
    """Some files of a partition could not be read; the partition fails as a whole."""

    def __init__(self, partition: str, failures: list[UnreadableFile], readable: list[str]) -> None:
        lines = [f"partition {partition}: {len(failures)} file(s) cannot be read"]
        lines += [f"  {f.path}: {f.reason}" for f in failures]
        if readable:
            lines.append(f"  ({len(readable)} other file(s) were readable and are left in place)")
        super().__init__("\n".join(lines))
        self.partition = partition
        self.failures = failures
        self.readable = readable


@dataclass
class PartitionData:
    partition: str
    frame: pd.DataFrame
    files: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.files


def partition_folder(location: str, partition_key: str) -> str:
    return f"{location.rstrip('/')}/{partition_key}"


def list_partition_files(location: str, partition_key: str) -> list[str]:
    folder = partition_folder(location, partition_key)
    fs, path = fsspec.core.url_to_fs(folder)
    if not fs.exists(path):
        return []
    names = sorted(
        p for p in fs.ls(path, detail=False)
        if p.lower().endswith(SUPPORTED_SUFFIXES) and not p.rsplit("/", 1)[-1].startswith(".")
    )
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    if protocol in ("file", "local"):
        return names
    return [f"{protocol}://{n.split('://', 1)[-1]}" for n in names]


def _decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UnreadableFile(
            path, f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start} (line {line})"
        ) from None


def _read_csv(raw: bytes, path: str, delimiter: str) -> pd.DataFrame:
    text = _decode(raw, path)
    if not text.strip():
        return pd.DataFrame()
    header = text.splitlines()[0]
    if delimiter not in header:
        for other in (";", "\t", "|", ","):
            if other != delimiter and other in header:
                raise UnreadableFile(
                    path, f"wrong delimiter: header uses {other!r}, configured {delimiter!r}"
                )
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, on_bad_lines="error")
    except pd.errors.ParserError as exc:
        raise UnreadableFile(path, f"malformed CSV: {exc}") from None
    # pandas fills a short (truncated) line with NaN silently; mark such rows instead.
    widths = [len(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    columns = list(frame.columns)
    short = {i: columns[w] for i, w in enumerate(widths[1:]) if w < len(columns)}
    if short:
        frame[SHORT_LINE_COLUMN] = pd.Series(short, dtype="object").reindex(range(len(frame)))
    return frame


def _read_jsonl(raw: bytes, path: str) -> pd.DataFrame:
    text = _decode(raw, path)
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(path, f"line {number} is not valid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise UnreadableFile(path, f"line {number} is not a JSON object")
        records.append(record)
    return pd.DataFrame.from_records(records)


def _read_parquet(raw: bytes, path: str) -> pd.DataFrame:
    if not raw:
        raise UnreadableFile(path, "empty file (0 bytes): a Parquet file has at least a footer")
    try:
        return pq.read_table(pa.BufferReader(raw)).to_pandas()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise UnreadableFile(path, f"corrupt or truncated Parquet: {exc}") from None


def read_file(path: str, csv_delimiter: str = ",") -> pd.DataFrame:
    try:
        with fsspec.open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot open: {exc}") from None
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        frame = _read_parquet(raw, path)
    elif lower.endswith(".csv"):
        frame = _read_csv(raw, path, csv_delimiter)
    else:
        frame = _read_jsonl(raw, path)
    return frame


def read_files(paths: list[str], csv_delimiter: str = ",") -> tuple[pd.DataFrame, list[str], list[UnreadableFile]]:
    """Every file is tried; returns the rows of the readable ones (tagged with their file),
    the readable paths and the failures."""
    frames: list[pd.DataFrame] = []
    failures: list[UnreadableFile] = []
    readable: list[str] = []
    for path in paths:
        try:
            frame = read_file(path, csv_delimiter)
        except UnreadableFile as exc:
            failures.append(exc)
            continue
        readable.append(path)
        frames.append((path, frame))
    non_empty = [(path, f) for path, f in frames if len(f)]
    if not non_empty:
        return pd.DataFrame(), readable, failures
    combined = pd.concat([f for _, f in non_empty], ignore_index=True) if len(non_empty) > 1 else non_empty[0][1]
    # Each row's file as a category: one code per row, not one copy of the path per row.
    combined[SOURCE_FILE_COLUMN] = pd.Categorical.from_codes(
        np.repeat(np.arange(len(non_empty), dtype=np.int32), [len(f) for _, f in non_empty]),
        categories=[path for path, _ in non_empty])
    return combined, readable, failures


def read_partition(location: str, partition_key: str, csv_delimiter: str = ",") -> PartitionData:
    files = list_partition_files(location, partition_key)
    frame, readable, failures = read_files(files, csv_delimiter)
    if failures:
        raise PartitionReadError(partition_key, failures, readable)
    return PartitionData(partition=partition_key, frame=frame, files=files)
