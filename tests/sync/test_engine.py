"""Engine edge cases with an in-memory backend (the real-RT behaviour is in test_rt_sync.py)."""

import json
import threading

import pytest

from fieldkit.sync.backend import RemoteTicket, SyncBusyError, SyncError
from fieldkit.sync.engine import SyncEngine
from fieldkit.sync.merge import resolve_conflict
from fieldkit.sync.notes import run_text
from fieldkit.sync.state import load_state, plan, sync_lock
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import TicketStore

TO_REMOTE = {"new": "new", "in_progress": "open", "pending": "stalled", "resolved": "resolved",
             "closed": "resolved"}
TO_LOCAL = {"new": "new", "open": "in_progress", "stalled": "pending", "resolved": "resolved"}


class MemoryBackend:
    """Just enough of a ticket system to exercise the engine; failures are scripted."""

    name, label, queue = "memory", "MEM", "General"

    def __init__(self):
        self.tickets: dict[str, dict] = {}
        self.notes: list[tuple[str, str, str]] = []
        self.fail_on: dict[str, SyncError] = {}
        self.calls: list[str] = []
        self.keeps_client_id = True
        self.refuse_fields: set[str] = set()
        self.after_create = None

    def _maybe_fail(self, verb):
        self.calls.append(verb)
        if verb in self.fail_on:
            raise self.fail_on.pop(verb)

    def open(self):
        self._maybe_fail("open")

    def find_by_client_ids(self, client_ids):
        self._maybe_fail("find")
        found = {}
        for rid in sorted(self.tickets, key=int):
            cid = self.tickets[rid]["client_id"]
            if cid in client_ids and cid not in found:
                found[cid] = self._read(rid)
        return found

    def create_many(self, tickets):
        self._maybe_fail("create")
        made = []
        for ticket in tickets:
            rid = str(len(self.tickets) + 1)
            self.tickets[rid] = {"client_id": ticket.id if self.keeps_client_id else "",
                                 "status": TO_REMOTE[ticket.status], "level": ticket.level}
            made.append(RemoteTicket(rid, f"mem://{rid}", self.tickets[rid]["status"]))
        if self.after_create:
            self.after_create()
        return made

    def _read(self, rid):
        t = self.tickets[rid]
        return RemoteTicket(rid, f"mem://{rid}", t["status"], t.get("owner", ""), t["client_id"])

    def get_many(self, ids):
        self._maybe_fail("get")
        return {i: self._read(i) for i in ids if i in self.tickets and
                not self.tickets[i].get("hidden")}

    def post_many(self, posts):
        self._maybe_fail("post")
        out = []
        for post in posts:
            if self.tickets[post.remote_id].get("hidden"):
                out.append(SyncError("Permission Denied", kind="denied"))
                continue
            self.notes.append((post.remote_id, post.event_id, post.text))
            out.append(None)
        return out

    def update_many(self, updates):
        self._maybe_fail("update")
        out = []
        for u in updates:
            if u.fields & self.refuse_fields:
                out.append(SyncError("refused", kind="rejected"))
                continue
            t = self.tickets[u.remote_id]
            if u.status:
                t["status"] = u.status
            if "level" in u.fields:
                t["level"] = u.ticket.level
            if "client_id" in u.fields:
                if not self.keeps_client_id:
                    out.append(SyncError("FieldkitID not applied", kind="rejected"))
                    continue
                t["client_id"] = u.ticket.id
            out.append(None)
        return out

    def posted_event_ids(self, remote_id):
        self.calls.append("posted")
        return {event for rid, event, _ in self.notes if rid == remote_id}

    def to_remote_status(self, status):
        return TO_REMOTE[status]

    def to_local_status(self, status):
        return TO_LOCAL.get(status)

    def check(self):
        return []

    def close(self):
        pass


@pytest.fixture
def store(tmp_path):
    return TicketStore(tmp_path / "store")


def add(store, title, notes=0):
    ticket = store.create(Ticket.create(title))
    for i in range(notes):
        store.change(ticket.ref, lambda t, i=i: t.add_note(f"n{i}", 1))
    return ticket


def sync(store, backend, **kw):
    return SyncEngine(store, backend, sleep=lambda s: None, **kw).run()


def test_fatal_error_stops_the_run_and_keeps_everything(store):
    add(store, "a", notes=1)
    backend = MemoryBackend()
    backend.fail_on["open"] = SyncError("login refused", kind="auth", fatal=True)
    report = sync(store, backend)
    assert report.fatal == "login refused" and report.pending == 3
    assert backend.tickets == {}
    assert load_state(store)["last_error"] == "login refused"


