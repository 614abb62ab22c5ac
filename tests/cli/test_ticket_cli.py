"""The ticket lifecycle through the CLI, as a script would drive it (--json everywhere)."""

import pytest

REQUIRED_KEYS = {"id", "ref", "title", "description", "requester", "contact", "site", "asset",
                 "category", "impact", "urgency", "priority", "status", "level", "escalations",
                 "worklog", "diag_runs", "created_at", "updated_at"}


def test_full_lifecycle(cli):
    r = cli("ticket", "new", "--title", "Outlook cannot send", "--description", "since 9:00",
            "--site", "ACME Berlin", "--requester", "Ann Smith", "--contact", "ann@acme.test",
            "--category", "email", "--impact", "high", "--urgency", "medium", "--asset", "PC-042",
            "--json")
    assert r.code == 0, r.err
    t = r.json()
    assert REQUIRED_KEYS <= t.keys()
    assert (t["ref"], t["priority"], t["priority_label"], t["status"], t["level"]) == \
        ("FK-1", 2, "high", "new", 1)
    assert t["created_at"].endswith("Z")

    t = cli("ticket", "note", "FK-1", "recreated profile", "--minutes", "20", "--json").json()
    assert t["status"] == "in_progress"
    assert [(w["minutes"], w["text"]) for w in t["worklog"]] == [(20, "recreated profile")]
    assert set(t["worklog"][0]) >= {"at", "minutes", "text"}

    t = cli("ticket", "edit", "1", "--urgency", "high", "--json").json()
    assert t["priority"] == 1

    t = cli("ticket", "escalate", "1", "--level", "2", "--reason", "mailbox on server", "--json")\
        .json()
    assert t["level"] == 2
    assert t["escalations"][0]["from_level"] == 1 and t["escalations"][0]["to_level"] == 2

    t = cli("ticket", "resolve", "1", "--solution", "quota raised", "--json").json()
    assert t["status"] == "resolved"
    t = cli("ticket", "close", "1", "--json").json()
    assert t["status"] == "closed"
    t = cli("ticket", "reopen", "1", "--json").json()
    assert t["status"] == "in_progress"

    listed = cli("ticket", "list", "--json").json()
    assert [x["ref"] for x in listed] == ["FK-1"]
    shown = cli("ticket", "show", t["id"], "--json").json()
    assert shown == t


def test_list_filters_and_table(cli):
    cli("ticket", "new", "-t", "a", "--site", "ACME")
    cli("ticket", "new", "-t", "b", "--site", "Other")
    cli("ticket", "note", "2", "looking")
    assert [t["ref"] for t in cli("ticket", "list", "--site", "acme", "--json").json()] == ["FK-1"]
    assert [t["ref"] for t in cli("ticket", "list", "--status", "in_progress", "--json").json()] \
        == ["FK-2"]
    table = cli("ticket", "list").out
    assert "FK-1" in table and "FK-2" in table and "REF" in table
    assert cli("ticket", "show", "FK-2").out.startswith("FK-2  b")


@pytest.mark.parametrize(("args", "code", "fragment"), [
    (("ticket", "close", "1"), 2, "only a resolved ticket can be closed"),
    (("ticket", "escalate", "1", "--level", "1", "--reason", "x"), 2, "2 or 3"),
    (("ticket", "show", "FK-77"), 3, "no ticket 'FK-77'"),
    (("ticket", "show", "nonsense"), 3, "no ticket"),
    (("ticket", "new", "-t", "x", "--impact", "huge"), 2, "impact must be one of"),
    (("ticket", "new", "-t", "x", "--category", "toaster"), 2, "category must be one of"),
    (("ticket", "new", "--bogus"), 2, "No such option"),
    (("ticket", "note", "1", "x", "--minutes", "many"), 2, "valid integer"),
    (("ticket", "list", "--status", "done"), 2, "status must be one of"),
    (("ticket", "new", "-t", "x", "-d", "y" * 70000), 2, "too long"),
    (("ticket", "new", "-t", "   "), 2, "title must not be empty"),
    (("nosuchgroup",), 2, "No such command"),
])
def test_bad_input_is_one_line(cli, args, code, fragment):
    cli("ticket", "new", "-t", "existing")
    r = cli(*args)
    assert r.code == code
    assert fragment in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert "Traceback" not in r.err


def test_escalating_down_is_refused(cli):
    cli("ticket", "new", "-t", "x")
    cli("ticket", "escalate", "1", "--level", "3", "--reason", "vendor")
    r = cli("ticket", "escalate", "1", "--level", "2", "--reason", "back")
    assert r.code == 2 and "only goes up" in r.err


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("fieldkit ")


def test_non_utf8_argument_as_a_real_process(proc):
    r = proc("ticket", "new", "--title", b"caf\xe9 broken")
    assert r.code == 2
    assert "not valid UTF-8" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_title_required_without_terminal(proc):
    r = proc("ticket", "new", stdin=__import__("subprocess").DEVNULL)
    assert r.code == 2 and "--title is required" in r.err


