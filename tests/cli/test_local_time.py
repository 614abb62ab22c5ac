"""Human output in local time with the zone, JSON in UTC: checklist lines on `ticket show` and
`sync status` too, not only the ticket's own times (issue 23 item 6)."""

import json
import re

import pytest

from fieldkit.tickets.store import TicketStore
from tests.checklists.test_cli import answers

UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z")


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")


def test_checklist_lines_are_local_and_their_json_utc(proc, home, berlin):
    assert proc("ticket", "new", "-t", "Disk full on PC-042").code == 0
    r = proc("checklist", "run", "disk-full", "--ticket", "FK-1", "--answers", answers(home))
    assert r.code == 0, r.err
    shown = proc("ticket", "show", "FK-1")
    line = next(x for x in shown.out.splitlines() if "checklist disk-full" in x)
    assert re.search(r"started \d{4}-\d\d-\d\d \d\d:\d\d CES?T", line), line
    assert not UTC_STAMP.search(shown.out), shown.out
    run = proc("ticket", "show", "FK-1", "--json").json()["checklist_runs"][0]
    assert UTC_STAMP.fullmatch(run["started_at"])


def test_sync_status_last_sync_is_local_and_json_utc(proc, home, berlin):
    assert proc("ticket", "new", "-t", "x").code == 0
    store = TicketStore.at_home(home)
    (store.root / "sync.json").write_text(json.dumps(
        {"last_sync_at": "2026-12-02T06:10:27Z", "last_success_at": "2026-07-01T10:00:00Z"}))
    r = proc("sync", "status")
    assert "last sync:  2026-12-02 07:10 CET   last success: 2026-07-01 12:00 CEST" in r.out, r.out
    assert proc("sync", "status", "--json").json()["last_sync_at"] == "2026-12-02T06:10:27Z"
