"""Tickets in fixed-size TinyDB files ("shards"), numbered by ticket ref.

TinyDB rewrites a whole file on every change. One file for years of tickets would make every
``ticket new`` slower than the last; with shards of 256 tickets a change costs the same at 10
tickets and at 10,000, and a ref (``FK-300``) names its shard directly (``0001.json``). The store
keeps two sets with the same layout: the hot tickets and the archive.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware

from fieldkit.tickets.storage import AtomicJSONStorage

TICKETS_PER_SHARD = 256


def shard_of(number: int) -> int:
    return (number - 1) // TICKETS_PER_SHARD


class Shards:
    """One directory of shard files; each holds a ``tickets`` table (doc id = ticket number)."""

    def __init__(self, directory: Path, tmp_dir: Path) -> None:
        self.directory = directory
        self.tmp_dir = tmp_dir

    def path(self, shard: int) -> Path:
        return self.directory / f"{shard:04d}.json"

    def numbers(self) -> list[int]:
        if not self.directory.is_dir():
            return []
        return sorted(int(p.stem) for p in self.directory.glob("*.json") if p.stem.isdigit())

    def read(self, shard: int) -> dict[str, Any]:
        return AtomicJSONStorage(str(self.path(shard)), str(self.tmp_dir)).read() or {}

    def ticket_doc(self, number: int) -> dict[str, Any] | None:
        return self.read(shard_of(number)).get("tickets", {}).get(str(number))

    def iter_docs(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(ticket number, ticket document) in number order."""
        for shard in self.numbers():
            docs = self.read(shard).get("tickets", {})
            for number in sorted(docs, key=int):
                yield int(number), docs[number]

    def highest_number(self) -> int:
        """The highest ticket number held, or the start of the newest shard if it is empty."""
        shards = self.numbers()
        if not shards:
            return 0
        docs = self.read(shards[-1]).get("tickets", {})
        return max((int(n) for n in docs), default=shards[-1] * TICKETS_PER_SHARD)

    @contextmanager
    def open(self, shard: int) -> Iterator[TinyDB]:
        """One shard for a batch of changes that land on disk in a single atomic replace."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = TinyDB(str(self.path(shard)), tmp_dir=str(self.tmp_dir),
                    storage=CachingMiddleware(AtomicJSONStorage))
        cache = cast(CachingMiddleware, db.storage)
        cache.WRITE_CACHE_SIZE = 1 << 30  # flush only when we say so
        yield db  # an exception skips the flush: nothing is written
        cache.flush()
