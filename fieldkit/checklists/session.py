"""A run's life in the ticket store: start it (on a ticket or not), keep it, resume it, end it.

After every step the whole run is written to ``store/checklist-runs/<id>.json`` and, when it
belongs to a ticket, the ticket's summary of it is updated under the same lock, so ``ticket
show`` in another terminal, a Ctrl-C or a killed process all see the run as far as it got. The
ticket records the outbox event when the run completes; sync posts it once from there.
"""

from __future__ import annotations

import json
import platform
import uuid
from collections.abc import Callable
from typing import Any

from fieldkit.checklists.model import IN_PROGRESS, Checklist, ChecklistRun, Step, StepRecord
from fieldkit.checklists.report import summary
from fieldkit.checklists.runner import AnswerSource, CheckFunc, Runner
from fieldkit.errors import FieldkitError, NotFoundError, TransitionError
from fieldkit.tickets.model import Ticket, parse_ref, utc_now
from fieldkit.tickets.store import TicketStore


class Interrupted(FieldkitError):
    """The technician stopped the run (Ctrl-C, end of input); it is saved and can be resumed."""

    exit_code = 130


def start(store: TicketStore, checklist: Checklist, technician: str, *,
          ticket_key: str | None = None, new_ticket: bool = False,
          host: str | None = None) -> ChecklistRun:
    """A new run, saved at once; with a ticket, its summary is on the ticket from the start.
    ``host``: the machine its checks run on, when not this one (``--host``)."""
    run = ChecklistRun(str(uuid.uuid4()), checklist, [StepRecord(s.id) for s in checklist.steps],
                       utc_now(), technician, host or platform.node() or "unknown")
    run.updated_at = run.started_at
    ticket: Ticket | None = None
    if ticket_key is not None:
        ticket = store.get(ticket_key)
        if not ticket.is_open():
            raise TransitionError(f"{ticket.ref} is {ticket.status}; reopen it before running "
                                  "a checklist on it")
    elif new_ticket:
        ticket = store.create(Ticket.create(checklist.title, category=checklist.category))
        run.ticket_created = True
    if ticket is not None:
        run.ticket_id, run.ticket_ref = ticket.id, ticket.ref
    persist(store, run)
    return run


def persist(store: TicketStore, run: ChecklistRun) -> None:
    if run.ticket_id:
        store.save_checklist_run(run.to_dict(), run.ticket_ref,
                                 lambda t: t.record_checklist_run(summary(run)))
    else:
        store.save_checklist_run(run.to_dict())


def proceed(store: TicketStore, run: ChecklistRun, source: AnswerSource, check: CheckFunc,
            technician: str) -> ChecklistRun:
    """Ask the remaining steps; on Ctrl-C or end of input the run is kept for ``resume``."""
    runner = Runner(run, source, check, technician, lambda r: persist(store, r))
    try:
        return runner.execute()
    except (KeyboardInterrupt, EOFError) as exc:
        persist(store, run)
        where = f"{run.position + 1}/{len(run.checklist.steps)}"
        on = f" {run.ticket_ref}" if run.ticket_ref else ""
        why = "input ended" if isinstance(exc, EOFError) else "interrupted"
        raise Interrupted(f"{why}: the checklist run is saved at step {where}; continue with "
                          f"'fieldkit checklist resume{on}'") from None


def diagnostics_check(settings: dict[str, Any], runner: Any = None) -> CheckFunc:
    """Check steps run the real diagnostics, with the ``[diag]`` settings; ``runner`` runs
    each step's job elsewhere (``--host``)."""
    from fieldkit.checklists.checks import run_check

    def check(step: Step, targets: list[str]) -> list[dict[str, Any]]:
        return [f.to_dict() for f in run_check(step.check, targets, step.timeout_s, settings,
                                               runner)]

    return check


def unfinished(store: TicketStore) -> list[ChecklistRun]:
    """Runs that can be resumed, the most recent first: in progress, and (when on a ticket)
    not ended by resolving the ticket."""
    found = []
    for run_id in store.checklist_run_ids():
        if not _may_be_unfinished(store, run_id):
            continue
        run = ChecklistRun.from_dict(store.load_checklist_run(run_id))
        if run.status != IN_PROGRESS:
            continue
        if run.ticket_id:
            try:
                ticket = store.get(run.ticket_ref)
            except NotFoundError:
                continue
            mine = next((r for r in ticket.checklist_runs if r["id"] == run.id), None)
            if mine is not None and mine["status"] != IN_PROGRESS:
                continue
        found.append(run)
    return found


def _may_be_unfinished(store: TicketStore, run_id: str) -> bool:
    """Peek at the start of the file: the status is written third, so years of finished runs
    are not parsed whole for every resume."""
    path = store.checklist_runs_dir / f"{run_id}.json"
    try:
        with open(path, "rb") as f:
            head = f.read(200).decode("utf-8", "replace")
    except OSError:
        return False
    marker = '"status": '
    if marker not in head:
        return True
    return head.split(marker, 1)[1].startswith(json.dumps(IN_PROGRESS))


def find_resumable(store: TicketStore, key: str | None) -> ChecklistRun:
    """The run to resume: by ticket ref, by run id (or its first 8 characters), else the most
    recent unfinished one."""
    runs = unfinished(store)
    if key:
        number = parse_ref(key)
        wanted = key.strip().lower()
        runs = [r for r in runs if (number is not None and r.ticket_ref and
                                    parse_ref(r.ticket_ref) == number)
                or (len(wanted) >= 8 and r.id.startswith(wanted))]
    if not runs:
        which = f" for {key}" if key else ""
        raise NotFoundError(f"no unfinished checklist run{which} (start one with "
                            "'fieldkit checklist run ID')")
    return runs[0]


def apply_suggestions(store: TicketStore, run: ChecklistRun) -> Ticket | None:
    """For a ticket the checklist created: take the suggested category, impact and urgency
    (nobody chose them yet). Escalation always stays a person's decision."""
    values = {k: run.suggestions[k] for k in ("category", "impact", "urgency")
              if run.suggestions.get(k)}
    if not values or not run.ticket_ref or not run.ticket_created:
        return None
    edit: Callable[[Ticket], Any] = lambda t: t.edit(**values)  # noqa: E731
    return store.change(run.ticket_ref, edit)
