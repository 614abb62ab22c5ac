"""The indexes beside the shards: never a wrong answer, whatever happened to them."""

import os
import subprocess
import sys

import pytest

from fieldkit.tickets import query
from fieldkit.tickets.index import idx_path, words_path
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import Settlement, TicketStore


@pytest.fixture
def store(tmp_path):
    store = TicketStore(tmp_path / "store", actor="test")
    for i in range(300):  # two shards
        ticket = Ticket.create(f"printer {i}", site="ACME Berlin" if i % 2 else "ACME Kiel",
                               category="printer" if i % 3 == 0 else "network")
        ticket.add_note(f"replaced toner cartridge {i}", 5)
        store.create_many([(ticket, None)])
    return store


def refs(store, **filters):
    return [row.ref for _s, row in query.rows(store, query.Filter(**filters))]


def test_rows_come_from_the_index_not_the_shards(store, monkeypatch):
    calls = []
    original = store.hot.read
    monkeypatch.setattr(store.hot, "read", lambda shard: calls.append(shard) or original(shard))
    assert len(refs(store, site="acme kiel")) == 150
    assert calls == [], "a filter answered from the index reads no shard"


@pytest.mark.parametrize("damage", ["delete", "garbage", "truncate"])
def test_an_index_deleted_or_damaged_is_rebuilt(store, damage):
    before = refs(store, category="printer")
    for shard in store.hot.numbers():
        for path in (idx_path(store.hot.path(shard)), words_path(store.hot.path(shard))):
            if damage == "delete":
                path.unlink()
            elif damage == "garbage":
                path.write_bytes(b"\x00\xff not an index")
            else:
                path.write_text(path.read_text()[:40])
    assert refs(store, category="printer") == before
    hits, total = query.search(store, "toner 299", query.Filter(archived=True), 5)
    assert total == 1 and hits[0].row.ref == "FK-300"
    assert all(idx_path(store.hot.path(s)).read_text().startswith('{"v"')
               for s in store.hot.numbers()), "repaired on the way (the lock was free)"


def test_a_shard_changed_without_its_index_is_read_correctly(store):
    """The state a crash between the shard write and the index write leaves behind."""
    import json

    from fieldkit.tickets.storage import atomic_write

    path = store.hot.path(0)
    data = json.loads(path.read_text())
    data["tickets"]["7"]["status"] = "pending"
    index_before = idx_path(path).read_bytes()
    atomic_write(path, json.dumps(data).encode(), store.tmp_dir)  # the index is now stale
    assert idx_path(path).read_bytes() == index_before
    assert refs(store, status="pending") == ["FK-7"]


