"""The local ticket store: TinyDB files that survive crashes, second terminals and years of use.

Layout under ``<home>/store``::

    meta.json            {"format": "fieldkit.store", "schema": N}
    .lock                held (flock) around every read-modify-write
    tmp/                 temp files for atomic replace (same filesystem as the targets)
    tickets/0000.json    TinyDB: tickets FK-1..FK-256 and their outbox entries
    tickets/0001.json    TinyDB: tickets FK-257..FK-512 ... (see shards.py for why)
    archive/NNNN.json    closed, fully synced tickets moved out of the way, same layout
    runs/<uuid>.json     one diagnostic run each: the bulky evidence, out of the hot files

The next ref follows the highest one held (hot or archived), so creating a ticket touches one
file. Archived tickets stay readable by ref; changing one (reopen) moves it back first.

Why the outbox lives in the shard: a change and the record that it must still reach the central
ticket system are written in the same atomic replace; one without the other cannot happen.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from fieldkit.errors import NotFoundError, StoreVersionError
from fieldkit.tickets.model import Ticket, format_ref, parse_ref, utc_now
from fieldkit.tickets.shards import Shards, shard_of
from fieldkit.tickets.storage import atomic_write, dump_json, exclusive_lock, read_json

SCHEMA_VERSION = 1
STORE_FORMAT = "fieldkit.store"

# Migration hook: MIGRATIONS[n] upgrades a store from schema n to n + 1 (runs under the lock).
MIGRATIONS: dict[int, Callable[[TicketStore], None]] = {}

Mutation = Callable[[Ticket], "Event | None"]
# aliases: inside TicketStore, ``list`` names the method
Tickets = list[Ticket]
Outbox = dict[str, list[dict[str, Any]]]


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
        self.hot = Shards(self.tickets_dir, self.tmp_dir)
        self.archived = Shards(root / "archive", self.tmp_dir)

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
            doc = self.hot.ticket_doc(number) or self.archived.ticket_doc(number)
            if doc is not None:
                return Ticket.from_dict(doc)
        elif _looks_like_uuid(key):
            wanted = key.strip().lower()
            for shards in (self.hot, self.archived):
                for _number, doc in shards.iter_docs():
                    if doc["id"] == wanted:
                        return Ticket.from_dict(doc)
        raise NotFoundError(f"no ticket {key!r} (use 'fieldkit ticket list' to see refs)")

    def list(self, *, status: str | None = None, site: str | None = None,
             archived: bool = False) -> Tickets:
        """Tickets in ref order; archived ones only when asked for."""
        if not self._check_schema():
            return []
        site_key = site.casefold() if site else None
        docs = dict(self.hot.iter_docs())
        if archived:
            for number, doc in self.archived.iter_docs():
                docs.setdefault(number, doc)  # a copy left mid-move: the hot one wins
        tickets = (Ticket.from_dict(docs[n]) for n in sorted(docs))
        return [t for t in tickets if (status is None or t.status == status)
                and (site_key is None or t.site.casefold() == site_key)]

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
            number = max(self.hot.highest_number(), self.archived.highest_number()) + 1
            ticket.ref = format_ref(number)
            if run is not None:
                ticket.attach_run(self._save_run(run))
            with self.hot.open(shard_of(number)) as db:
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
            number = self._hot_number(key)
            with self.hot.open(shard_of(number)) as db:
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

    def outbox(self) -> Outbox:
        """Entries still to reach the central system, per ticket id, oldest first."""
        pending: Outbox = {}
        if not self._check_schema():
            return pending
        for shard in self.hot.numbers():
            entries = self.hot.read(shard).get("outbox", {})
            for doc_id in sorted(entries, key=int):
                entry = entries[doc_id]
                pending.setdefault(entry["ticket_id"], []).append(entry)
        return pending

    def settle(self, key: str, *, done: AbstractSet[str] = frozenset(),
               attempted: AbstractSet[str] = frozenset(), error: str | None = None,
               update: Callable[[Ticket], None] | None = None) -> Ticket:
        """Record sync progress for one ticket in one atomic write.

        Entries the server confirmed (``done``) leave the outbox; entries about to be sent are
        marked ``attempted`` first, so that after a crash the engine knows their outcome is
        unknown and checks the server before sending again. ``update`` applies what came back
        from the server (remote id, status) without creating new outbox entries.
        """
        with self._writing():
            number = self._hot_number(key)
            with self.hot.open(shard_of(number)) as db:
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

    # -- the archive -------------------------------------------------------------------------

    def archive(self, older_than: str) -> Tickets:
        """Move closed tickets with nothing left to sync, last changed before ``older_than``
        (UTC ISO time, inclusive), to the archive: they stop weighing on ``list`` and sync."""
        moved: Tickets = []
        with self._writing():
            for shard in self.hot.numbers():
                data = self.hot.read(shard)
                unsynced = {e["ticket_id"] for e in data.get("outbox", {}).values()}
                chosen = [Ticket.from_dict(doc) for doc in data.get("tickets", {}).values()
                          if doc["status"] == "closed" and doc["id"] not in unsynced
                          and doc["updated_at"] <= older_than]
                if not chosen:
                    continue
                # archive copy first: a crash in between leaves a copy in both, never none
                with self.archived.open(shard) as db:
                    for t in chosen:
                        db.table("tickets").upsert(Document(t.to_dict(), doc_id=t.number))
                with self.hot.open(shard) as db:
                    db.table("tickets").remove(doc_ids=[t.number for t in chosen])
                moved += chosen
        return sorted(moved, key=lambda t: t.number)

    # -- internals ----------------------------------------------------------------------------

    def _hot_number(self, key: str) -> int:
        """The ticket's number, after moving it back from the archive if it was there."""
        number = parse_ref(key)
        if number is not None and self.hot.ticket_doc(number) is not None:
            return number  # the usual case: one read of one shard
        ticket = self.get(key)  # a full id, an archived ticket, or NotFoundError
        number = ticket.number
        if self.hot.ticket_doc(number) is None:
            with self.hot.open(shard_of(number)) as db:
                db.table("tickets").insert(Document(ticket.to_dict(), doc_id=number))
            with self.archived.open(shard_of(number)) as db:
                db.table("tickets").remove(doc_ids=[number])
        return number

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
        # the home (config, profiles) is created private too; an existing one is left as it is
        for directory in (self.root.parent, self.root, self.tickets_dir, self.runs_dir,
                          self.tmp_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with exclusive_lock(self.root / ".lock"):
            for stale in self.tmp_dir.iterdir():  # left by a killed writer; we hold the lock
                stale.unlink(missing_ok=True)
            self._migrate()
            yield

    def _migrate(self) -> None:
        version = SCHEMA_VERSION
        if self._check_schema():
            version = (read_json(self.meta_path) or {})["schema"]
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](self)
            version += 1
        meta = {"format": STORE_FORMAT, "schema": version}
        if read_json(self.meta_path) != meta:
            atomic_write(self.meta_path, dump_json(meta), self.tmp_dir)

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
