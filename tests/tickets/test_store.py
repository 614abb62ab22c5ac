import json
import os
import stat

import pytest

from fieldkit.errors import NotFoundError, StoreCorruptError, StoreVersionError
from fieldkit.tickets import store as store_module
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.shards import TICKETS_PER_SHARD
from fieldkit.tickets.store import TicketStore


@pytest.fixture
def store(tmp_path):
    return TicketStore(tmp_path / "store")


def test_empty_store_reads_without_writing(store):
    assert store.list() == []
    with pytest.raises(NotFoundError):
        store.get("FK-1")
    assert not store.root.exists()


def test_create_get_list(store):
    a = store.create(Ticket.create("first", site="ACME"))
    b = store.create(Ticket.create("second", site="Other"))
    assert (a.ref, b.ref) == ("FK-1", "FK-2")
    assert store.get("2").id == b.id
    assert store.get(a.id).ref == "FK-1"
    assert [t.ref for t in store.list(site="acme")] == ["FK-1"]
    assert [t.ref for t in store.list(status="new")] == ["FK-1", "FK-2"]


def test_refs_continue_across_shards(store):
    for i in range(TICKETS_PER_SHARD + 2):
        store.create(Ticket.create(f"t{i}"))
    assert sorted(p.name for p in store.tickets_dir.glob("*.json")) == ["0000.json", "0001.json"]
    assert store.get(f"FK-{TICKETS_PER_SHARD + 2}").title == f"t{TICKETS_PER_SHARD + 1}"
    assert len(store.list()) == TICKETS_PER_SHARD + 2


def test_change_records_outbox_in_same_file(store):
    t = store.create(Ticket.create("x"))
    store.change(t.ref, lambda tk: tk.add_note("hi", 3))
    shard = json.loads((store.tickets_dir / "0000.json").read_text())
    kinds = [e["kind"] for e in shard["outbox"].values()]
    assert kinds == ["created", "note", "status"]  # the note moved it from new to in_progress
    assert shard["tickets"]["1"]["worklog"][0]["minutes"] == 3


def test_failed_mutation_writes_nothing(store):
    t = store.create(Ticket.create("x"))
    path = store.tickets_dir / "0000.json"
    before = path.read_bytes()

    def boom(ticket):
        ticket.title = "changed"
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        store.change(t.ref, boom)
    assert path.read_bytes() == before


def test_runs_live_outside_the_ticket_shard(store):
    findings = [{"check": "disk.usage", "subject": "/", "status": "warn", "summary": "full"}]
    t = store.create(Ticket.create("x"), {"schema": "fieldkit.diag/1", "host": "pc1",
                                          "started_at": "now", "findings": findings})
    summary = t.diag_runs[0]
    assert summary["counts"] == {"warn": 1}
    assert summary["problems"] == ["disk.usage: full"]
    assert store.load_run(summary["id"])["findings"] == findings
    assert "findings" not in (store.tickets_dir / "0000.json").read_text()


def test_files_are_private(tmp_path):
    store = TicketStore.at_home(tmp_path / "new-home")
    store.create(Ticket.create("x"), {"findings": []})
    for path in [store.root.parent, *store.root.parent.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_corrupt_shard_is_reported_and_left_alone(store):
    store.create(Ticket.create("x"))
    path = store.tickets_dir / "0000.json"
    path.write_bytes(b'{"tickets": {"1": {"title": "x"')
    before = path.read_bytes()
    for action in (lambda: store.list(), lambda: store.create(Ticket.create("y")),
                   lambda: store.change("1", lambda t: None)):
        with pytest.raises(StoreCorruptError, match="0000.json"):
            action()
    assert path.read_bytes() == before


def test_newer_schema_is_refused_and_left_alone(store):
    store.create(Ticket.create("x"))
    store.meta_path.write_text('{"format": "fieldkit.store", "schema": 99}')
    snapshot = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
    with pytest.raises(StoreVersionError, match="newer fieldkit"):
        store.create(Ticket.create("y"))
    with pytest.raises(StoreVersionError):
        store.list()
    assert {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()} == snapshot


def test_migration_hook_runs_under_lock(store, monkeypatch):
    store.create(Ticket.create("x"))
    store.meta_path.write_text('{"format": "fieldkit.store", "schema": 0}')
    calls = []
    monkeypatch.setitem(store_module.MIGRATIONS, 0, lambda s: calls.append(s.root))
    store.create(Ticket.create("y"))
    assert calls == [store.root]
    assert json.loads(store.meta_path.read_text())["schema"] == store_module.SCHEMA_VERSION


def test_stale_temp_files_are_swept(store):
    store.create(Ticket.create("x"))
    (store.tmp_dir / "0000.json.123.tmp").write_bytes(b"half a write")
    store.create(Ticket.create("y"))
    assert os.listdir(store.tmp_dir) == []


def _closed(store, title, updated_at="2020-01-01T00:00:00Z"):
    ticket = store.create(Ticket.create(title))
    store.change(ticket.ref, lambda t: t.resolve("done"))
    store.change(ticket.ref, lambda t: t.close())

    def age(t):
        t.updated_at = updated_at

    # synced: its outbox is empty, and it was last changed long ago
    store.settle(ticket.ref, done={e["event_id"] for e in store.outbox()[ticket.id]},
                 update=age)
    return store.get(ticket.ref)


def test_archive_moves_only_closed_synced_old_tickets(store):
    old = _closed(store, "old and synced")
    recent = _closed(store, "recent", updated_at="2999-01-01T00:00:00Z")
    unsynced = store.create(Ticket.create("closed, not synced"))
    store.change(unsynced.ref, lambda t: t.resolve("x"))
    store.change(unsynced.ref, lambda t: t.close())
    open_one = store.create(Ticket.create("still open"))
    moved, kept = store.archive(older_than="2026-01-01T00:00:00Z")
    assert [t.ref for t in moved] == [old.ref]
    assert sorted((k["ref"], k["reason"]) for k in kept) == [
        (recent.ref, "closed too recently"), (unsynced.ref, "not synced yet")]
    assert [t.ref for t in store.list()] == [recent.ref, unsynced.ref, open_one.ref]
    assert [t.ref for t in store.list(archived=True)] == [old.ref, recent.ref, unsynced.ref,
                                                          open_one.ref]
    assert store.get(old.ref).title == "old and synced"
    assert store.get(old.id).ref == old.ref
    assert store.archive(older_than="2026-01-01T00:00:00Z")[0] == []


def test_refs_never_reused_after_archiving_the_newest(store):
    a = _closed(store, "a")
    store.archive(older_than="2026-01-01T00:00:00Z")
    b = store.create(Ticket.create("b"))
    assert (a.ref, b.ref) == ("FK-1", "FK-2")


def test_changing_an_archived_ticket_brings_it_back(store):
    old = _closed(store, "old")
    store.archive(older_than="2026-01-01T00:00:00Z")
    reopened = store.change(old.ref, lambda t: t.reopen())
    assert reopened.status == "in_progress"
    assert [t.ref for t in store.list()] == [old.ref]
    assert store.list(archived=True) == store.list()
