"""Tickets in fixed-size TinyDB files ("shards"), numbered by ticket ref.

TinyDB rewrites a whole file on every change. One file for years of tickets would make every
``ticket new`` slower than the last; with shards of 256 tickets a change costs the same at 10
tickets and at 10,000, and a ref (``FK-300``) names its shard directly (``0001.json``). The store
keeps two sets with the same layout: the hot tickets and the archive. Every write of a shard also
writes its small indexes (``index.py``), so reading many tickets rarely means parsing them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware

from fieldkit.tickets import index
from fieldkit.tickets.storage import AtomicJSONStorage, atomic_write, dump_json, lock_if_free

TICKETS_PER_SHARD = 256


def shard_of(number: int) -> int:
    return (number - 1) // TICKETS_PER_SHARD


class ShardSets(Protocol):
    """A store's two sets of shards, all that querying and migrating need of it: so
    ``query`` and ``migrations`` sit below ``store`` (a :class:`TicketStore` is one)."""

    @property
    def hot(self) -> Shards: ...

    @property
    def archived(self) -> Shards: ...


class Shards:
    """One directory of shard files; each holds a ``tickets`` table (doc id = ticket number)."""

    def __init__(self, directory: Path, tmp_dir: Path, lock_path: Path | None = None) -> None:
        self.directory = directory
        self.tmp_dir = tmp_dir
        self.lock_path = lock_path  # the store's lock: index repairs by readers take it if free

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
        """One shard for a batch of changes that land on disk in a single atomic replace
        (the caller holds the store's lock)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = TinyDB(str(self.path(shard)), tmp_dir=str(self.tmp_dir),
                    storage=CachingMiddleware(AtomicJSONStorage))
        cache = cast(CachingMiddleware, db.storage)
        cache.WRITE_CACHE_SIZE = 1 << 30  # flush only when we say so
        yield db  # an exception skips the flush: nothing is written
        if cache._cache_modified_count:  # nothing changed: nothing to write
            cache.flush()
            index.write(self.path(shard), cache.cache or {}, self.tmp_dir)

    def write(self, shard: int, data: dict[str, Any]) -> None:
        """Replace a whole shard (bulk moves: no per-document table rebuilds), with its
        indexes; an empty shard is removed. The caller holds the store's lock."""
        path = self.path(shard)
        if not data.get("tickets") and not data.get("outbox"):
            for stale in (path, index.idx_path(path), index.words_path(path)):
                stale.unlink(missing_ok=True)
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, dump_json(data), self.tmp_dir)
        index.write(path, data, self.tmp_dir)

    # -- the indexes ------------------------------------------------------------------------

    def rows(self, shard: int) -> list[index.Row]:
        """The index rows of one shard (rebuilt from the shard if stale)."""
        return [index.Row._make(row) for row in self.raw_rows(shard)]

    def raw_rows(self, shard: int) -> list[list[Any]]:
        """The same rows as plain lists in ``index.Row`` order, for fast filters."""
        return index.read_rows(self.path(shard), lambda: self.read(shard),
                               self._repairer(shard))

    def lookup(self, shard: int, wanted: list[str]) -> set[int]:
        return index.lookup(self.path(shard), wanted, lambda: self.read(shard),
                            self._repairer(shard))

    def _repairer(self, shard: int):
        def repair(data: dict[str, Any]) -> None:
            if self.lock_path is None or not self.path(shard).exists():
                return
            with lock_if_free(self.lock_path) as locked:
                if locked:  # re-read under the lock: the shard may have changed meanwhile
                    index.write(self.path(shard), self.read(shard), self.tmp_dir)

        return repair
