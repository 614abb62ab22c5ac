"""Small indexes beside each shard, so lists, filters, searches and sync checks read only what
they need instead of parsing years of tickets.

Beside ``NNNN.json`` live ``NNNN.idx`` (one row per ticket: what a list, a filter or ``sync
status`` needs) and ``NNNN.words`` (the search index: each word and the ticket numbers holding
it, one line per word, so a lookup is a byte search, not a parse). Both are written with the
shard, under the store's lock, atomically, and record the shard file's signature (inode, size,
modification time) they were built from. The shard stays the truth: a reader that finds an
index missing, damaged or built from another version of the shard (a crash between the two
writes) rebuilds it from the shard, and a wrong answer is never shown.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from fieldkit.tickets.storage import atomic_write, parse_json

INDEX_VERSION = 1
WORDS_VERSION = 2  # 2: folded words, compound parts, single digits (fieldkit.knowledge.text)


class Row(NamedTuple):
    """What the index knows of one ticket."""

    number: int
    ref: str
    status: str
    site: str
    category: str
    priority: int
    level: int
    created_at: str
    updated_at: str
    pending: bool  # has outbox entries: not yet synced
    linked: bool  # has a remote ticket
    flagged: bool  # a sync conflict or a held ticket: sync status must show it
    title: str
    requester: str


def signature(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def rows_of(data: dict[str, Any]) -> list[Row]:
    """Index rows of one shard's data, in number order."""
    pending = {entry["ticket_id"] for entry in data.get("outbox", {}).values()}
    rows = []
    for key in sorted(data.get("tickets", {}), key=int):
        doc = data["tickets"][key]
        remote = doc.get("remote") or {}
        rows.append(Row(int(key), doc.get("ref", ""), doc.get("status", ""), doc.get("site", ""),
                        doc.get("category", ""), int(doc.get("priority") or 0),
                        int(doc.get("level") or 1), doc.get("created_at", ""),
                        doc.get("updated_at", ""), doc.get("id") in pending,
                        bool(remote.get("id")), bool(remote.get("conflict") or
                                                     remote.get("held")),
                        doc.get("title", ""), doc.get("requester", "")))
    return rows


def searchable_text(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, text) pairs a search looks at, in the order a snippet is chosen from."""
    parts = [("title", doc.get("title", "")), ("description", doc.get("description", ""))]
    parts += [("note", e.get("text", "")) for e in doc.get("worklog", [])]
    solutions = [h.get("solution", "") for h in doc.get("history", []) if h.get("solution")]
    if doc.get("solution") and doc["solution"] not in solutions:
        solutions.append(doc["solution"])
    parts += [("solution", text) for text in solutions]
    parts += [("escalation", e.get("reason", "")) for e in doc.get("escalations", [])]
    parts += [("finding", p) for run in doc.get("diag_runs", []) for p in run.get("problems", [])]
    parts += [("file", a.get("name", "")) for a in doc.get("attachments", [])]
    parts += [("site", doc.get("site", "")), ("requester", doc.get("requester", "")),
              ("asset", doc.get("asset", ""))]
    return [(where, text) for where, text in parts if text]


def words(text: str) -> set[str]:
    from fieldkit.knowledge.text import index_words

    return index_words(text)


def words_of(data: dict[str, Any]) -> dict[str, list[int]]:
    postings: dict[str, list[int]] = {}
    for key in sorted(data.get("tickets", {}), key=int):
        found: set[str] = set()
        for _where, text in searchable_text(data["tickets"][key]):
            found |= words(text)
        for word in found:
            postings.setdefault(word, []).append(int(key))
    return postings


def write(shard_path: Path, data: dict[str, Any], tmp_dir: Path) -> None:
    """Write both indexes of a shard just written (the caller holds the store's lock)."""
    sig = signature(shard_path)
    head = json.dumps({"v": INDEX_VERSION, "sig": sig})
    rows = [list(row) for row in rows_of(data)]
    atomic_write(idx_path(shard_path), (head + "\n" + json.dumps(rows, ensure_ascii=False))
                 .encode("utf-8"), tmp_dir)
    lines = [json.dumps({"v": WORDS_VERSION, "sig": sig})]
    lines += [f"{word}\t{','.join(map(str, numbers))}"
              for word, numbers in sorted(words_of(data).items())]
    atomic_write(words_path(shard_path), ("\n".join(lines) + "\n").encode("utf-8"), tmp_dir)


def idx_path(shard_path: Path) -> Path:
    return shard_path.with_suffix(".idx")


def words_path(shard_path: Path) -> Path:
    return shard_path.with_suffix(".words")


Reader = Callable[[], dict[str, Any]]  # reads the shard itself (the truth)
Persist = Callable[[dict[str, Any]], None]  # writes fresh indexes if the lock is free


def read_rows(shard_path: Path, read_shard: Reader, persist: Persist) -> list[list[Any]]:
    """The shard's rows as plain lists in ``Row`` order (a list filter over 100,000 tickets
    looks at them before deciding which become ``Row`` objects)."""
    raw = _current(idx_path(shard_path), shard_path)
    if raw is not None:
        try:
            rows = parse_json(raw)
            # written whole by this code or not at all (atomic replace): the shape of the
            # first row stands for all
            if isinstance(rows, list) and (not rows or (isinstance(rows[0], list)
                                                        and len(rows[0]) == len(Row._fields))):
                return rows
        except ValueError:
            pass  # damaged: rebuilt below
    data = read_shard()
    persist(data)
    return [list(row) for row in rows_of(data)]


def lookup(shard_path: Path, wanted: list[str], read_shard: Reader,
           persist: Persist) -> set[int]:
    """Numbers of the tickets in this shard holding every word in ``wanted`` (folded query
    words: each finds the words it begins, see ``fieldkit.knowledge.text.matches``)."""
    raw = _current(words_path(shard_path), shard_path, WORDS_VERSION)
    if raw is None:
        data = read_shard()
        persist(data)
        return _from_postings(words_of(data), wanted)
    blob = "\n" + raw
    found: set[int] | None = None
    for word in wanted:
        numbers: set[int] = set()
        # the lines are sorted: the words beginning with ``word`` follow each other
        at = blob.find(f"\n{word}\t" if len(word) < 2 else f"\n{word}")
        while at >= 0 and blob.startswith(word, at + 1):
            end = blob.find("\n", at + 1)
            term, tab, line = blob[at + 1:end if end >= 0 else None].partition("\t")
            if not tab or not term.startswith(word):
                break
            if len(word) < 2 and term != word:
                break
            try:
                numbers.update(int(n) for n in line.split(",") if n)
            except ValueError:  # damaged: answer from the shard, and repair
                data = read_shard()
                persist(data)
                return _from_postings(words_of(data), wanted)
            at = end
        found = numbers if found is None else found & numbers
        if not found:
            return set()
    return found or set()


def _from_postings(postings: dict[str, list[int]], wanted: list[str]) -> set[int]:
    from fieldkit.knowledge.text import matches

    found: set[int] | None = None
    for word in wanted:
        numbers = {n for term, held in postings.items() if matches(word, term) for n in held}
        found = numbers if found is None else found & numbers
    return found or set()


def _current(path: Path, shard_path: Path, version: int = INDEX_VERSION) -> str | None:
    """The index body when it was built from the shard as it is now; None otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    head, _, body = text.partition("\n")
    try:
        meta = json.loads(head)
    except ValueError:
        return None
    if not isinstance(meta, dict) or meta.get("v") != version \
            or meta.get("sig") != signature(shard_path):
        return None
    return body
