"""Reading one partition of a landing zone: `<location>/<partition_key>/*`.

Every file of the partition is tried; a file that cannot be read is reported by name and
reason, and nothing is moved or deleted, so a fixed file can simply be dropped in again.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SOURCE_FILE_COLUMN = "_source_file"
# Set on CSV rows whose line had fewer fields than the header: the first missing column.
SHORT_LINE_COLUMN = "_short_line"
# Bounds on text files: a landed file past them is unusable, named with its reason, rather
# than read for minutes into gigabytes (one 50 MB line of 25 million columns, say).
MAX_CSV_COLUMNS = 4_096
MAX_FIELD_BYTES = csv.field_size_limit()  # Python's csv default, 128 KiB
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
    ignored_links: list[str] = field(default_factory=list)  # links that resolve outside the landing root

    @property
    def empty(self) -> bool:
        return not self.files


def partition_folder(location: str, partition_key: str) -> str:
    return f"{location.rstrip('/')}/{partition_key}"


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _protocol(fs: fsspec.AbstractFileSystem) -> str:
    return fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol


def local_path(url: str) -> str | None:
    """The path on this machine of a local URL or path (memory-mappable), else None."""
    fs, path = fsspec.core.url_to_fs(url)
    return path if _protocol(fs) in ("file", "local") else None


def partition_entries(location: str, partition_key: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """The partition's data files with their fsspec info, and the links left out.

    On a local landing zone nothing that resolves outside the landing root is read: not a
    linked file, not a linked partition folder. A link inside the root is read like the file
    it names. The sensors and the assets both list through here, so they see the same files.
    """
    folder = partition_folder(location, partition_key)
    fs, path = fsspec.core.url_to_fs(folder)
    protocol = _protocol(fs)
    local = protocol in ("file", "local")
    root = os.path.realpath(fsspec.core.url_to_fs(location)[1]) if local else ""
    try:
        entries = fs.ls(path, detail=True)
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    if local and not _within(os.path.realpath(path), root):
        return [], [path]
    files, ignored = [], []
    for info in sorted(entries, key=lambda i: str(i["name"])):
        name = str(info["name"]).rstrip("/")
        base = name.rsplit("/", 1)[-1]
        if info.get("type") == "directory" or base.startswith(".") or not base.lower().endswith(SUPPORTED_SUFFIXES):
            continue
        if local and not _within(os.path.realpath(name), root):
            ignored.append(name)
            continue
        files.append((name if local else f"{protocol}://{name.split('://', 1)[-1]}", info))
    return files, ignored


def list_partition_files(location: str, partition_key: str) -> list[str]:
    return [name for name, _ in partition_entries(location, partition_key)[0]]


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
    header_end = text.find("\n")
    header = text[: header_end if header_end >= 0 else len(text)]
    # An upper bound (a quoted delimiter counts too), enough to refuse a runaway header cheaply.
    columns_in_header = header.count(delimiter) + 1
    if columns_in_header > MAX_CSV_COLUMNS:
        raise UnreadableFile(path, f"{columns_in_header:,} columns in the header; at most {MAX_CSV_COLUMNS:,} are read "
                                   f"(is this a CSV of the inference logs?)")
    if delimiter not in header:
        for other in (";", "\t", "|", ","):
            if other != delimiter and other in header:
                raise UnreadableFile(
                    path, f"wrong delimiter: header uses {other!r}, configured {delimiter!r}"
                )
    # The field limit first: pandas would read a field of any size, then the count of the
    # line widths below would stop with an error that names neither file nor line.
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        widths = [len(row) for row in reader if row]
    except csv.Error as exc:
        reason = (f"a field longer than {MAX_FIELD_BYTES // 1024} KiB on line {reader.line_num}"
                  if "field larger than field limit" in str(exc) else f"malformed CSV on line {reader.line_num}: {exc}")
        raise UnreadableFile(path, reason) from None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, on_bad_lines="error")
    except pd.errors.ParserError as exc:
        raise UnreadableFile(path, f"malformed CSV: {exc}") from None
    # pandas fills a short (truncated) line with NaN silently; mark such rows instead.
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


def _read_parquet(source: pa.NativeFile, path: str) -> pd.DataFrame:
    if source.size() == 0:
        raise UnreadableFile(path, "empty file (0 bytes): a Parquet file has at least a footer")
    try:
        # One block per column: numbers stay in Arrow's buffers rather than being copied into
        # one consolidated block per type.
        return pq.read_table(source).to_pandas(split_blocks=True)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise UnreadableFile(path, f"corrupt or truncated Parquet: {exc}") from None


def read_file(path: str, csv_delimiter: str = ",") -> pd.DataFrame:
    lower = path.lower()
    parquet = lower.endswith((".parquet", ".pq"))
    local = local_path(path) if parquet else None
    try:
        if local is not None:
            # Memory-mapped: the columns are decoded from the page cache, not from a copy of the file.
            with pa.memory_map(local, "r") as source:
                return _read_parquet(source, path)
        with fsspec.open(path, "rb") as handle:
            raw = handle.read()
    except UnreadableFile:
        raise
    except OSError as exc:
        raise UnreadableFile(path, f"cannot open: {exc}") from None
    if parquet:
        frame = _read_parquet(pa.BufferReader(raw), path)
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


def arrival_time(info: dict) -> float:
    """When a file landed, as a timestamp, from whatever the filesystem reports (0 if nothing)."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            try:
                return pd.Timestamp(value).timestamp()
            except (TypeError, ValueError):
                continue
    return 0.0


def read_partition(location: str, partition_key: str, csv_delimiter: str = ",",
                   in_arrival_order: bool = False) -> PartitionData:
    """The partition's rows, file after file: in name order, or in the order the files landed
    (modification time, then name) when later files must win (label corrections)."""
    entries, ignored = partition_entries(location, partition_key)
    if in_arrival_order:
        entries = sorted(entries, key=lambda entry: (arrival_time(entry[1]), entry[0]))
    files = [name for name, _ in entries]
    frame, readable, failures = read_files(files, csv_delimiter)
    if failures:
        raise PartitionReadError(partition_key, failures, readable)
    return PartitionData(partition=partition_key, frame=frame, files=files, ignored_links=ignored)
