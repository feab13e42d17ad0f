"""Stored objects are replaced whole or not at all.

A write goes to a temporary name beside the target and is renamed over it only once complete:
a full disk, a killed run or a lost connection leaves the previous copy intact and readable
(a truncated Parquet file would fail every later read with "magic bytes not found").
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import IO, Any


@contextlib.contextmanager
def replacing(fs: Any, path: str) -> Iterator[IO[bytes]]:
    """A binary handle whose content replaces `path` on `fs` (an fsspec filesystem) when the
    block ends without error; on error the temporary file is removed and `path` is untouched."""
    folder, _, name = path.rpartition("/")
    temporary = f"{folder}/.{name}.{uuid.uuid4().hex[:12]}.partial"
    if folder:
        fs.makedirs(folder, exist_ok=True)
    try:
        with fs.open(temporary, "wb") as handle:
            yield handle
        fs.mv(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            if fs.exists(temporary):
                fs.rm(temporary)
        raise