def test_sigkill_between_shard_and_index_write_never_shows_a_wrong_list(store, tmp_path):
    """A real fieldkit process killed right after the shard write, before the index write."""
    script = f"""
import os, signal
from pathlib import Path
from fieldkit.tickets import index
from fieldkit.tickets.store import TicketStore

def die(*args, **kw):
    os.kill(os.getpid(), signal.SIGKILL)

index.write = die
store = TicketStore(Path({str(store.root)!r}), actor="killer")
store.change("FK-12", lambda t: t.edit(status="pending", site="ACME Hamburg"))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=os.getcwd())
    assert done.returncode == -9, done.stderr
    assert store.get("FK-12").status == "pending", "the shard write itself landed"
    assert refs(store, status="pending") == ["FK-12"]
    assert refs(store, site="ACME Hamburg") == ["FK-12"]
    assert "FK-12" not in refs(store, status="in_progress")


def test_search_finds_a_word_from_a_note_in_an_archived_ticket(store):
    store.change("FK-3", lambda t: t.add_note("the fuser unit overheats (code 0x51)", 1))
    store.change("FK-3", lambda t: (t.resolve("new fuser unit"), t.close()))
    entries = {e["event_id"] for e in store.outbox()[store.get("FK-3").id]}
    store.settle("FK-3", done=entries)
    moved, _kept = store.archive("2999-01-01T00:00:00Z")
    assert "FK-3" in [t.ref for t in moved]
    assert "FK-3" not in refs(store)
    hits, total = query.search(store, "fuser overheats", query.Filter(archived=True), 10)
    assert total == 1 and hits[0].row.ref == "FK-3"
    assert hits[0].where == "note" and "fuser unit overheats" in hits[0].snippet


def test_list_streams_newest_first_with_filters(cli, home):
    for i in range(5):
        cli("ticket", "new", "-t", f"t{i}", "--category", "printer" if i % 2 else "email")
    cli("ticket", "escalate", "FK-2", "--level", "2", "--reason", "vendor")
    assert [t["ref"] for t in cli("ticket", "list", "--json").json()] == [
        "FK-5", "FK-4", "FK-3", "FK-2", "FK-1"]
    assert [t["ref"] for t in cli("ticket", "list", "--json", "--limit", "2").json()] == [
        "FK-5", "FK-4"]
    assert [t["ref"] for t in cli("ticket", "list", "--category", "printer", "--json")
            .json()] == ["FK-4", "FK-2"]
    assert [t["ref"] for t in cli("ticket", "list", "--level", "2", "--json").json()] == ["FK-2"]
    assert len(cli("ticket", "list", "--pending", "--json").json()) == 5
    assert cli("ticket", "list", "--since", "2999-01-01", "--json").json() == []
    table = cli("ticket", "list", "--limit", "3").out
    assert "... 2 more (use --limit N or --all)" in table
    assert cli("ticket", "list", "--since", "yesterday").code == 2


def test_the_table_shows_the_50_newest_by_default(cli, home):
    store = TicketStore.at_home(home)
    store.create_many((Ticket.create(f"t{i}"), None) for i in range(60))
    out = cli("ticket", "list").out.splitlines()
    assert out[1].startswith("FK-60") and len(out) == 1 + 50 + 1
    assert out[-1] == "... 10 more (use --limit N or --all)"
    assert len(cli("ticket", "list", "--all").out.splitlines()) == 61


def test_search_cli(cli, home):
    cli("ticket", "new", "-t", "Outlook shows 0x800CCC0F", "--site", "ACME Berlin")
    cli("ticket", "new", "-t", "printer", "--site", "ACME Kiel")
    cli("ticket", "note", "FK-2", "Outlook profile recreated")
    found = cli("ticket", "search", "outlook", "--json").json()
    assert [h["ref"] for h in found] == ["FK-2", "FK-1"]
    assert found[0]["where"] == "note"
    assert [h["ref"] for h in cli("ticket", "search", "outlook", "--site", "ACME Berlin",
                                   "--json").json()] == ["FK-1"]
    assert "nothing found" in cli("ticket", "search", "nosuchword").out


def test_bulk_settle_matches_one_by_one(tmp_path):
    """The bulk path edits raw shard data: it must agree with the one-ticket path."""
    one, many = TicketStore(tmp_path / "one"), TicketStore(tmp_path / "many")
    for store in (one, many):
        for i in range(3):
            ticket = Ticket.create(f"t{i}")
            ticket.add_note("n", 1)
            store.create_many([(ticket, None)])
    for ref in ("FK-1", "FK-2"):
        entries = one.outbox()[one.get(ref).id]
        one.settle(ref, done={entries[0]["event_id"]}, attempted={entries[1]["event_id"]},
                   error="boom")
    many.settle_many({ref: Settlement(done={many.outbox()[many.get(ref).id][0]["event_id"]},
                                      attempted={many.outbox()[many.get(ref).id][1]["event_id"]},
                                      error="boom") for ref in ("FK-1", "FK-2")})

    def shape(store):
        return [(e["kind"], bool(e.get("attempted")), e.get("last_error"))
                for entries in store.outbox().values() for e in entries]

    assert shape(one) == shape(many)
