"""Ticket.remote as a typed Link: one conversion, and stores written before it still open."""

import json
import shutil
from pathlib import Path

from fieldkit.tickets.link import Link
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import Settlement, TicketStore

MAIN_STORE = Path(__file__).parent / "store_main"


def old_store(tmp_path) -> tuple[TicketStore, dict]:
    root = tmp_path / "store"
    shutil.copytree(MAIN_STORE, root, ignore=shutil.ignore_patterns("README.md"))
    raw = json.loads((root / "tickets" / "0000.json").read_text())["tickets"]
    return TicketStore(root), raw


def test_a_store_from_before_the_link_opens_typed(tmp_path):
    store, _raw = old_store(tmp_path)
    plain, fight, held, never = (store.get(str(n)) for n in range(1, 5))
    assert (plain.remote.id, plain.remote.status, plain.remote.agreed_local) == ("1", "new", "new")
    assert plain.remote.owner == "" and plain.remote.conflict is None and plain.remote.linked
    assert fight.remote.owner == "2nd-level"
    assert fight.remote.conflict and fight.remote.conflict["remote"] == "stalled"
    assert held.remote.held and "client id" in held.remote.held
    assert never.remote == Link() and not never.remote.linked


def test_the_json_form_of_an_old_store_is_unchanged(tmp_path):
    store, raw = old_store(tmp_path)
    for number, doc in raw.items():
        shown = store.get(number).to_dict()["remote"]
        assert json.dumps(shown) == json.dumps(doc["remote"]), number  # same keys, same order


def test_writing_an_old_ticket_keeps_its_stored_link(tmp_path):
    store, raw = old_store(tmp_path)
    for number in raw:
        store.settle_many({number: Settlement(update=lambda t: None)})
    again = json.loads((store.root / "tickets" / "0000.json").read_text())["tickets"]
    assert [json.dumps(d["remote"]) for d in again.values()] == \
           [json.dumps(d["remote"]) for d in raw.values()]


def test_status_write_and_unknown_keys_survive_a_round_trip():
    stored = {"status": "open", "agreed_local": "in_progress", "id": "7", "url": "u",
              "system": "RT", "synced_at": "2026-01-01T00:00:00Z", "owner": "",
              "status_write": {"since": 12, "expect": "open", "status": "resolved"},
              "from_a_newer_fieldkit": [1, 2]}
    link = Link.from_dict(stored)
    assert link.status_write == {"since": 12, "expect": "open", "status": "resolved"}
    assert json.dumps(link.to_dict()) == json.dumps(stored)
    ticket = Ticket.from_dict({**Ticket.create("x").to_dict(), "remote": stored})
    assert ticket.remote == link and ticket.to_dict()["remote"] == stored
