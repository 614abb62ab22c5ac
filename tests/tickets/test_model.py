import copy

import pytest

from fieldkit.errors import InputError, TransitionError
from fieldkit.tickets.model import (
    MAX_LONG_TEXT,
    PRIORITY_LABELS,
    Ticket,
    parse_ref,
    priority_of,
)

MATRIX = [
    ("high", "high", 1), ("high", "medium", 2), ("high", "low", 3),
    ("medium", "high", 2), ("medium", "medium", 3), ("medium", "low", 4),
    ("low", "high", 3), ("low", "medium", 4), ("low", "low", 5),
]


@pytest.mark.parametrize(("impact", "urgency", "priority"), MATRIX)
def test_itil_priority_matrix(impact, urgency, priority):
    assert priority_of(impact, urgency) == priority
    ticket = Ticket.create("x", impact=impact, urgency=urgency)
    assert ticket.priority == priority
    assert ticket.to_dict()["priority_label"] == PRIORITY_LABELS[priority]


def test_labels():
    assert [PRIORITY_LABELS[p] for p in range(1, 6)] == [
        "critical", "high", "medium", "low", "planning"]


@pytest.mark.parametrize(("text", "number"), [
    ("FK-12", 12), ("fk-12", 12), ("fk12", 12), ("12", 12), ("#7", 7), (" FK-3 ", 3),
    ("FK-", None), ("abc", None), ("FK-1a", None), ("", None),
])
def test_parse_ref(text, number):
    assert parse_ref(text) == number


def test_refused_change_leaves_ticket_untouched():
    ticket = Ticket.create("printer", impact="low")
    before = copy.deepcopy(ticket.to_dict())
    with pytest.raises(TransitionError):
        ticket.close()
    with pytest.raises(InputError):
        ticket.edit(title="ok", impact="enormous")
    assert ticket.to_dict() == before


def test_lifecycle():
    t = Ticket.create("mail down", category="email")
    t.add_note("checked outlook profile", 10)
    assert t.status == "in_progress"
    t.escalate(2, "exchange side")
    with pytest.raises(TransitionError, match="only goes up"):
        t.escalate(2, "again")
    t.escalate(3, "vendor bug")
    assert [e["to_level"] for e in t.escalations] == [2, 3]
    assert t.level == 3
    t.resolve("patched")
    with pytest.raises(TransitionError):
        t.escalate(3, "x")
    t.close()
    with pytest.raises(TransitionError, match="closed"):
        t.add_note("late", 1)
    with pytest.raises(TransitionError):
        t.edit(title="new title")
    t.reopen()
    assert t.status == "in_progress"
    with pytest.raises(TransitionError):
        t.reopen()


def test_status_edit_limited_to_open_states():
    t = Ticket.create("x")
    t.edit(status="pending")
    assert t.status == "pending"
    with pytest.raises(TransitionError, match="resolve"):
        t.edit(status="resolved")


@pytest.mark.parametrize("bad", ["\udcff\udcfe title", "a\x00b", "\x1b[31mred"])
def test_bad_text_is_refused(bad):
    with pytest.raises(InputError):
        Ticket.create(bad)


def test_huge_text_is_refused():
    with pytest.raises(InputError, match="too long"):
        Ticket.create("x", description="y" * (MAX_LONG_TEXT + 1))
    with pytest.raises(InputError, match="too long"):
        Ticket.create("t" * 201)


def test_minutes_bounds():
    t = Ticket.create("x")
    with pytest.raises(InputError):
        t.add_note("neg", -1)
    with pytest.raises(InputError):
        t.add_note("a week", 7 * 24 * 60)


def test_round_trip():
    t = Ticket.create("x", site="ACME", requester="Ann", contact="ann@example.com")
    t.add_note("n", 5)
    assert Ticket.from_dict(t.to_dict()).to_dict() == t.to_dict()