def test_attempted_entries_are_checked_not_resent(store):
    t = add(store, "a", notes=2)
    backend = MemoryBackend()
    backend.fail_on["post"] = SyncError("connection broke", kind="connection", fatal=True,
                                        uncertain=True)
    first = sync(store, backend)
    assert first.fatal and first.pending == 3  # two notes and the status change
    entries = store.outbox()[t.id]
    notes = [e for e in entries if e["kind"] == "note"]
    assert all(e.get("attempted") and e.get("attempted_at") for e in notes)
    backend.notes.append(("1", notes[0]["event_id"], "arrived, answer lost"))
    second = sync(store, backend)
    assert second.pending == 0 and "posted" in backend.calls
    assert sorted(e for _, e, _ in backend.notes) == sorted(x["id"] for x in
                                                             store.get(t.ref).worklog)


def test_existing_remote_ticket_is_adopted_not_duplicated(store):
    t = add(store, "a")
    backend = MemoryBackend()
    backend.tickets["7"] = {"client_id": t.id, "status": "new"}  # created, answer lost
    report = sync(store, backend)
    assert report.created == 0 and list(backend.tickets) == ["7"]
    assert store.get(t.ref).remote.id == "7"


def test_a_young_interrupted_create_is_waited_for_then_found(store):
    t = add(store, "a")
    store.settle(t.ref, attempted={store.outbox()[t.id][0]["event_id"]})  # a killed create
    backend = MemoryBackend()
    waited = []

    def sleep(seconds):  # while we wait, the first create lands on the server
        waited.append(seconds)
        backend.tickets["1"] = {"client_id": t.id, "status": "new"}

    report = SyncEngine(store, backend, grace_s=30, sleep=sleep).run()
    assert waited and 0 < waited[0] <= 30
    assert report.created == 0 and list(backend.tickets) == ["1"]
    assert report.pending == 0


def test_an_old_interrupted_create_is_created_again(store):
    t = add(store, "a")
    store.settle(t.ref, attempted={store.outbox()[t.id][0]["event_id"]})
    backend = MemoryBackend()
    report = SyncEngine(store, backend, grace_s=0, sleep=pytest.fail).run()
    assert report.created == 1 and len(backend.tickets) == 1


def test_client_id_that_does_not_stick_holds_the_ticket_and_creates_once(store):
    add(store, "a", notes=1)
    add(store, "b")
    add(store, "c")
    backend = MemoryBackend()
    backend.keeps_client_id = False
    for _ in range(3):
        report = sync(store, backend)
        assert report.failed == 3 and report.pending
    assert len(backend.tickets) == 1, "a canary: the other tickets are never created"
    assert "did not keep FK-1's client id" in plan(store)[0]["held"]
    assert backend.notes == []
    backend.keeps_client_id = True  # the admin fixed the rights: the ticket is re-tagged
    report = sync(store, backend)
    assert report.pending == 0 and len(backend.tickets) == 3
    assert backend.tickets["1"]["client_id"] == store.get("FK-1").id


def test_one_tickets_refusal_does_not_stop_the_others(store):
    for title in "abc":
        add(store, title)
    backend = MemoryBackend()
    sync(store, backend)
    for ref in ("FK-1", "FK-2", "FK-3"):
        store.change(ref, lambda t: t.add_note("later", 1))
    backend.tickets["2"]["hidden"] = True  # moved to a queue the sync user cannot see
    report = sync(store, backend)
    assert report.failed == 1 and report.errors[0]["ref"] == "FK-2"
    assert {p["ref"] for p in plan(store)} == {"FK-2"}


def test_unexpected_error_still_saves_state_and_keeps_entries(store):
    add(store, "a", notes=1)
    backend = MemoryBackend()
    backend.fail_on["post"] = ValueError("malformed JSON")  # a bug or an unwrapped surprise
    with pytest.raises(ValueError):
        sync(store, backend)
    assert load_state(store)["last_sync_at"]
    assert any(e["kind"] == "note" for e in store.outbox()[store.get("FK-1").id])


