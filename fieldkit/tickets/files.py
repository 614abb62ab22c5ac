"""Files attached to tickets: copied in once, named by their SHA-256, never half-written.

A log or screenshot is streamed to a temp file in the store while it is hashed and counted, so a
file over the limit is refused without being read whole and nothing partial is ever left under
``files/``; the finished copy is renamed to its hash (the same file attached twice is stored
once). The ticket keeps only the name, size, type and hash.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

from fieldkit.errors import InputError
from fieldkit.tickets.storage import publish, staged_file, write_all

CHUNK = 1 << 20


def store_file(source: BinaryIO, files_dir: Path, tmp_dir: Path, limit: int) -> dict[str, Any]:
    """Copy ``source`` into ``files_dir``; returns size and sha256. Refuses more than ``limit``."""
    digest = hashlib.sha256()
    size = 0
    with staged_file(tmp_dir, "attach") as (fd, tmp):
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise InputError(f"the file is larger than the limit of {_mib(limit)} "
                                 "([tickets] max_attachment_mib)")
            digest.update(chunk)
            write_all(fd, chunk)
    sha256 = digest.hexdigest()
    publish(tmp, files_dir / sha256)
    return {"size": size, "sha256": sha256}


def _mib(limit: int) -> str:
    return f"{limit / (1 << 20):g} MiB"
