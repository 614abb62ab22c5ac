"""The sign-off in the history, and when a later change makes it "signed before changes"."""

import hashlib
import json

import pytest

from fieldkit.report.signoff import latest
from fieldkit.tickets.store import TicketStore

pytestmark = pytest.mark.usefixtures("realistic")


def test_the_signoff_keeps_the_hash_of_the_attached_report(cli, home):
    r = cli("ticket", "signoff", "1", "--name", "Anna Müller", "--comment", "alles gut")
    assert r.code == 0, r.err
    store = TicketStore.at_home(home)
    ticket = store.get("1")
    (entry,) = [h for h in ticket.history if h["what"] == "signoff"]
    assert (entry["name"], entry["comment"], entry["pending"]) == ("Anna Müller", "alles gut",
                                                                    False)
    (pdf,) = [a for a in ticket.attachments if a["mime"] == "application/pdf"]
    data = store.file_path(pdf["sha256"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"] == pdf["sha256"]
    assert entry["sha256"] in r.out
    signed = latest(ticket)
    assert signed is not None and not signed.changed_after
    assert "SIGNED BEFORE CHANGES" not in cli("ticket", "show", "1").out


def test_a_later_note_marks_it_signed_before_changes(cli, home, tmp_path):
    assert cli("ticket", "signoff", "1", "--name", "Anna Müller").code == 0
    assert cli("ticket", "note", "1", "came back for the printer", "-m", "10").code == 0
    assert latest(TicketStore.at_home(home).get("1")).changed_after
    shown = cli("ticket", "show", "1").out
    assert "sign-off: signed off by Anna Müller" in shown and "SIGNED BEFORE CHANGES" in shown
    report = cli("ticket", "report", "1", "--format", "md").out
    assert "Signed before changes: the ticket changed after this signature." in report
    assert "Accepted by Anna Müller on" in report
    as_json = json.loads(cli("ticket", "show", "1", "--json").out)
    assert [h["what"] for h in as_json["history"]].count("signoff") == 1


def test_pending_means_signature_to_follow(cli, home):
    r = cli("ticket", "signoff", "1", "--pending")
    assert r.code == 0, r.err
    assert "signature to follow" in r.out
    ticket = TicketStore.at_home(home).get("1")
    assert latest(ticket).pending
    assert "Signature to follow" in cli("ticket", "report", "1", "--format", "md").out


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--comment", "x"), 2, "--name is required (no terminal to ask the customer)"),
    (("--name", "   "), 2, "--name must not be empty"),
    (("--name", "a\x1bb"), 2, "--name contains control characters"),
])
def test_bad_input_is_one_line_and_writes_nothing(cli, home, args, code, message):
    before = TicketStore.at_home(home).get("1")
    r = cli("ticket", "signoff", "1", *args)
    assert r.code == code and message in r.err and r.err.count("\n") == 1
    assert TicketStore.at_home(home).get("1").attachments == before.attachments


def test_a_closed_ticket_is_not_signed(cli):
    assert cli("ticket", "resolve", "1", "-s", "Postfach entsperrt", "--force").code == 0
    assert cli("ticket", "close", "1").code == 0
    r = cli("ticket", "signoff", "1", "--name", "Anna Müller")
    assert r.code == 2 and "closed" in r.err
    assert cli("ticket", "signoff", "FK-99", "--name", "x").code == 3


def test_on_a_terminal_the_customer_reads_the_summary_and_types_the_name(home):
    from tests.checklists.pty import Terminal

    t = Terminal(home, "ticket", "signoff", "1")
    t.expect(r"Service report: FK-1 Outlook sendet nicht")
    t.expect(r"Work done: Working time: 62 min logged, 75 min billed")
    t.expect(r"Still open / escalated: Escalated on .* to Exchange-Team")
    t.expect(r"please type your name \(it is your signature\): ")
    t.line("Anna Müller")
    t.expect(r"FK-1: signed off by Anna Müller; FK-1-report-.*\.pdf attached")
    assert t.wait() == 0
    assert latest(TicketStore.at_home(home).get("1")).name == "Anna Müller"
