"""Finding tickets in a big store: filters on the indexes, documents read one shard at a time.

Everything here walks the shards newest first and reads a shard only when one of its tickets is
wanted, so memory stays flat in the number of tickets and a filter that matches a few tickets
reads a few files. A ticket present in both the hot set and the archive (a crash in the middle
of a move) is shown once, from the hot set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fieldkit.tickets.index import Row, searchable_text
from fieldkit.tickets.shards import Shards, ShardSets, shard_of


@dataclass(frozen=True)
class Filter:
    status: str | None = None
    site: str | None = None
    category: str | None = None
    level: int | None = None
    since: str | None = None  # UTC ISO time: updated at or after
    pending: bool = False  # only tickets with something not synced yet
    archived: bool = False  # the archive too
    where: Callable[[Row], bool] | None = None  # any other condition on the index row

    def keeps(self, row: Row) -> bool:
        return self.keeps_raw(list(row))

    def keeps_raw(self, row: list[Any]) -> bool:
        """The same test on an index row as a plain list (no object per ticket)."""
        return ((self.status is None or row[_STATUS] == self.status)
                and (self.site is None or row[_SITE].casefold() == self.site.casefold())
                and (self.category is None or row[_CATEGORY] == self.category)
                and (self.level is None or row[_LEVEL] == self.level)
                and (self.since is None or row[_UPDATED] >= self.since)
                and (not self.pending or row[_PENDING])
                and (self.where is None or self.where(Row._make(row))))


_STATUS, _SITE, _CATEGORY, _LEVEL, _UPDATED, _PENDING = (
    Row._fields.index(name) for name in ("status", "site", "category", "level", "updated_at",
                                         "pending"))


def shard_sets(sets: ShardSets, archived: bool) -> list[Shards]:
    return [sets.hot, sets.archived] if archived else [sets.hot]


def _layout(sets: ShardSets, archived: bool) -> tuple[list[int], list[tuple[Shards, set[int]]]]:
    """Shard numbers newest first, and which set holds which (the hot set first)."""
    held = [(shards, set(shards.numbers())) for shards in shard_sets(sets, archived)]
    return sorted(set().union(*(numbers for _s, numbers in held)), reverse=True), held


def rows(sets: ShardSets, wanted: Filter) -> Iterator[tuple[Shards, Row]]:
    """Matching index rows, newest first."""
    numbers, held = _layout(sets, wanted.archived)
    for shard in numbers:
        found: dict[int, tuple[Shards, list[Any]]] = {}
        for shards, present in held:
            if shard in present:
                for raw in shards.raw_rows(shard):
                    found.setdefault(raw[0], (shards, raw))  # the hot copy wins
        for number in sorted(found, reverse=True):
            shards, raw = found[number]
            if wanted.keeps_raw(raw):
                yield shards, Row._make(raw)


def documents(found: Iterator[tuple[Shards, Row]]) -> Iterator[dict[str, Any]]:
    """The stored ticket documents for index rows, reading each shard once; keys a ticket
    stored by an older fieldkit lacks get their defaults (as in ``Ticket.to_dict``)."""
    from fieldkit.tickets.model import stored_defaults

    defaults = stored_defaults()
    current: tuple[Shards, int] | None = None
    docs: dict[str, Any] = {}
    for shards, row in found:
        shard = shard_of(row.number)
        if current != (shards, shard):
            current = (shards, shard)
            docs = shards.read(shard).get("tickets", {})
        doc = docs.get(str(row.number))
        if doc is not None:
            yield doc if len(doc) >= len(defaults) else {**defaults, **doc}


@dataclass
class Hit:
    row: Row
    where: str  # title, note, solution, finding ...
    snippet: str


def search(sets: ShardSets, text: str | list[str], wanted: Filter,
           limit: int) -> tuple[list[Hit], int]:
    """Tickets holding every word of ``text`` (hot and archived), newest first, with the
    matching snippet; and how many matched in all. Words are found folded and by their
    beginning (``fieldkit.knowledge.text``)."""
    from fieldkit.knowledge.text import query_words

    terms = query_words(text)
    if not terms:
        return [], 0
    matches: list[tuple[Shards, Row]] = []
    numbers, held = _layout(sets, True)
    for shard in numbers:
        seen: set[int] = set()
        for shards, present in held:
            if shard not in present:
                continue
            found = shards.lookup(shard, terms) - seen
            if found:
                seen |= found
                matches += [(shards, row) for row in shards.rows(shard)
                            if row.number in found and wanted.keeps(row)]
    matches.sort(key=lambda item: (item[1].updated_at, item[1].number), reverse=True)
    read: dict[tuple[int, int], dict[str, Any]] = {}
    hits = []
    for shards, row in matches[:limit]:
        key = (id(shards), shard_of(row.number))
        if key not in read:
            read[key] = shards.read(key[1]).get("tickets", {})
        doc = read[key].get(str(row.number))
        if doc is not None:
            hits.append(Hit(row, *snippet(doc, terms)))
    return hits, len(matches)


def snippet(doc: dict[str, Any], terms: list[str], width: int = 70) -> tuple[str, str]:
    """Where the words occur, and a short piece of text around the first one."""
    from fieldkit.knowledge.text import first_hit

    for where, text in searchable_text(doc):
        flat = " ".join(text.split())
        hit = first_hit(flat, terms)
        if hit is None:
            continue
        start = max(0, hit[0] - width // 3)
        piece = flat[start:start + width]
        return where, ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")
    return "ticket", doc.get("title", "")
