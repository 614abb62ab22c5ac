"""Engine edge cases with an in-memory backend (the real-RT behaviour is in test_rt_sync.py)."""

import pytest

from fieldkit.sync.backend import RemoteTicket, SyncError
from fieldkit.sync.engine import SyncEngine, plan, resolve_conflict, run_text
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import Event, TicketStore

TO_REMOTE = {"new": "new", "in_progress": "open", "pending": "stalled", "resolved": "resolved",
             "closed": "resolved"}
TO_LOCAL = {"new": "new", "open": "in_progress", "stalled": "pending", "resolved": "resolved"}


class MemoryBackend:
    """Just enough of a ticket system to exercise the engine; failures are scripted."""

    name = "memory"

    def __init__(self):
        self.tickets: dict[str, dict] = {}
        self.notes: list[tuple[str, str]] = []
        self.fail_on: dict[str, SyncError] = {}
        self.calls: list[str] = []

    def _maybe_fail(self, verb):
        self.calls.append(verb)
        if verb in self.fail_on:
            raise self.fail_on.pop(verb)

    def open(self):
        self._maybe_fail("open")

    def find_by_client_id(self, client_id):
        self._maybe_fail("find")
        for rid, t in self.tickets.items():
            if t["client_id"] == client_id:
                return self.get(rid)
        return None

    def create(self, ticket):
        self._maybe_fail("create")
        rid = str(len(self.tickets) + 1)
        self.tickets[rid] = {"client_id": ticket.id, "status": TO_REMOTE[ticket.status]}
        return RemoteTicket(rid, f"mem://{rid}", self.tickets[rid]["status"])

    def get(self, remote_id):
        t = self.tickets[remote_id]
        return RemoteTicket(remote_id, f"mem://{remote_id}", t["status"], t.get("owner", ""),
                            t["client_id"])

    def get_many(self, ids):
        return {i: self.get(i) for i in ids if i in self.tickets}

    def add_note(self, remote_id, event_id, text, minutes=0):
        self._maybe_fail("note")
        self.notes.append((remote_id, event_id))

    def attach(self, remote_id, event_id, text, filename, content, mime):
        self._maybe_fail("attach")
        self.notes.append((remote_id, event_id))

    def update(self, remote_id, ticket, fields):
        self._maybe_fail("update")
        if "status" in fields:
            self.tickets[remote_id]["status"] = TO_REMOTE[ticket.status]

    def posted_event_ids(self, remote_id):
        self.calls.append("posted")
        return {event for rid, event in self.notes if rid == remote_id}

    def to_remote_status(self, status):
        return TO_REMOTE[status]

    def to_local_status(self, status):
        return TO_LOCAL.get(status, "in_progress")

    def close(self):
        pass


@pytest.fixture
def store(tmp_path):
    return TicketStore(tmp_path / "store")


def add(store, title, notes=0):
    ticket = store.create(Ticket.create(title))
    for i in range(notes):
        def note(t, i=i):
            entry = t.add_note(f"n{i}", 1)
            return Event("note", {"entry_id": entry["id"]}, entry["id"])

        store.change(ticket.ref, note)
    return ticket


def test_fatal_error_stops_the_run_and_keeps_everything(store):
    add(store, "a", notes=1)
    backend = MemoryBackend()
    backend.fail_on["open"] = SyncError("login refused", kind="auth", fatal=True)
    report = SyncEngine(store, backend).run()
    assert report.fatal == "login refused" and report.pending == 2
    assert backend.tickets == {}


def test_attempted_entries_are_checked_not_resent(store):
    t = add(store, "a", notes=2)
    backend = MemoryBackend()
    backend.fail_on["note"] = SyncError("connection broke", kind="connection", fatal=True)
    first = SyncEngine(store, backend).run()
    assert first.fatal and first.pending == 2
    # pretend the first note did arrive although its answer was lost
    entries = store.outbox()[t.id]
    backend.notes.append(("1", entries[0]["event_id"]))
    assert all(e.get("attempted") for e in entries)
    second = SyncEngine(store, backend).run()
    assert second.pending == 0 and "posted" in backend.calls
    assert sorted(e for _, e in backend.notes) == sorted(x["id"] for x in
                                                           store.get(t.ref).worklog)


def test_existing_remote_ticket_is_adopted_not_duplicated(store):
    t = add(store, "a")
    backend = MemoryBackend()
    backend.tickets["7"] = {"client_id": t.id, "status": "new"}  # created, answer lost
    report = SyncEngine(store, backend).run()
    assert report.created == 0 and list(backend.tickets) == ["7"]
    assert store.get(t.ref).remote["id"] == "7"


def test_server_that_drops_the_client_id_is_a_fatal_config_error(store):
    add(store, "a")
    backend = MemoryBackend()
    original = backend.create

    def forgetful(ticket):
        remote = original(ticket)
        backend.tickets[remote.id]["client_id"] = ""
        return remote

    backend.create = forgetful
    report = SyncEngine(store, backend).run()
    assert report.fatal and "FieldkitID" in report.fatal


def test_non_fatal_failure_fails_one_ticket_only(store):
    add(store, "a", notes=1)
    add(store, "b", notes=1)
    backend = MemoryBackend()
    backend.fail_on["note"] = SyncError("HTTP 500", kind="server")
    report = SyncEngine(store, backend, max_workers=1).run()
    assert (report.failed, report.created, report.pending) == (1, 2, 1)
    assert plan(store)[0]["last_error"] == "HTTP 500"


def test_three_way_status_merge(store):
    t = add(store, "a")
    backend = MemoryBackend()
    SyncEngine(store, backend).run()
    backend.tickets["1"]["status"] = "stalled"  # server changed
    SyncEngine(store, backend).run()
    assert store.get(t.ref).status == "pending"
    store.change(t.ref, lambda tk: tk.resolve("done"))  # we changed
    backend.tickets["1"]["status"] = "open"  # and so did the server
    report = SyncEngine(store, backend).run()
    assert report.conflicts and report.pending == 1
    resolve_conflict(store, t.ref, "local", TO_LOCAL.get)
    SyncEngine(store, backend).run()
    assert backend.tickets["1"]["status"] == "resolved"


def test_run_text_puts_failures_first():
    text = run_text({"host": "pc", "started_at": "t", "findings": [
        {"check": "a", "subject": "x", "status": "ok", "summary": "fine"},
        {"check": "b", "subject": "y", "status": "fail", "summary": "bad", "hint": "fix"}]})
    lines = text.splitlines()
    assert lines[1].startswith("[FAIL ] b y: bad") and "tip: fix" in lines[2]