def test_escalation_note_and_level_are_separate_entries(store):
    t = add(store, "a")
    backend = MemoryBackend()
    sync(store, backend)
    store.change(t.ref, lambda tk: tk.escalate(2, "vendor"))
    backend.refuse_fields = {"level"}
    report = sync(store, backend)
    assert report.failed == 1
    assert [e["kind"] for e in store.outbox()[t.id]] == ["fields"], "only the level is retried"
    assert sum("Escalated" in text for _, _, text in backend.notes) == 1
    backend.refuse_fields = set()
    assert sync(store, backend).pending == 0
    assert backend.tickets["1"]["level"] == 2
    assert sum("Escalated" in text for _, _, text in backend.notes) == 1


def test_resolve_then_close_posts_the_solution_once(store):
    t = add(store, "a")
    store.change(t.ref, lambda tk: tk.resolve("new toner"))
    store.change(t.ref, lambda tk: tk.close())
    backend = MemoryBackend()
    assert sync(store, backend).pending == 0
    assert [text for _, _, text in backend.notes] == ["Resolved: new toner"]


def test_remote_status_without_local_equivalent_survives(store):
    t = add(store, "a")
    backend = MemoryBackend()
    sync(store, backend)
    backend.tickets["1"]["status"] = "rejected"
    for _ in range(3):
        assert sync(store, backend).pending == 0
        assert backend.tickets["1"]["status"] == "rejected"
    local = store.get(t.ref)
    assert local.status == "new" and local.remote.status == "rejected"
    store.change(t.ref, lambda tk: tk.resolve("done after all"))  # a local change is pushed
    sync(store, backend)
    assert backend.tickets["1"]["status"] == "resolved"


def test_three_way_status_merge(store):
    t = add(store, "a")
    backend = MemoryBackend()
    sync(store, backend)
    backend.tickets["1"]["status"] = "stalled"  # server changed
    sync(store, backend)
    assert store.get(t.ref).status == "pending"
    store.change(t.ref, lambda tk: tk.resolve("done"))  # we changed
    backend.tickets["1"]["status"] = "open"  # and so did the server
    report = sync(store, backend)
    assert report.conflicts and report.pending
    resolve_conflict(store, t.ref, "local")
    sync(store, backend)
    assert backend.tickets["1"]["status"] == "resolved"


def test_a_local_change_during_a_pull_is_not_overwritten(store):
    t = add(store, "a")
    backend = MemoryBackend()
    sync(store, backend)
    backend.tickets["1"]["status"] = "stalled"
    original = backend.get_many

    def get_many_then_local_change(ids):  # another terminal resolves while we read
        result = original(ids)
        store.change(t.ref, lambda tk: tk.resolve("fixed meanwhile"))
        return result

    backend.get_many = get_many_then_local_change
    report = sync(store, backend)
    assert store.get(t.ref).status == "resolved"
    assert report.conflicts and report.conflicts[0]["local"] == "resolved"


def test_a_pull_that_turns_into_a_conflict_is_not_also_counted_updated(store):
    t = add(store, "a")
    backend = MemoryBackend()
    sync(store, backend)
    backend.tickets["1"]["status"] = "stalled"
    original = backend.get_many

    def get_many_then_local_change(ids):  # the pull is decided on what was read before this
        result = original(ids)
        store.change(t.ref, lambda tk: tk.resolve("fixed meanwhile"))
        return result

    backend.get_many = get_many_then_local_change
    report = sync(store, backend)
    assert len(report.conflicts) == 1
    assert report.updated == 0
    assert load_state(store)["last_result"]["updated"] == 0


def test_a_ticket_in_conflict_is_counted_once_even_when_its_note_went_through(store):
    t = add(store, "a")
    backend = MemoryBackend()
    sync(store, backend)
    backend.tickets["1"]["status"] = "stalled"  # both sides change the status: a conflict
    store.change(t.ref, lambda tk: (tk.add_note("printer replaced"), tk.resolve("new toner")))
    report = sync(store, backend)
    assert [n[2] for n in backend.notes] == ["printer replaced"]  # the note did go up
    assert len(report.conflicts) == 1
    assert report.updated == 0  # one ticket, one line of the report: the conflict
    assert load_state(store)["last_result"]["updated"] == 0


def test_a_second_sync_waits_then_says_why(store, monkeypatch):
    from fieldkit.sync import state

    add(store, "a")
    monkeypatch.setattr(state, "SYNC_WAIT_S", 0.2)
    backend = MemoryBackend()
    with sync_lock(store), pytest.raises(SyncBusyError) as err:
        sync(store, backend)
    assert "already running" in str(err.value) and err.value.exit_code == 75
    assert backend.calls == [], "the second sync touched nothing"


