"""Drain the outbox into a backend, exactly once, and bring server-side changes back.

Per ticket, in order: make sure the remote ticket exists (search by client id, create, re-read
to confirm), then send the ticket's pending events. Before sending, entries are marked
*attempted* in the store; after the server confirmed them they leave the outbox. If the process
dies in between, the next run sees "attempted" and asks the backend which event ids already
arrived (every note carries its event id) before sending anything again.

Status is merged three ways against the value both sides agreed on at the last sync: whoever
changed it wins; if both changed it differently, that is a conflict, shown and left for the
technician (`fieldkit sync resolve`), never silently dropped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from fieldkit.sync.backend import Backend, RemoteTicket, SyncError
from fieldkit.tickets.model import Ticket, utc_now
from fieldkit.tickets.storage import atomic_write, dump_json, read_json
from fieldkit.tickets.store import TicketStore

DETAIL_FIELDS = {"description", "requester", "contact", "asset"}  # no remote field: sent as a note
Progress = Callable[[int, int, str], None]


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    fatal: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SyncEngine:
    def __init__(self, store: TicketStore, backend: Backend, *, max_workers: int = 4,
                 progress: Progress | None = None) -> None:
        self.store, self.backend = store, backend
        self.max_workers = max_workers
        self.progress = progress or (lambda done, total, ref: None)
        self.report = SyncReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def run(self) -> SyncReport:
        try:
            self.backend.open()
        except SyncError as exc:  # nothing can be synced: say why, keep everything pending
            self.report.fatal = str(exc)
            self.report.errors.append({"ref": "-", "kind": exc.kind, "message": str(exc)})
            return self._finish()
        outbox = self.store.outbox()
        total, done = len(outbox), 0
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            for ref in pool.map(self._push_guarded, outbox.items()):
                done += 1
                self.progress(done, total, ref)
        if not self._stop.is_set():
            self._pull([t for t in self.store.list() if t.remote.get("id") and t.id not in outbox])
        return self._finish()

    def _finish(self) -> SyncReport:
        remaining = self.store.outbox()
        self.report.pending = sum(len(v) for v in remaining.values()) + len(self.report.conflicts)
        save_state(self.store, self.report)
        return self.report

    # -- push ------------------------------------------------------------------------------

    def _push_guarded(self, item: tuple[str, list[dict[str, Any]]]) -> str:
        # the store is addressed by ref: a ref names its shard, a full id means a scan
        _ticket_id, entries = item
        ref = entries[0]["ref"]
        if self._stop.is_set():
            return ref
        try:
            self._push(ref, entries)
        except SyncError as exc:
            with self._lock:
                self.report.failed += 1
                self.report.errors.append({"ref": ref, "kind": exc.kind, "message": str(exc)})
                if exc.fatal and not self._stop.is_set():
                    self._stop.set()
                    self.report.fatal = str(exc)
            self.store.settle(ref, error=str(exc))
        return ref

    def _push(self, ref: str, entries: list[dict[str, Any]]) -> None:
        ticket = self.store.get(ref)
        server: RemoteTicket | None = None
        created = False
        if not ticket.remote.get("id"):
            ticket, server, created = self._ensure_remote(ticket, entries)
            if created:
                self._count("created")  # it exists remotely now, whatever happens next
        remote_id = ticket.remote["id"]
        others = [e for e in entries if e["kind"] != "created"]
        arrived = (self.backend.posted_event_ids(remote_id)
                   if any(e.get("attempted") for e in others) else set())
        to_send = [e for e in others if e["event_id"] not in arrived]
        confirmed = {e["event_id"] for e in others if e["event_id"] in arrived}
        confirmed |= {e["event_id"] for e in entries if e["kind"] == "created"}
        ticket = self.store.settle(ref, done=confirmed,
                                   attempted={e["event_id"] for e in to_send})
        sent: set[str] = set()
        try:
            for entry in to_send:
                self._send(ticket, remote_id, entry)
                sent.add(entry["event_id"])
        finally:
            if sent:
                ticket = self.store.settle(ref, done=sent)
        if not created and (to_send or server is not None):
            self._count("updated")
        self._reconcile(ticket, server or self.backend.get(remote_id))

    def _ensure_remote(self, ticket: Ticket,
                       entries: list[dict[str, Any]]) -> tuple[Ticket, RemoteTicket, bool]:
        server = self.backend.find_by_client_id(ticket.id)
        created = server is None
        if server is None:
            intents = {e["event_id"] for e in entries if e["kind"] == "created"}
            self.store.settle(ticket.ref, attempted=intents)
            made = self.backend.create(ticket)
            server = self.backend.get(made.id)
            if server.client_id != ticket.id:
                raise SyncError(f"the server did not keep {ticket.ref}'s client id on ticket "
                                f"{made.id}: check that the FieldkitID custom field applies to "
                                "the queue", kind="config", fatal=True)
        found = server

        def remember(t: Ticket) -> None:
            t.remote.update(id=found.id, url=found.url, status=found.status, owner=found.owner,
                            synced_at=utc_now())

        return self.store.settle(ticket.ref, update=remember), server, created

    def _send(self, ticket: Ticket, remote_id: str, entry: dict[str, Any]) -> None:
        kind, payload, event_id = entry["kind"], entry.get("payload", {}), entry["event_id"]
        if kind == "note":
            note = _by_id(ticket.worklog, payload.get("entry_id"))
            if note:
                self.backend.add_note(remote_id, event_id, note["text"], note["minutes"])
        elif kind == "escalated":
            esc = _by_id(ticket.escalations, payload.get("entry_id"))
            if esc:
                self.backend.add_note(remote_id, event_id,
                                      f"Escalated from level {esc['from_level']} to level "
                                      f"{esc['to_level']}: {esc['reason']}")
            self.backend.update(remote_id, ticket, {"level"})
        elif kind == "edited":
            changed = set(payload.get("changes", {}))
            self.backend.update(remote_id, ticket, changed - DETAIL_FIELDS - {"status"})
            details = sorted(changed & DETAIL_FIELDS)
            if details:
                text = "Details changed:\n" + "\n".join(
                    f"{name}: {getattr(ticket, name)}" for name in details)
                self.backend.add_note(remote_id, event_id, text)
        elif kind == "status":
            if payload.get("status") in ("resolved", "closed") and payload.get("solution"):
                self.backend.add_note(remote_id, event_id, f"Resolved: {payload['solution']}")
        elif kind == "diag_run":
            self._send_run(remote_id, event_id, payload["run_id"])

    def _send_run(self, remote_id: str, event_id: str, run_id: str) -> None:
        run = self.store.load_run(run_id)
        self.backend.attach(remote_id, event_id, run_text(run), f"fieldkit-diag-{run_id}.json",
                            json.dumps(run, indent=1, ensure_ascii=False).encode("utf-8"),
                            "application/json")

    # -- pull and merge ----------------------------------------------------------------------

    def _pull(self, tickets: list[Ticket]) -> None:
        if not tickets:
            return
        try:
            servers = self.backend.get_many([t.remote["id"] for t in tickets])
        except SyncError as exc:
            self.report.errors.append({"ref": "-", "kind": exc.kind, "message": str(exc)})
            return
        for ticket in tickets:
            if ticket.remote["id"] in servers:
                self._reconcile(ticket, servers[ticket.remote["id"]])

    def _reconcile(self, ticket: Ticket, server: RemoteTicket) -> None:
        base = ticket.remote.get("status")
        want = self.backend.to_remote_status(ticket.status)
        now = server.status
        conflict = None
        pulled = None
        if want != now:
            if now == base:
                self.backend.update(server.id, ticket, {"status"})
                now = want
            elif want == base:
                pulled = self.backend.to_local_status(now)
            else:
                conflict = {"ref": ticket.ref, "field": "status", "local": ticket.status,
                            "remote": now, "base": base}
        if conflict:
            with self._lock:
                self.report.conflicts.append(conflict)
        unchanged = (pulled is None and conflict is None and base == now
                     and ticket.remote.get("owner") == server.owner
                     and not ticket.remote.get("conflict"))
        if unchanged:
            return
        if pulled is not None and not conflict:
            self._count("updated")

        def apply(t: Ticket) -> None:
            t.remote.update(owner=server.owner, synced_at=utc_now())
            if conflict:
                t.remote["conflict"] = conflict
                return
            t.remote.pop("conflict", None)
            t.remote["status"] = now
            if pulled is not None:
                t.status = pulled
                t.touch()

        self.store.settle(ticket.ref, update=apply)

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self.report, what, getattr(self.report, what) + 1)


def resolve_conflict(store: TicketStore, key: str, keep: str,
                     to_local: Callable[[str], str]) -> Ticket:
    """Settle a status conflict: keep the local value (pushed next sync) or take the server's."""
    ticket = store.get(key)
    conflict = ticket.remote.get("conflict")
    if not conflict:
        from fieldkit.errors import InputError

        raise InputError(f"{ticket.ref} has no sync conflict")

    def apply(t: Ticket) -> None:
        t.remote["status"] = conflict["remote"]  # the new baseline: the server's value
        if keep == "remote":
            t.status = to_local(conflict["remote"])
            t.touch()
        t.remote.pop("conflict", None)

    return store.settle(ticket.ref, update=apply)


