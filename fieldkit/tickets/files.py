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


def store_files(sources: list[tuple[str, BinaryIO]], files_dir: Path, tmp_dir: Path,
                limit: int) -> list[dict[str, Any]]:
    """Copy each ``(name, source)`` into ``files_dir``, all or none; returns sizes and sha256s.

    Every file is staged to a temp file first and only renamed to its hash once all of them are
    complete and within ``limit``: a refused second file leaves no trace of the first (a retry
    must not attach it twice).
    """
    staged: list[tuple[Path, dict[str, Any]]] = []
    try:
        for name, source in sources:
            staged.append(_stage(name, source, tmp_dir, limit))
    except BaseException:
        for tmp, _meta in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, meta in staged:
        publish(tmp, files_dir / meta["sha256"])
    return [meta for _tmp, meta in staged]


def _stage(name: str, source: BinaryIO, tmp_dir: Path, limit: int) -> tuple[Path, dict[str, Any]]:
    digest = hashlib.sha256()
    size = 0
    with staged_file(tmp_dir, "attach") as (fd, tmp):
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise InputError(over_limit(name, limit) + "; nothing was attached")
            digest.update(chunk)
            write_all(fd, chunk)
    return tmp, {"size": size, "sha256": digest.hexdigest()}


def over_limit(name: str, limit: int) -> str:
    return f"{name}: larger than the limit of {_mib(limit)} per file ([tickets] max_attachment_mib)"


def _mib(limit: int) -> str:
    return f"{limit / (1 << 20):g} MiB"
