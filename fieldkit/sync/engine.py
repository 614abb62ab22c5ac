"""Drain the outbox into a backend, exactly once, and bring server-side changes back.

One run, under the sync lock, in phases that each cost a few batched requests however many
tickets there are:

1. **create** (``create.py``): search by client id, adopt what exists, create the rest, record
   each remote id at once, re-read to confirm the client id stuck.
2. **check** (``post.py``): for posts an interrupted run marked attempted, ask the server which
   event ids arrived; those are done, the rest are sent again.
3. **post** (``post.py``): notes, escalation reasons, solutions, detail changes and diagnostic
   runs, each stamped attempted before sending and done only once the server confirmed it.
4. **merge** (``merge.py``): re-read every linked ticket; push field updates and local status
   changes, pull remote status and owner, each confirmed by a re-read. Solutions wait for
   their ticket's status change and are posted after it, unless it ended in a conflict.

The phases share this run's bookkeeping through a :class:`~fieldkit.sync.run.SyncRun` (defined
below them, in ``run.py``); the engine builds it, holds the lock and runs the phases in order.

A failure of one ticket (a refusal, a 404, a bad answer) fails that ticket only; a fatal one
(login, TLS, server gone) stops the run; anything unexpected still saves ``sync.json``. Nothing
leaves the outbox unconfirmed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fieldkit.sync.backend import Backend, SyncError
from fieldkit.sync.create import create_tickets
from fieldkit.sync.merge import merge_tickets
from fieldkit.sync.post import check_attempted, check_unsent, post_notes, post_solutions
from fieldkit.sync.run import WATCH_S, Notice, Progress, SyncReport, SyncRun, Work, watched
from fieldkit.sync.state import load_state, save_state, sync_lock
from fieldkit.tickets.store import Settlement, TicketStore

__all__ = ["SyncEngine", "SyncReport", "Work", "WATCH_S"]


class SyncEngine:
    def __init__(self, store: TicketStore, backend: Backend, *, max_workers: int = 4,
                 grace_s: float = 60.0, progress: Progress | None = None,
                 notice: Notice | None = None, sleep: Callable[[float], None] = time.sleep
                 ) -> None:
        self.store, self.backend = store, backend
        self.max_workers, self.grace_s = max_workers, grace_s
        self.progress, self.notice, self.sleep = progress, notice, sleep

    def run(self) -> SyncReport:
        run = SyncRun(self.store, self.backend, self.max_workers, self.grace_s, sleep=self.sleep)
        if self.progress:
            run.progress = self.progress
        if self.notice:
            run.notice = self.notice
        with sync_lock(self.store):
            self.store.upgrade()
            state = load_state(self.store)
            run.verified_queues = set(state.get("client_id_queues", []))
            run.watch = watched(state.get("create_watch", {}))
            try:
                self.backend.open()
                _phases(run)
            except SyncError as exc:  # a fatal failure: stop, keep everything pending
                run.report.fatal = str(exc)
                run.report.errors.append({"ref": "-", "kind": exc.kind, "message": str(exc)})
            finally:  # also on a bug or Ctrl-C: sync.json tells what happened
                _finish(run)
        return run.report


def _phases(run: SyncRun) -> None:
    work = {ticket.ref: Work(ticket, entries) for ticket, entries in run.store.pending()}
    run.total = sum(len(w.entries) for w in work.values())
    create_tickets(run, [w for w in work.values() if not w.remote_id], work)
    check_attempted(run, work)
    check_unsent(run, work)
    waiting = post_notes(run, work)
    merge_tickets(run, work)
    post_solutions(run, waiting)  # once their status is through, not in a conflict


def _finish(run: SyncRun) -> None:
    store, report = run.store, run.report
    if run.failures or run.problems:
        store.settle_many({ref: Settlement(error=message) for ref, message in
                           {**run.problems, **run.failures}.items()})
    report.created = len(run.created)
    # each ticket is one line of the report: created, else in conflict, else updated (a note
    # that went up beside a status conflict does not make it "updated" as well)
    conflicted = {conflict["ref"] for conflict in report.conflicts}
    report.updated = len(run.updated - run.created - conflicted)
    report.failed = len(run.failures)
    remaining = sum(len(entries) for _ticket, entries in store.pending())
    report.pending = remaining + len(report.conflicts)
    save_state(store, report, client_id_queues=sorted(run.verified_queues),
               create_watch=run.watch, restored=report.restored)
