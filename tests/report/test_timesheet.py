"""``fieldkit report time``: per ticket, site and day, rounded as the report rounds; filters,
--json, --csv and the errors."""

import csv
import io
import time

import pytest

from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import TicketStore

WORK = [  # site, title, [(UTC time, minutes)]
    ("ACME Berlin", "Drucker druckt nicht", [("2026-11-02T09:00:00Z", 20),
                                             ("2026-11-02T10:00:00Z", 5),
                                             ("2026-11-03T08:00:00Z", 50)]),
    ("Bäckerei Köln", "VPN", [("2026-11-02T13:00:00Z", 7)]),
    ("ACME Berlin", "Mail", [("2026-11-30T23:59:00Z", 31)]),
]


@pytest.fixture
def sheet(home, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[report]\nrounding_minutes = 15\nminimum_minutes = 15\n")
    store = TicketStore.at_home(home)
    for site, title, notes in WORK:
        ticket = Ticket.create(title, site=site)
        for at, minutes in notes:
            ticket.add_note("work", minutes)["at"] = at
        store.create(ticket)
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.mark.usefixtures("sheet")
def test_json_has_a_row_per_ticket_and_day_with_the_billed_minutes(cli):
    r = cli("report", "time", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    rows = [(x["ref"], x["day"], x["minutes"], x["billed"]) for x in doc["rows"]]
    assert rows == [("FK-1", "2026-11-02", 25, 30), ("FK-2", "2026-11-02", 7, 15),
                    ("FK-1", "2026-11-03", 50, 60), ("FK-3", "2026-11-30", 31, 45)]
    assert doc["total"] == {"minutes": 113, "billed": 150}
    assert doc["rounding"] == {"step_minutes": 15, "minimum_minutes": 15}


@pytest.mark.usefixtures("sheet")
def test_filters_by_days_inclusive_and_site(cli):
    doc = cli("report", "time", "--since", "2026-11-03", "--until", "2026-11-30",
              "--json").json()
    assert [(x["ref"], x["day"]) for x in doc["rows"]] == [("FK-1", "2026-11-03"),
                                                           ("FK-3", "2026-11-30")]
    doc = cli("report", "time", "--site", "bäckerei köln", "--json").json()
    assert [x["ref"] for x in doc["rows"]] == ["FK-2"]


@pytest.mark.usefixtures("sheet")
def test_csv_and_table(cli):
    r = cli("report", "time", "--csv", "--until", "2026-11-02")
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [(x["ref"], x["site"], x["billed"]) for x in rows] == [
        ("FK-1", "ACME Berlin", "30"), ("FK-2", "Bäckerei Köln", "15")]
    table = cli("report", "time").out
    assert table.splitlines()[0].split() == ["DAY", "REF", "SITE", "MINUTES", "BILLED", "TITLE"]
    assert "total: 113 min worked, 150 min billed (2:30 h)" in table
    assert cli("report", "time", "--since", "2027-01-01").out == "no work logged in that time\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--since", "1.11.2026"), "--since '1.11.2026': write a date as YYYY-MM-DD"),
    (("--since", "2026-12-01", "--until", "2026-11-01"), "is after --until"),
    (("--json", "--csv"), "--json and --csv exclude each other"),
])
def test_bad_input_is_one_line_exit_2(cli, args, message):
    r = cli("report", "time", *args)
    assert r.code == 2 and message in r.err and r.err.count("\n") == 1


def test_an_empty_home_has_no_work(cli):
    assert cli("report", "time", "--json").json()["total"] == {"minutes": 0, "billed": 0}
