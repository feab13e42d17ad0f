"""Which files of a landing zone are new or changed since the last look (no Dagster here).

A file's version is its size plus its modification time or ETag, whatever the filesystem
reports, so a rewritten file is a new version and an untouched one is not.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from monitoring_assets.validation.readers import partition_entries


def _version(info: dict) -> str:
    for key in ("ETag", "etag", "md5", "mtime", "LastModified", "last_modified", "created", "updated"):
        if info.get(key) is not None:
            return f"{info.get('size')}:{info[key]}"
    return f"{info.get('size')}"


def scan_partitions(location: str, partitions: list[str]) -> dict[str, str]:
    """Map each data file inside the named partition folders (as `<partition>/<file>`) to its
    version. Only those folders are listed, so a tick's cost follows
    the look-back window, not the history of the landing zone."""
    found = {}
    for partition in partitions:
        # The assets' own listing: the same files, the same links left out.
        for path, info in partition_entries(location, partition)[0]:
            found[f"{partition}/{path.rsplit('/', 1)[-1]}"] = _version(info)
    return found


def changed_partitions(previous: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    changed: dict[str, list[str]] = defaultdict(list)
    for relative, version in current.items():
        if previous.get(relative) != version:
            changed[relative.split("/", 1)[0]].append(relative)
    return dict(changed)


def partition_digest(current: dict[str, str], partition: str) -> str:
    """A short digest of a partition's file versions: the run key of one request."""
    items = sorted((k, v) for k, v in current.items() if k.split("/", 1)[0] == partition)
    return hashlib.sha256(repr(items).encode()).hexdigest()[:16]
