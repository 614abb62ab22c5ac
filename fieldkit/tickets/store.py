"""The local ticket store: TinyDB files that survive crashes, second terminals and years of use.

Layout under ``<home>/store``::

    meta.json            {"format": "fieldkit.store", "schema": N}
    .lock                held (flock) around every read-modify-write
    tmp/                 temp files for atomic replace (same filesystem as the targets)
    tickets/0000.json    TinyDB: tickets FK-1..FK-256 and their outbox entries
    tickets/0001.json    TinyDB: tickets FK-257..FK-512 ...
    runs/<uuid>.json     one diagnostic run each: the bulky evidence, out of the hot files

Why shards: TinyDB rewrites a whole file on every change. One file for years of tickets would
make every ``ticket new`` slower than the last; with fixed-size shards a change costs the same at
10 tickets and at 10,000, and a ref (``FK-300``) names its shard directly. The next ref is derived
from the newest shard, so creating a ticket touches exactly one file.

Why the outbox lives in the shard: a change and the record that it must still reach the central
ticket system are written in the same atomic replace; one without the other cannot happen.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.table import Document

from fieldkit.errors import NotFoundError, StoreVersionError
from fieldkit.tickets.model import Ticket, format_ref, parse_ref, utc_now
from fieldkit.tickets.storage import (
    AtomicJSONStorage,
    atomic_write,
    dump_json,
    exclusive_lock,
    read_json,
)

SCHEMA_VERSION = 1
STORE_FORMAT = "fieldkit.store"
TICKETS_PER_SHARD = 256

# Migration hook: MIGRATIONS[n] upgrades a store from schema n to n + 1 (runs under the lock).
MIGRATIONS: dict[int, Callable[[TicketStore], None]] = {}

Mutation = Callable[[Ticket], "Event | None"]


@dataclass
class Event:
    """A change that must reach the central ticket system, recorded in the ticket's outbox."""

    kind: str  # created, edited, note, escalated, status, diag_run
    payload: dict[str, Any]
    # notes, escalations and runs reuse their own id, so the copy on the server names them
    event_id: str = ""


class TicketStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.meta_path = root / "meta.json"
        self.tickets_dir = root / "tickets"
        self.runs_dir = root / "runs"
        self.tmp_dir = root / "tmp"

    @classmethod
    def at_home(cls, home: Path) -> TicketStore:
        return cls(home / "store")

    # -- reading ------------------------------------------------------------------------------

    def get(self, key: str) -> Ticket:
        """Find a ticket by ref (``FK-12``, ``12``) or by its full id."""
        if not self._check_schema():
            raise NotFoundError(f"no ticket {key!r} (the store is empty)")
        number = parse_ref(key)
        if number is not None:
            doc = self._read_shard(self._shard_of(number)).get("tickets", {}).get(str(number))
            if doc is not None:
                return Ticket.from_dict(doc)
        elif _looks_like_uuid(key):
            for ticket in self._iter_tickets():
                if ticket.id == key.strip().lower():
                    return ticket
        raise NotFoundError(f"no ticket {key!r} (use 'fieldkit ticket list' to see refs)")

    def list(self, *, status: str | None = None, site: str | None = None) -> list[Ticket]:
        if not self._check_schema():
            return []
        site_key = site.casefold() if site else None
        return [
            t
            for t in self._iter_tickets()
            if (status is None or t.status == status)
            and (site_key is None or t.site.casefold() == site_key)
        ]

    def load_run(self, run_id: str) -> dict[str, Any]:
        if not _looks_like_uuid(run_id):
            raise NotFoundError(f"no diagnostic run {run_id!r}")
        data = read_json(self.runs_dir / f"{run_id}.json")
        if data is None:
            raise NotFoundError(f"no diagnostic run {run_id!r}")
        return data

    # -- writing ------------------------------------------------------------------------------

    def create(self, ticket: Ticket, run: dict[str, Any] | None = None) -> Ticket:
        """Store a new ticket (and its first diagnostic run), giving it the next free ref."""
        with self._writing():
            number = self._next_number()
            ticket.ref = format_ref(number)
            if run is not None:
                ticket.attach_run(self._save_run(run))
            with self._shard(self._shard_of(number)) as db:
                db.table("tickets").insert(Document(ticket.to_dict(), doc_id=number))
                self._record(db, ticket, Event("created", {}))
                for summary in ticket.diag_runs:
                    self._record(db, ticket, Event("diag_run", {"run_id": summary["id"]},
                                                   summary["id"]))
        return ticket

    def change(self, key: str, mutate: Mutation) -> Ticket:
        """Apply ``mutate`` to one ticket under the lock; what it returns goes to the outbox.

        If ``mutate`` raises (a refused transition, bad input), nothing is written.
        """
        with self._writing():
            number = self.get(key).number
            with self._shard(self._shard_of(number)) as db:
                table = db.table("tickets")
                ticket = Ticket.from_dict(dict(table.get(doc_id=number) or {}))
                event = mutate(ticket)
                table.upsert(Document(ticket.to_dict(), doc_id=number))
                if event is not None:
                    self._record(db, ticket, event)
        return ticket

    def attach_run(self, key: str, run: dict[str, Any]) -> Ticket:
        def attach(ticket: Ticket) -> Event:
            summary = self._save_run(run)
            ticket.attach_run(summary)
            return Event("diag_run", {"run_id": summary["id"]}, summary["id"])

        return self.change(key, attach)

    # -- the outbox (drained by fieldkit.sync) ------------------------------------------------

    def outbox(self) -> dict[str, list[dict[str, Any]]]:
        """Entries still to reach the central system, per ticket id, oldest first."""
        pending: dict[str, list[dict[str, Any]]] = {}
        if not self._check_schema():
            return pending
        for shard in self._shard_numbers():
            entries = self._read_shard(shard).get("outbox", {})
            for doc_id in sorted(entries, key=int):
                entry = entries[doc_id]
                pending.setdefault(entry["ticket_id"], []).append(entry)
        return pending

    def settle(self, key: str, *, done: set[str] = frozenset(), attempted: set[str] = frozenset(),
               error: str | None = None, update: Callable[[Ticket], None] | None = None) -> Ticket:
        """Record sync progress for one ticket in one atomic write.

        Entries the server confirmed (``done``) leave the outbox; entries about to be sent are
        marked ``attempted`` first, so that after a crash the engine knows their outcome is
        unknown and checks the server before sending again. ``update`` applies what came back
        from the server (remote id, status) without creating new outbox entries.
        """
        with self._writing():
            number = self.get(key).number
            with self._shard(self._shard_of(number)) as db:
                table = db.table("tickets")
                ticket = Ticket.from_dict(dict(table.get(doc_id=number) or {}))
                outbox = db.table("outbox")
                mine = [doc for doc in outbox.all() if doc["ticket_id"] == ticket.id]
                gone = [doc.doc_id for doc in mine if doc["event_id"] in done]
                if gone:
                    outbox.remove(doc_ids=gone)
                for doc in mine:
                    if doc.doc_id in gone:
                        continue
                    changes: dict[str, Any] = {}
                    if doc["event_id"] in attempted:
                        changes["attempted"] = True
                    if error is not None:
                        changes["last_error"] = error
                    if changes:
                        outbox.update(changes, doc_ids=[doc.doc_id])
                if update is not None:
                    update(ticket)
                    table.upsert(Document(ticket.to_dict(), doc_id=number))
        return ticket

    # -- internals ----------------------------------------------------------------------------

    def _check_schema(self) -> bool:
        """True when a store exists and this fieldkit can read it; raise when it is too new."""
        meta = read_json(self.meta_path)
        if meta is None:
            return False
        version = meta.get("schema") if isinstance(meta, dict) else None
        if not isinstance(version, int):
            from fieldkit.errors import StoreCorruptError

            raise StoreCorruptError(f"{self.meta_path} has no schema version; left untouched")
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the store at {self.root} was written by a newer fieldkit (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade fieldkit - the store was left untouched"
            )
        return True

    @contextmanager
    def _writing(self) -> Iterator[None]:
        for directory in (self.root, self.tickets_dir, self.runs_dir, self.tmp_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with exclusive_lock(self.root / ".lock"):
            for stale in self.tmp_dir.iterdir():  # left by a killed writer; we hold the lock
                stale.unlink(missing_ok=True)
            self._migrate()
            yield

    def _migrate(self) -> None:
        if self._check_schema():
            version = read_json(self.meta_path)["schema"]
        else:
            version = SCHEMA_VERSION
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](self)
            version += 1
        meta = {"format": STORE_FORMAT, "schema": version}
        if read_json(self.meta_path) != meta:
            atomic_write(self.meta_path, dump_json(meta), self.tmp_dir)

    @staticmethod
    def _shard_of(number: int) -> int:
        return (number - 1) // TICKETS_PER_SHARD

    def _shard_path(self, shard: int) -> Path:
        return self.tickets_dir / f"{shard:04d}.json"

    def _shard_numbers(self) -> list[int]:
        if not self.tickets_dir.is_dir():
            return []
        return sorted(int(p.stem) for p in self.tickets_dir.glob("*.json") if p.stem.isdigit())

    def _read_shard(self, shard: int) -> dict[str, Any]:
        storage = AtomicJSONStorage(str(self._shard_path(shard)), str(self.tmp_dir))
        return storage.read() or {}

    def _iter_tickets(self) -> Iterator[Ticket]:
        for shard in self._shard_numbers():
            docs = self._read_shard(shard).get("tickets", {})
            for number in sorted(docs, key=int):
                yield Ticket.from_dict(docs[number])

    def _next_number(self) -> int:
        shards = self._shard_numbers()
        if not shards:
            return 1
        docs = self._read_shard(shards[-1]).get("tickets", {})
        highest = max((int(n) for n in docs), default=shards[-1] * TICKETS_PER_SHARD)
        return highest + 1

    @contextmanager
    def _shard(self, shard: int) -> Iterator[TinyDB]:
        """Open one shard for a batch of changes that land on disk in a single atomic replace."""
        db = TinyDB(
            str(self._shard_path(shard)),
            tmp_dir=str(self.tmp_dir),
            storage=CachingMiddleware(AtomicJSONStorage),
        )
        db.storage.WRITE_CACHE_SIZE = 1 << 30  # flush only when we say so
        yield db  # an exception skips the flush: nothing is written
        db.storage.flush()

    def _record(self, db: TinyDB, ticket: Ticket, event: Event) -> None:
        db.table("outbox").insert(
            {
                "event_id": event.event_id or str(uuid.uuid4()),
                "ticket_id": ticket.id,
                "ref": ticket.ref,
                "kind": event.kind,
                "payload": event.payload,
                "at": utc_now(),
            }
        )

    def _save_run(self, run: dict[str, Any]) -> dict[str, Any]:
        run = dict(run)
        run.setdefault("id", str(uuid.uuid4()))
        atomic_write(
            self.runs_dir / f"{run['id']}.json",
            json.dumps(run, ensure_ascii=False).encode("utf-8"),
            self.tmp_dir,
        )
        return run_summary(run)


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """What a ticket keeps of a diagnostic run: enough to list and triage, not the evidence."""
    counts: dict[str, int] = {}
    for finding in run.get("findings", []):
        counts[finding["status"]] = counts.get(finding["status"], 0) + 1
    problems = [
        f"{f['check']}: {f['summary']}"
        for f in run.get("findings", [])
        if f["status"] in ("fail", "warn", "error")
    ]
    return {
        "id": run["id"],
        "host": run.get("host", ""),
        "started_at": run.get("started_at", ""),
        "duration_s": run.get("duration_s", 0.0),
        "counts": counts,
        "problems": problems[:20],
    }


def _looks_like_uuid(text: str) -> bool:
    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True
