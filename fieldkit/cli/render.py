"""Rendering for humans (aligned tables, colour and symbols on a terminal) and for machines (JSON).

Plain ANSI and no rich: rich costs ~100 ms to import, more than the rest of the CLI.
Colour follows the conventions: only on a terminal, never with NO_COLOR set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

_COLOURS = {
    "ok": "32",
    "warn": "33",
    "fail": "31",
    "error": "35",
    "skip": "90",
    "bold": "1",
    "dim": "2",
}
_SYMBOLS = {"ok": "✔", "warn": "!", "fail": "✘", "error": "?", "skip": "-"}
_ASCII_SYMBOLS = {"ok": "+", "warn": "!", "fail": "x", "error": "?", "skip": "-"}


def print_json(data: Any) -> None:
    """Indented JSON, as ``json.dumps(indent=2)`` lays it out (see fieldkit.fastjson)."""
    from fieldkit import fastjson

    sys.stdout.write(fastjson.dumps_indented(data) + "\n")


def stream_json_array(items: Iterable[Any], batch: int = 256) -> None:
    """A JSON array written one item per line as items arrive: memory stays flat however many
    there are (items encoded as fieldkit.fastjson decides).

    The cyclic garbage collector is paused meanwhile: parsed JSON documents hold no cycles, so
    reference counting frees each one, while the collector kept re-scanning every live object
    as millions were allocated (a quarter of ``ticket list --json`` at 100,000 tickets)."""
    import gc

    from fieldkit import fastjson

    encode = fastjson.compact_encoder()
    written = 0
    pending: list[str] = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for item in items:
            pending.append(encode(item))
            if len(pending) == batch:
                sys.stdout.write(("[\n" if not written else ",\n") + ",\n".join(pending))
                written += len(pending)
                pending = []
    finally:
        if was_enabled:
            gc.enable()
    if pending:
        sys.stdout.write(("[\n" if not written else ",\n") + ",\n".join(pending))
        written += len(pending)
    sys.stdout.write("\n]\n" if written else "[]\n")


def use_colour() -> bool:
    return (
        sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    )


def paint(text: str, style: str) -> str:
    code = _COLOURS.get(style)
    return f"\x1b[{code}m{text}\x1b[0m" if code and use_colour() else text


def symbol(status: str) -> str:
    encoding = (sys.stdout.encoding or "").lower()
    table = _SYMBOLS if "utf" in encoding else _ASCII_SYMBOLS
    return paint(table.get(status, "?"), status)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 60,
          shrink: Sequence[str] = (), width: int | None = None) -> str:
    """Left-aligned columns, one line per row, fitted to the terminal's width.

    Over-long cells are cut with an ellipsis (at a word's end where that keeps most of the
    cell) as far as the terminal needs: the columns named in ``shrink`` (free text such as a
    title) give way first, widest first, then the others, never below their heading. Off a
    terminal (a pipe, a file; unless $COLUMNS says a width) a cell is cut at ``max_width``."""
    cells = [[" ".join(str(c).split()) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    limit = width or terminal_columns()
    if limit:
        _fit(widths, headers, shrink, limit)
    else:
        widths = [min(w, max(max_width, len(h))) for w, h in zip(widths, headers, strict=True)]
    cells = [[_cut(c, w) for c, w in zip(r, widths, strict=True)] for r in cells]
    header = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    lines = [paint(header, "bold")]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def terminal_columns() -> int | None:
    """$COLUMNS if set, else the width of the terminal stdout is; None off a terminal."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
    except (OSError, ValueError):
        return None


def _fit(widths: list[int], headers: Sequence[str], shrink: Sequence[str], limit: int) -> None:
    """Narrow columns (in place) until the row fits ``limit``: ``shrink`` ones first."""
    floors = [min(w, max(len(h), 6)) for w, h in zip(widths, headers, strict=True)]
    excess = sum(widths) + 2 * (len(widths) - 1) - limit
    first = [i for i, h in enumerate(headers) if h in shrink]
    for group in (first, range(len(widths))):
        while excess > 0:
            slack = [i for i in group if widths[i] > floors[i]]
            if not slack:
                break
            widest = max(slack, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1


def wrap(text: str, indent: int, width: int | None = None) -> str:
    """Wrap a long hint to the terminal, indented under its finding."""
    import shutil
    import textwrap

    width = width or min(shutil.get_terminal_size((100, 24)).columns, 110)
    return textwrap.fill(text, width=max(40, width), initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + 3))


def _cut(text: str, width: int) -> str:
    """``text`` in ``width`` characters: whole, or cut with "…", at a word's end if one is in
    the last third (so "Outlook: Senden schlägt fehl" becomes "Outlook: Senden…")."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    head = text[: width - 1]
    space = head.rfind(" ")
    if space >= (width - 1) * 2 // 3 and text[width - 1] != " ":
        head = head[:space]
    return head.rstrip(" ,;:-") + "…"