def test_two_engines_at_once_post_everything_once(store):
    for i in range(5):
        add(store, f"t{i}", notes=2)
    backend = MemoryBackend()
    lock = threading.Lock()
    original = backend.post_many

    def slow_post(posts):
        with lock:
            return original(posts)

    backend.post_many = slow_post
    results = []
    threads = [threading.Thread(target=lambda: results.append(_try_sync(store, backend)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(backend.tickets) == 5
    assert len(backend.notes) == len({event for _, event, _ in backend.notes}) == 10


def _try_sync(store, backend):
    try:
        return sync(store, backend)
    except SyncBusyError as exc:
        return exc


def test_schema_1_outbox_is_split_per_remote_effect(store, tmp_path):
    t = add(store, "a")
    shard = store.tickets_dir / "0000.json"
    data = json.loads(shard.read_text())
    base = {"ticket_id": t.id, "ref": t.ref, "at": "2026-01-01T00:00:00Z"}
    data["outbox"] = {"1": {**base, "event_id": "e1", "kind": "escalated",
                            "payload": {"entry_id": "x"}, "attempted": True},
                      "2": {**base, "event_id": "e2", "kind": "status",
                            "payload": {"status": "resolved", "solution": "toner"}},
                      "3": {**base, "event_id": "e3", "kind": "status",
                            "payload": {"status": "closed", "solution": "toner"}}}
    shard.write_text(json.dumps(data))
    (store.root / "meta.json").write_text('{"format": "fieldkit.store", "schema": 1}')
    store.upgrade()
    kinds = [(e["kind"], e["event_id"], bool(e.get("attempted")))
             for e in store.outbox()[t.id]]
    assert kinds[0] == ("escalation_note", "e1", True)
    assert [k for k, _, _ in kinds] == ["escalation_note", "fields", "solution", "status",
                                       "status"]
    assert json.loads((store.root / "meta.json").read_text())["schema"] == 2


def test_run_text_puts_failures_first():
    text = run_text({"host": "pc", "started_at": "t", "findings": [
        {"check": "a", "subject": "x", "status": "ok", "summary": "fine"},
        {"check": "b", "subject": "y", "status": "fail", "summary": "bad", "hint": "fix"}]})
    lines = text.splitlines()
    assert lines[1].startswith("[FAIL ] b y: bad") and "tip: fix" in lines[2]


def test_a_note_the_server_commits_late_is_waited_for_not_posted_twice(store):
    """Run 1 times out while the server is still working through the bulk comment; run 2
    starts at once: it waits out the grace time, finds the note, and does not send it again."""
    t = add(store, "a", notes=1)
    backend = MemoryBackend()
    sync(store, backend)  # the ticket exists remotely
    store.change(t.ref, lambda tk: tk.add_note("late", 1))
    backend.fail_on["post"] = SyncError("RT did not answer in time", kind="timeout", fatal=True,
                                        unanswered=True)
    assert sync(store, backend).fatal
    late = store.get(t.ref).worklog[-1]["id"]

    def land():  # the first run's request, still running in the server, lands
        if not any(event == late for _, event, _ in backend.notes):
            backend.notes.append(("1", late, "late"))

    original = backend.post_many

    def post_many(posts):  # without a wait, the resend and the late original both land
        land()
        return original(posts)

    backend.post_many = post_many
    report = SyncEngine(store, backend, grace_s=30, sleep=lambda s: land()).run()
    assert report.pending == 0
    assert [event for _, event, _ in backend.notes].count(late) == 1


def test_an_answered_failure_is_checked_without_waiting(store):
    """The server answered (an error): it is not working on it any more, nothing to wait for."""
    t = add(store, "a", notes=1)
    backend = MemoryBackend()
    sync(store, backend)
    store.change(t.ref, lambda tk: tk.add_note("n", 1))
    original, failures = backend.post_many, [SyncError("HTTP 500", kind="http", uncertain=True)]

    def post_many(posts):  # the batch and the per-ticket retry both get a 500
        if failures:
            raise failures[0]
        return original(posts)

    backend.post_many = post_many
    assert sync(store, backend).failed == 1
    assert any(e.get("answered") for e in store.outbox()[t.id])
    failures.clear()
    report = SyncEngine(store, backend, grace_s=30, sleep=pytest.fail).run()
    assert report.pending == 0 and len(backend.notes) == 2
