"""``ticket attach``: files from disk or standard input onto a ticket, within the size limit."""

from __future__ import annotations

import mimetypes
import sys
from pathlib import Path
from typing import Any

from fieldkit.errors import InputError
from fieldkit.tickets.model import MAX_SHORT_TEXT, clean_text
from fieldkit.tickets.store import TicketStore


def attach_files(store: TicketStore, key: str, files: list[str],
                 stdin_name: str | None) -> list[dict[str, Any]]:
    from fieldkit.cli.common import section

    limit = int(section("tickets")["max_attachment_mib"] * (1 << 20))
    if files.count("-") > 1:
        raise InputError("standard input (-) can be attached only once per command")
    added = []
    for item in files:
        if item == "-":
            name = _file_name(stdin_name or "stdin.txt")
            _ticket, meta = store.attach_file(key, sys.stdin.buffer, name, _mime(name), limit)
        else:
            path = Path(item).expanduser()
            name = _file_name(stdin_name if stdin_name and len(files) == 1 else path.name)
            try:
                source = path.open("rb")
            except FileNotFoundError:
                raise InputError(f"{item}: no such file") from None
            except IsADirectoryError:
                raise InputError(f"{item}: is a directory (attach the files in it)") from None
            except PermissionError:
                raise InputError(f"{item}: permission denied") from None
            with source:
                _ticket, meta = store.attach_file(key, source, name, _mime(name), limit)
        added.append(meta)
    return added


def _file_name(name: str) -> str:
    name = clean_text("file name", Path(name).name, MAX_SHORT_TEXT, required=True)
    if name in (".", ".."):
        raise InputError(f"{name!r} is not a file name")
    return name


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
