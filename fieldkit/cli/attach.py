"""``ticket attach``: files from disk or standard input onto a ticket, within the size limit."""

from __future__ import annotations

import mimetypes
import os
import stat
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO

from fieldkit.errors import InputError
from fieldkit.tickets.files import over_limit
from fieldkit.tickets.model import MAX_SHORT_TEXT, clean_text
from fieldkit.tickets.store import TicketStore


def attach_files(store: TicketStore, key: str, files: list[str],
                 stdin_name: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Check every file first (all problems in one message), then attach them in one write:
    a missing second file must not leave the first on the ticket."""
    from fieldkit.cli.common import section

    limit = int(section("tickets")["max_attachment_mib"] * (1 << 20))
    if files.count("-") > 1:
        raise InputError("standard input (-) can be attached only once per command")
    with ExitStack() as opened:
        sources: list[tuple[str, BinaryIO]] = []
        problems = []
        for item in files:
            if item == "-":
                sources.append((_file_name(stdin_name or "stdin.txt"), sys.stdin.buffer))
                continue
            path = Path(item).expanduser()
            name = _file_name(stdin_name if stdin_name and len(files) == 1 else path.name)
            try:
                source = opened.enter_context(path.open("rb"))
            except FileNotFoundError:
                problems.append(f"{item}: no such file")
                continue
            except IsADirectoryError:
                problems.append(f"{item}: is a directory (attach the files in it)")
                continue
            except PermissionError:
                problems.append(f"{item}: permission denied")
                continue
            info = os.fstat(source.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                problems.append(over_limit(item, limit))
                continue
            sources.append((name, source))
        if problems:
            raise InputError("; ".join(problems) + "; nothing was attached")
        ticket, added = store.attach_files(key, sources, [_mime(n) for n, _s in sources], limit)
    return ticket.ref, added


def _file_name(name: str) -> str:
    name = clean_text("file name", Path(name).name, MAX_SHORT_TEXT, required=True)
    if name in (".", ".."):
        raise InputError(f"{name!r} is not a file name")
    return name


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