def test_json_output_is_only_json(proc):
    r = proc("ticket", "new", "-t", "x", "--json")
    assert r.code == 0 and r.err == ""
    assert r.json()["ref"] == "FK-1"
    r = proc("ticket", "list", "--json")
    assert r.json()[0]["ref"] == "FK-1"


def test_corrupt_store_via_cli(proc, home):
    assert proc("ticket", "new", "-t", "x").code == 0
    shard = home / "store" / "tickets" / "0000.json"
    shard.write_bytes(b"\x00garbage")
    for args in (("ticket", "list"), ("ticket", "new", "-t", "y"), ("ticket", "note", "1", "n")):
        r = proc(*args)
        assert r.code == 4
        assert str(shard) in r.err and len(r.err.strip().splitlines()) == 1
    assert shard.read_bytes() == b"\x00garbage"


def test_internal_error_is_one_line_and_debug_shows_traceback(cli, monkeypatch):
    from fieldkit.tickets.store import TicketStore

    def broken(self, *args, **kw):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(TicketStore, "get", broken)
    r = cli("ticket", "show", "FK-1")
    assert r.code == 70 and "internal error" in r.err and "Traceback" not in r.err
    debug = cli("--debug", "ticket", "show", "FK-1")
    assert debug.code == 70, "--debug adds a traceback and never changes the code"
    assert "Traceback" in debug.err and "ZeroDivisionError: boom" in debug.err


def test_archive_via_cli(cli, home):
    from fieldkit.tickets.store import TicketStore

    cli("ticket", "new", "-t", "done and dusted")
    cli("ticket", "resolve", "1", "--solution", "fixed")
    cli("ticket", "close", "1")
    first = cli("ticket", "archive", "--older-than", "0", "--json").json()
    assert first == {"archived": [], "kept": [{"ref": "FK-1", "reason": "not synced yet"}]}
    assert "kept 1 closed ticket(s) not synced yet: FK-1" in cli("ticket", "archive").out
    store = TicketStore.at_home(home)
    store.settle("1", done={e["event_id"] for e in store.outbox()[store.get("1").id]})
    archived = cli("ticket", "archive", "--older-than", "0", "--json").json()["archived"]
    assert [t["ref"] for t in archived] == ["FK-1"]
    assert cli("ticket", "list", "--json").json() == []
    assert [t["ref"] for t in cli("ticket", "list", "--archived", "--json").json()] == ["FK-1"]
    assert cli("ticket", "show", "FK-1", "--json").json()["status"] == "closed"
    assert cli("ticket", "reopen", "FK-1", "--json").json()["status"] == "in_progress"
    assert [t["ref"] for t in cli("ticket", "list", "--json").json()] == ["FK-1"]


def test_the_cli_speaks_the_core_vocabulary(cli):
    """Help, completion and refusals read tickets/vocabulary.py, so they cannot drift from it."""
    from fieldkit.cli import complete
    from fieldkit.cli.ticket import CATEGORY_CHOICES, ESCALATION_CHOICES, LEVEL_CHOICES
    from fieldkit.tickets.vocabulary import CATEGORIES, ESCALATION_LEVELS, LEVELS

    assert CATEGORY_CHOICES.split("|") == list(CATEGORIES)
    assert complete.of(CATEGORY_CHOICES)("pr") == ["printer"]
    assert (LEVEL_CHOICES, ESCALATION_CHOICES) == ("1|2|3", "2|3")
    assert (LEVELS, ESCALATION_LEVELS) == ((1, 2, 3), (2, 3))
    r = cli("ticket", "list", "--level", "4")
    assert (r.code, r.err.strip()) == (2, "fieldkit: error: --level must be 1, 2 or 3 (got 4)")
    r = cli("ticket", "list", "--category", "toaster")
    assert r.code == 2 and "--category must be one of " + ", ".join(CATEGORIES) in r.err
    cli("ticket", "new", "-t", "x")
    r = cli("ticket", "escalate", "1", "--level", "1", "--reason", "r")
    assert (r.code, r.err.strip()) == (2, "fieldkit: error: escalation level must be 2 or 3 "
                                          "(got 1)")


def test_a_closed_ticket_refuses_diag_before_any_check_runs(cli):
    """The rule is the ticket's (Ticket.refuse_run_if_closed), asked before seconds of checks."""
    cli("ticket", "new", "-t", "x")
    cli("ticket", "resolve", "1", "-s", "done")
    cli("ticket", "close", "1")
    r = cli("ticket", "diag", "1")
    assert (r.code, r.err.strip()) == (2, "fieldkit: error: FK-1 is closed; reopen it before "
                                          "attaching diagnostics")
    assert r.out == ""