def plan(store: TicketStore) -> list[dict[str, Any]]:
    """What a sync would send, without touching the network (--dry-run)."""
    tickets = {t.id: t for t in store.list()}
    return [{"ref": entries[0].get("ref"), "id": tid,
             "remote_id": tickets[tid].remote.get("id") if tid in tickets else None,
             "events": [e["kind"] for e in entries],
             "attempted": sum(1 for e in entries if e.get("attempted")),
             "last_error": next((e["last_error"] for e in entries if e.get("last_error")), None)}
            for tid, entries in store.outbox().items()]


def run_text(run: dict[str, Any]) -> str:
    """A diagnostic run as a readable note; the full JSON goes along as the attachment."""
    lines = [f"fieldkit diagnostics on {run.get('host')} at {run.get('started_at')}"]
    for f in sorted(run.get("findings", []), key=lambda f: f["status"] not in ("fail", "warn")):
        lines.append(f"[{f['status'].upper():5}] {f['check']} {f['subject']}: {f['summary']}")
        if f.get("hint") and f["status"] in ("fail", "warn"):
            lines.append(f"        tip: {f['hint']}")
    return "\n".join(lines)


def _by_id(items: list[dict[str, Any]], item_id: str | None) -> dict[str, Any] | None:
    return next((item for item in items if item.get("id") == item_id), None)


def state_path(store: TicketStore):
    return store.root / "sync.json"


def save_state(store: TicketStore, report: SyncReport) -> None:
    state = load_state(store)
    state.update(last_sync_at=utc_now(), last_result={k: getattr(report, k) for k in
                                                     ("created", "updated", "failed", "pending")})
    state["last_error"] = report.fatal or (report.errors[-1]["message"] if report.errors else None)
    if report.fatal is None and not report.errors:
        state["last_success_at"] = state["last_sync_at"]
    store.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    store.tmp_dir.mkdir(mode=0o700, exist_ok=True)
    atomic_write(state_path(store), dump_json(state), store.tmp_dir)


def load_state(store: TicketStore) -> dict[str, Any]:
    return read_json(state_path(store)) or {}
