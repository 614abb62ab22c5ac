"""The local ticket store: TinyDB files that survive crashes, second terminals and years of use.

Layout under ``<home>/store``::

    meta.json            {"format": "fieldkit.store", "schema": N}
    .lock                held (flock) around every read-modify-write
    tmp/                 temp files for atomic replace (same filesystem as the targets)
    tickets/0000.json    TinyDB: tickets FK-1..FK-256 and their outbox entries
    tickets/0001.json    TinyDB: tickets FK-257..FK-512 ... (see shards.py for why)
    archive/NNNN.json    closed, fully synced tickets moved out of the way, same layout
    runs/<uuid>.json     one diagnostic run each: the bulky evidence, out of the hot files
    files/<sha256>       attached files (logs, screenshots), stored once by content

The next ref follows the highest one held (hot or archived), so creating a ticket touches one
file. Archived tickets stay readable by ref; changing one (reopen) moves it back first.

Why the outbox lives in the shard: a change and the record that it must still reach the central
ticket system are written in the same atomic replace; one without the other cannot happen.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from tinydb import TinyDB

if TYPE_CHECKING:
    from fieldkit.tickets.query import Filter
from tinydb.table import Document

from fieldkit.errors import NotFoundError, StoreVersionError
from fieldkit.tickets import bulk
from fieldkit.tickets.files import store_files
from fieldkit.tickets.index import Row
from fieldkit.tickets.migrations import MIGRATIONS
from fieldkit.tickets.model import Event, Ticket, format_ref, parse_ref, utc_now
from fieldkit.tickets.shards import Shards, shard_of
from fieldkit.tickets.storage import atomic_write, dump_json, exclusive_lock, read_json

SCHEMA_VERSION = 2
STORE_FORMAT = "fieldkit.store"

Mutation = Callable[[Ticket], Any]  # changes the ticket; the events it records are kept
# aliases: inside TicketStore, ``list`` names the method
Tickets = list[Ticket]
Outbox = dict[str, list[dict[str, Any]]]
Pending = list[tuple[Ticket, list[dict[str, Any]]]]
Kept = list[dict[str, str]]
_PENDING, _FLAGGED = Row._fields.index("pending"), Row._fields.index("flagged")
Entries = list[dict[str, Any]]
RunIds = list[str]
Sources = list[tuple[str, BinaryIO]]  # (file name, open file) for attach_files
__all__ = ["Event", "Settlement", "TicketStore", "run_summary"]


@dataclass
class Settlement:
    """Sync progress for one ticket, written with others of its shard in one atomic replace.

    ``done``: entries the server confirmed (they leave the outbox). ``attempted``: entries about
    to be sent, stamped with the time, so that after a crash the engine checks the server before
    sending again; ``answered`` ones got an answer (whatever it was), so the server is no longer
    working on them and a later run need not wait before checking. ``update`` applies what came
    back from the server (remote id, status), never creating outbox entries. ``error`` is shown
    by ``sync status`` until the next attempt.
    """

    done: AbstractSet[str] = frozenset()
    attempted: AbstractSet[str] = frozenset()
    error: str | None = None
    update: Callable[[Ticket], None] | None = None
    answered: AbstractSet[str] = frozenset()  # attempted, and the server answered: it is done


class TicketStore:
    def __init__(self, root: Path, actor: str = "") -> None:
        self.root = root
        self.actor = actor  # who makes the changes: the technician, for ticket histories
        self.meta_path = root / "meta.json"
        self.tickets_dir = root / "tickets"
        self.runs_dir = root / "runs"
        self.files_dir = root / "files"
        self.checklist_runs_dir = root / "checklist-runs"
        self.tmp_dir = root / "tmp"
        self.lock_path = root / ".lock"
        self.hot = Shards(self.tickets_dir, self.tmp_dir, self.lock_path)
        self.archived = Shards(root / "archive", self.tmp_dir, self.lock_path)

    @classmethod
    def at_home(cls, home: Path, actor: str = "") -> TicketStore:
        return cls(home / "store", actor)

    # -- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        """A store is here (and this fieldkit can read it)."""
        return self._check_schema()

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
        """Tickets in ref order; archived ones only when asked for. Filters are answered by the
        indexes, so only shards holding a matching ticket are read."""
        from fieldkit.tickets import query

        return self.select(query.Filter(status=status, site=site, archived=archived))

    def select(self, wanted: Filter) -> Tickets:
        """The tickets a filter keeps, in ref order (one read per shard that holds some)."""
        from fieldkit.tickets import query

        if not self._check_schema():
            return []
        newest_first = [Ticket.from_dict(doc) for doc in
                        query.documents(query.rows(self, wanted))]
        return newest_first[::-1]

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
                ticket.attach_run(self.save_run(run))
            with self.hot.open(shard_of(number)) as db:
                db.table("tickets").insert(Document(ticket.to_dict(), doc_id=number))
                self._record_events(db, ticket)
        return ticket

    def change(self, key: str, mutate: Mutation) -> Ticket:
        """Apply ``mutate`` to one ticket under the lock; the events it records go to the outbox.

        If ``mutate`` raises (a refused transition, bad input), nothing is written.
        """
        with self._writing():
            number = self.hot_number(key)
            with self.hot.open(shard_of(number)) as db:
                table = db.table("tickets")
                ticket = Ticket.from_dict(dict(table.get(doc_id=number) or {}))
                ticket.actor = self.actor
                mutate(ticket)
                table.upsert(Document(ticket.to_dict(), doc_id=number))
                self._record_events(db, ticket)
        return ticket

    def change_many(self, keys: Iterable[str], mutate: Mutation) -> Tickets:
        """Apply ``mutate`` to many tickets: one atomic write per shard (``bulk.py``)."""
        with self._writing():
            return bulk.change(self, keys, mutate)

    def attach_run(self, key: str, run: dict[str, Any]) -> Ticket:
        return self.change(key, lambda ticket: ticket.attach_run(self.save_run(run)))

    def attach_files(self, key: str, sources: Sources, mime: Iterable[str],
                     limit: int) -> tuple[Ticket, Entries]:
        """Store files for a ticket (streamed, hashed, at most ``limit`` bytes each, 0600) and
        record them on the ticket in one write; the content lives under files/, out of the
        ticket tables. All or none: a file refused leaves the ticket as it was."""
        self.get(key)  # a typo fails before a large copy
        with self._writing():
            metas = store_files(sources, self.files_dir, self.tmp_dir, limit)
        added: Entries = []

        def attach(ticket: Ticket) -> None:
            for (name, _source), kind, meta in zip(sources, mime, metas, strict=True):
                added.append(ticket.add_attachment({"name": name, "mime": kind, **meta}))

        return self.change(key, attach), added

    def file_path(self, sha256: str) -> Path:
        return self.files_dir / sha256

    # -- checklist runs (fieldkit.checklists): each whole run in its own file ----------------

    def save_checklist_run(self, run: dict[str, Any], key: str | None = None,
                           mutate: Mutation | None = None) -> Ticket | None:
        """Write a checklist run's file; with ``key``, then apply ``mutate`` to that ticket
        under the same lock (file first: an outbox entry never names a run not on disk)."""
        if key is None:
            with self._writing():
                self._write_checklist_run(run)
            return None

        def both(ticket: Ticket) -> None:
            self._write_checklist_run(run)
            if mutate is not None:
                mutate(ticket)

        return self.change(key, both)

    def load_checklist_run(self, run_id: str) -> dict[str, Any]:
        data = read_json(self.checklist_runs_dir / f"{run_id}.json") \
            if _looks_like_uuid(run_id) else None
        if data is None:
            raise NotFoundError(f"no checklist run {run_id!r}")
        return data

    def checklist_run_ids(self) -> RunIds:
        """Every stored checklist run, the most recently written first."""
        if not self.checklist_runs_dir.is_dir():
            return []
        files = sorted(self.checklist_runs_dir.glob("*.json"), key=lambda p: p.stat().st_mtime,
                       reverse=True)
        return [p.stem for p in files if _looks_like_uuid(p.stem)]

    def _write_checklist_run(self, run: dict[str, Any]) -> None:
        self.checklist_runs_dir.mkdir(mode=0o700, exist_ok=True)
        atomic_write(self.checklist_runs_dir / f"{run['id']}.json",
                     json.dumps(run, ensure_ascii=False).encode("utf-8"), self.tmp_dir)

    # -- the outbox (drained by fieldkit.sync) ------------------------------------------------

    def outbox(self) -> Outbox:
        """Entries still to reach the central system, per ticket id, oldest first."""
        return {ticket.id: entries for ticket, entries in self.pending()}

    def pending(self) -> Pending:
        """Each ticket with outbox entries, and its entries oldest first. Only shards whose
        index shows something pending are read."""
        return self.sync_view()[0]

    def sync_view(self) -> tuple[Pending, Tickets]:
        """What ``sync status`` shows: the pending tickets with their entries, and the tickets
        flagged (a conflict, held), from one pass over the indexes."""
        pending: Pending = []
        flagged: Tickets = []
        if not self._check_schema():
            return pending, flagged
        for shard in self.hot.numbers():
            marked = {row[0]: row[_FLAGGED] for row in self.hot.raw_rows(shard)
                      if row[_PENDING] or row[_FLAGGED]}
            if not marked:
                continue
            data = self.hot.read(shard)
            entries = bulk.outbox_by_ticket(data)
            docs = data.get("tickets", {})
            for number in sorted(marked):
                doc = docs.get(str(number))
                if doc is None:
                    continue
                ticket = Ticket.from_dict(doc)
                if ticket.id in entries:
                    pending.append((ticket, [entry for _key, entry in entries[ticket.id]]))
                if marked[number]:
                    flagged.append(ticket)
        return pending, flagged

    def settle(self, key: str, *, done: AbstractSet[str] = frozenset(),
               attempted: AbstractSet[str] = frozenset(), error: str | None = None,
               update: Callable[[Ticket], None] | None = None) -> Ticket:
        """Record sync progress for one ticket (see :class:`Settlement`)."""
        return self.settle_many({key: Settlement(done, attempted, error, update)})[0]

    def settle_many(self, work: dict[str, Settlement]) -> Tickets:
        """Record sync progress for many tickets: one atomic write per shard, not per ticket."""
        with self._writing():
            return bulk.settle(self, work)

    # -- the archive -------------------------------------------------------------------------

    def archive(self, older_than: str) -> tuple[Tickets, Kept]:
        """Move closed tickets with nothing left to sync, last changed before ``older_than``
        (UTC ISO time, inclusive), to the archive: they stop weighing on ``list`` and sync.
        Returns the moved tickets and the closed ones kept, each with the reason."""
        with self._writing():
            return bulk.archive(self, older_than)

    def create_many(self, batch: Iterable[tuple[Ticket, dict[str, Any] | None]]) -> Tickets:
        """Store many new tickets (an import, a migration, a benchmark) with their runs and
        outbox events: one write per shard instead of one per ticket."""
        with self._writing():
            return bulk.create(self, batch)

    # -- internals ----------------------------------------------------------------------------

    def hot_number(self, key: str) -> int:
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
                          self.files_dir, self.tmp_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with exclusive_lock(self.lock_path):
            for stale in self.tmp_dir.iterdir():  # left by a killed writer; we hold the lock
                stale.unlink(missing_ok=True)
            self._migrate()
            yield

    def write_beside(self, name: str, data: bytes) -> None:
        """Replace a small file beside the tickets (``sync.json``) atomically, under the store's
        lock: whoever takes the lock clears the temp directory, so a write outside it could
        lose its temp file to a ``ticket new`` in another terminal."""
        with self._writing():
            atomic_write(self.root / name, data, self.tmp_dir)

    def upgrade(self) -> None:
        """Bring an older store to this schema now (sync does, before reading the outbox)."""
        if self._check_schema():
            with self._writing():
                pass

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

    def _record_events(self, db: TinyDB, ticket: Ticket) -> None:
        db.table("outbox").insert_multiple(self.outbox_entries(ticket))

    def outbox_entries(self, ticket: Ticket) -> Entries:
        """The ticket's new events as outbox entries (and forget them on the ticket)."""
        now = utc_now()
        entries = [{"event_id": event.event_id or str(uuid.uuid4()), "ticket_id": ticket.id,
                    "ref": ticket.ref, "kind": event.kind, "payload": event.payload, "at": now}
                   for event in ticket.events]
        ticket.events.clear()
        return entries

    def save_run(self, run: dict[str, Any]) -> dict[str, Any]:
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
