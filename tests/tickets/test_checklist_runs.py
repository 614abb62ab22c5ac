"""The ticket's side of checklist runs: summaries, one outbox event, resolve and its override."""

import pytest

from fieldkit.errors import TransitionError
from fieldkit.tickets.model import CHECKLIST_RUN, SOLUTION, Ticket


def summary(run_id="r1", status="in_progress", pending=("a",)):
    return {"id": run_id, "checklist": "desk", "status": status,
            "pending_mandatory": list(pending), "steps": []}


def ticket():
    t = Ticket.create("x")
    t.ref = "FK-1"
    t.events.clear()
    return t


def test_a_run_is_recorded_and_posted_once_when_it_completes():
    t = ticket()
    t.record_checklist_run(summary())
    assert t.status == "in_progress" and [e.kind for e in t.events] == ["status"]
    t.record_checklist_run(summary(pending=()))
    t.record_checklist_run(summary(status="completed", pending=()))
    assert [e.kind for e in t.events].count(CHECKLIST_RUN) == 1
    assert t.events[-1].event_id == "r1" and len(t.checklist_runs) == 1
    with pytest.raises(TransitionError, match="is completed; start a new run"):
        t.record_checklist_run(summary(status="completed", pending=()))


def test_resolve_refuses_unfinished_mandatory_steps_and_changes_nothing():
    t = ticket()
    t.record_checklist_run(summary())
    t.events.clear()
    with pytest.raises(TransitionError, match=r"mandatory steps not done \(desk: a\).*--force"):
        t.resolve("done")
    assert t.status == "in_progress" and t.events == [] and t.solution == ""
    assert t.checklist_runs[0]["status"] == "in_progress"


def test_forced_resolve_records_the_override_and_sends_it_with_the_solution():
    t = ticket()
    t.record_checklist_run(summary())
    t.record_checklist_run(summary("r2", pending=()))
    t.events.clear()
    t.resolve("done", force=True, by="Ann")
    first, second = t.checklist_runs
    assert first["status"] == second["status"] == "abandoned"
    assert first["override"]["by"] == "Ann" and first["override"]["pending"] == ["a"]
    assert "override" not in second
    kinds = [(e.kind, e.event_id) for e in t.events]
    assert kinds[:2] == [(CHECKLIST_RUN, "r1"), (CHECKLIST_RUN, "r2")]
    (solution,) = [e for e in t.events if e.kind == SOLUTION]
    assert solution.payload == {"text": "done", "override": "resolved with --force by Ann: "
                                "mandatory checklist steps not done (desk: a)"}


def test_unfinished_run_without_mandatory_steps_left_does_not_block():
    t = ticket()
    t.record_checklist_run(summary(pending=()))
    t.resolve("done")
    assert t.checklist_runs[0]["status"] == "abandoned" and "override" not in t.checklist_runs[0]
    with pytest.raises(TransitionError, match="reopen it before running a checklist"):
        t.record_checklist_run(summary("r3"))
