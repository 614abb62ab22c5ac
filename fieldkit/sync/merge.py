"""The status merge: a baseline per side, so only a real change on one side moves the other.

fieldkit and the server each have their own status vocabulary, and the mapping between them is
lossy (RT's ``rejected`` or a custom ``waiting-for-customer`` has no fieldkit equivalent; both
``resolved`` and ``closed`` are RT's ``resolved``). Comparing through the mapping would see a
change where there is none and overwrite the server. So each side's value is compared with that
side's own value at the last agreement: ``agreed_local`` with the local status, ``agreed_remote``
with the server's. Whoever changed wins; both changed to something different is a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fieldkit.errors import InputError
from fieldkit.sync.backend import Backend, RemoteTicket, StatusConflict, SyncError, Update
from fieldkit.sync.run import SyncRun, Work
from fieldkit.tickets.link import Conflict, StatusWrite
from fieldkit.tickets.model import FIELDS, OPEN_STATUSES, SOLUTION, STATUS, Ticket, utc_now
from fieldkit.tickets.query import Filter
from fieldkit.tickets.store import Settlement, TicketStore

NONE, PUSH, PULL, AGREE, CONFLICT = "none", "push", "pull", "agree", "conflict"
# a ticket closed here and untouched for this long is no longer read back from the server
PULL_DAYS = 30


@dataclass(frozen=True)
class Decision:
    action: str  # none, push, pull, agree, conflict
    push: str | None = None  # the status to send, in the server's words
    pull: str | None = None  # the status to take, in fieldkit's words


def decide(local: str, agreed_local: str, remote: str, agreed_remote: str,
           to_remote: Callable[[str], str],
           to_local: Callable[[str], str | None]) -> Decision:
    """What to do with one ticket's status. ``agree``: record both values as the new baseline.

    A server status with no local equivalent is recorded (shown as "RT: rejected") and the local
    status is left alone: nobody changed it here, so nothing is pushed back either.
    """
    local_changed, remote_changed = local != agreed_local, remote != agreed_remote
    if not local_changed and not remote_changed:
        return Decision(NONE)
    if local_changed and not remote_changed:
        want = to_remote(local)
        return Decision(AGREE) if want == remote else Decision(PUSH, push=want)
    if remote_changed and not local_changed:
        mapped = to_local(remote)
        if mapped is None or mapped == local:
            return Decision(AGREE)
        return Decision(PULL, pull=mapped)
    if to_remote(local) == remote:
        return Decision(AGREE)  # both moved to the same place
    return Decision(CONFLICT)


def baseline_local(local: str, agreed_remote: str, to_remote: Callable[[str], str],
                   to_local: Callable[[str], str | None]) -> str:
    """The agreed local status of a ticket synced before baselines were kept per side."""
    if to_remote(local) == agreed_remote:
        return local
    return to_local(agreed_remote) or local


@dataclass
class Merge:
    """One linked ticket in the merge phase: what to send, and how to record the outcome."""

    ticket: Ticket
    server: RemoteTicket
    decision: Decision
    entries: list[dict[str, Any]]  # the ticket's pending entries read at the start of the run
    backend: Backend

    @classmethod
    def of(cls, ticket: Ticket, server: RemoteTicket, entries: list[dict[str, Any]],
           backend: Backend) -> Merge:
        agreed_remote = ticket.remote.status or server.status
        agreed_local = ticket.remote.agreed_local or baseline_local(
            ticket.status, agreed_remote, backend.to_remote_status, backend.to_local_status)
        decision = decide(ticket.status, agreed_local, server.status, agreed_remote,
                          backend.to_remote_status, backend.to_local_status)
        return cls(ticket, server, decision, entries, backend)

    def update(self) -> Update | None:
        fields = frozenset(f for e in self.entries if e["kind"] == FIELDS
                           for f in e["payload"]["fields"])
        if not fields and not self.decision.push:
            return None
        return Update(self.server.id, self.ticket, fields, self.decision.push,
                      expect=self.server.status if self.decision.push else None)

    def raced(self, remote: str) -> None:
        """The server's status changed while our push was on its way: a conflict with the
        value it holds now (the update's other fields went through)."""
        self.server = replace(self.server, status=remote)
        self.decision = Decision(CONFLICT)

    def step(self, outcome: SyncError | None) -> Step | None:
        """What to write for this ticket, given the server's answer to its update (None:
        nothing changed). Pure: the write itself is :meth:`Step.apply`."""
        action, seen_local, server = self.decision.action, self.ticket.status, self.server
        refused = action == PUSH and outcome is not None
        done = {e["event_id"] for e in self.entries if e["kind"] == FIELDS} \
            if outcome is None else set()
        if action != CONFLICT and not refused:
            done |= {e["event_id"] for e in self.entries if e["kind"] == STATUS}
        remote_status = self.decision.push if action == PUSH and not refused else server.status
        if (action == NONE and not done
                and self.ticket.remote.owner == server.owner
                and not self.ticket.remote.conflict
                and not self.ticket.remote.status_write
                and self.ticket.remote.agreed_local == seen_local):
            return None
        return Step(
            ref=self.ticket.ref, action=action, seen_local=seen_local, server=server,
            label=self.backend.label, done=frozenset(done), refused=refused,
            unchecked=outcome is not None and outcome.uncertain, remote_status=remote_status,
            unmapped=bool(remote_status)
            and self.backend.to_local_status(remote_status or "") is None,
            pull=self.decision.pull, base=self.ticket.remote.status,
            remote_local=self.backend.to_local_status(server.status))


@dataclass(frozen=True)
class Step:
    """One ticket's merge outcome, decided before the store's locked write: what to record, and
    the compare-and-set that turns a pull into a conflict when the local status moved since."""

    ref: str
    action: str
    seen_local: str  # the local status the decision was made on
    server: RemoteTicket
    label: str
    done: frozenset[str]  # the entries the server now holds
    refused: bool  # a push the server refused: the old baseline stays, it is pushed again
    unchecked: bool  # the server's answer was unclear: the stored status write stays
    remote_status: str | None  # the server's status to record as the new baseline
    unmapped: bool  # that status has no local equivalent
    pull: str | None
    base: str | None
    remote_local: str | None

    @property
    def changes(self) -> bool:
        """Whether the ticket counts as updated, unless its write ends in a conflict."""
        return bool(self.done) or self.action in (PUSH, PULL)

    def conflict(self, local: str) -> Conflict:
        return Conflict(ref=self.ref, field="status", local=local, remote=self.server.status,
                        base=self.base, remote_local=self.remote_local)

    def apply(self, t: Ticket) -> None:
        """The write, inside the store's lock; a conflict it finds is left in the ticket."""
        server, label = self.server, self.label
        if (t.remote.owner or "") != server.owner:
            t.log("sync", f"{label} owner: {server.owner or 'nobody'}")
        t.remote.owner, t.remote.synced_at, t.remote.system = server.owner, utc_now(), label
        if not self.unchecked:
            t.remote.status_write = None  # checked: by this run's update or merge
        had_conflict, t.remote.conflict = t.remote.conflict, None
        if self.action == CONFLICT:
            t.remote.conflict = conflict = self.conflict(self.seen_local)
            if not had_conflict:
                t.log("sync", f"conflict on status: here {conflict['local']}, {label} "
                              f"{conflict['remote']}")
            return
        if self.refused:
            return  # keep the old baseline: it is pushed again next time
        if self.action == PULL:
            if t.status != self.seen_local:  # changed here while we were pulling
                t.remote.conflict = self.conflict(t.status)
                return
            t.log("sync", f"{label} changed the status to {server.status}: "
                          f"{t.status} -> {self.pull}")
            t.status = self.pull or t.status
            t.touch()
        if t.remote.status != self.remote_status and self.unmapped:
            t.log("sync", f"{label} status is {self.remote_status} (kept there: no local "
                          "equivalent)")
        t.remote.status = self.remote_status
        t.remote.agreed_local = self.pull if self.action == PULL else self.seen_local


def merge_tickets(run: SyncRun, work: dict[str, Work]) -> None:
    since = (datetime.now(UTC) - timedelta(days=PULL_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    worth_reading = Filter(where=lambda row: row.linked and (
        row.status != "closed" or row.pending or row.flagged or row.updated_at >= since))
    linked = [t for t in run.store.select(worth_reading)
              if t.ref not in run.failures and not t.remote.held]
    if not linked:
        return
    # tickets read in this run already (just created or found) are not read again
    unread = [t.remote.id for t in linked if t.remote.id and t.remote.id not in run.seen]
    servers = {**run.backend.get_many(unread), **run.seen}
    merges: list[Merge] = []
    for ticket in linked:
        server = servers.get(ticket.remote.id or "")
        entries = work[ticket.ref].entries if ticket.ref in work else []
        if server is not None:
            merges.append(Merge.of(ticket, server, entries, run.backend))
        elif entries:
            run.fail(ticket.ref, SyncError(
                f"{run.backend.label} ticket #{ticket.remote.id} is not visible to the "
                "sync user (deleted, moved to a queue without rights, or unreadable)",
                kind="denied"))
    merges = _check_written(run, merges)
    updates = _guard(run, [(m, u) for m in merges if (u := m.update()) is not None])
    outcomes = dict(zip((m.ticket.ref for m, _u in updates),
                        _update_all(run, [u for _m, u in updates]), strict=True))
    steps: dict[str, Step] = {}
    for m in merges:
        outcome = outcomes.get(m.ticket.ref)
        if isinstance(outcome, StatusConflict):
            run.notice(f"{m.ticket.ref}: {outcome}")
            m.raced(outcome.remote)
            outcome = None
        if outcome is not None:
            run.fail(m.ticket.ref, outcome)
        step = m.step(outcome)
        if step is not None:
            steps[m.ticket.ref] = step
            if m.ticket.ref in work:  # what is settled now, for the posts waiting on it
                work[m.ticket.ref].entries = [e for e in work[m.ticket.ref].entries
                                              if e["event_id"] not in step.done]
    written = run.settle({ref: Settlement(done=step.done, update=step.apply)
                          for ref, step in steps.items()})
    for ref, step in steps.items():
        if ref in written:
            _count(run, step, written[ref])


def _count(run: SyncRun, step: Step, after: Ticket) -> None:
    """A merged ticket is judged by what its write left in the store: a conflict (decided
    before, or found by the compare-and-set) or else an update. The report's counts are made
    from these sets in one place, the engine's ``_finish``, where conflict beats update."""
    conflict = after.remote.conflict
    if conflict:
        run.report.conflicts.append(conflict)
    elif step.changes:
        run.updated.add(after.ref)


def _check_written(run: SyncRun, merges: list[Merge]) -> list[Merge]:
    """Judge the status writes an earlier run sent but could not check, from the server's
    history since the mark stored before them (the merge alone would see agreement)."""
    check = getattr(run.backend, "check_written", None)
    kept: list[Merge] = []
    for m in merges:
        written = m.ticket.remote.status_write
        if written and check is not None:
            try:
                verdict = check(Update(m.server.id, m.ticket, status=written["status"],
                                       expect=written["expect"]), m.server.status,
                                int(written["since"]))
            except SyncError as exc:
                if exc.fatal:
                    raise
                run.fail(m.ticket.ref, exc)
                continue  # checked again next sync: the stored mark stays
            if verdict is not None:
                run.notice(f"{m.ticket.ref}: {verdict}")
                m.raced(verdict.remote)
        kept.append(m)
    return kept


def _guard(run: SyncRun,
           updates: list[tuple[Merge, Update]]) -> list[tuple[Merge, Update]]:
    """Store the history mark and the expected status in each ticket before its status is
    sent, so that a run that dies or errs after the write leaves the check to the next one."""
    mark = getattr(run.backend, "status_mark", None)
    guarded = [(m, u) for m, u in updates if u.status and u.expect is not None]
    if mark is None or not guarded:
        return updates
    since = int(mark([u.remote_id for _m, u in guarded]))

    def note(written: StatusWrite) -> Callable[[Ticket], None]:
        def write(t: Ticket) -> None:
            t.remote.status_write = written

        return write

    run.settle({m.ticket.ref: Settlement(update=note(StatusWrite(
        since=since, expect=u.expect or "", status=u.status or ""))) for m, u in guarded})
    return [(m, replace(u, since=since) if u.status and u.expect is not None else u)
            for m, u in updates]


def _update_all(run: SyncRun, updates: list[Update]) -> list[SyncError | None]:
    if not updates:
        return []
    try:
        return run.backend.update_many(updates)
    except SyncError as exc:
        if exc.fatal or len(updates) == 1:
            raise
        outcomes: list[SyncError | None] = []
        for update in updates:  # isolate the one that broke the batch
            try:
                outcomes += run.backend.update_many([update])
            except SyncError as single:
                if single.fatal:
                    raise
                outcomes.append(single)
        return outcomes


def resolve_conflict(store: TicketStore, key: str, keep: str) -> Ticket:
    """Settle a status conflict: keep the local value (pushed next sync) or take the server's.

    Keeping the server's status withdraws a solution still waiting for the local one: posted
    after that, RT would read "Resolved: ..." on a ticket that stays open or stalled there.
    """
    ticket = store.get(key)
    conflict = ticket.remote.conflict
    if not conflict:
        raise InputError(f"{ticket.ref} has no sync conflict")
    kept = conflict.get("remote_local") or ticket.status
    withdrawn = {e["event_id"] for e in store.outbox().get(ticket.id, [])
                 if e["kind"] == SOLUTION} if keep == "remote" and kept in OPEN_STATUSES else set()

    def apply(t: Ticket) -> None:
        t.remote.status = conflict["remote"]  # the new baseline: the server's value
        if keep == "remote":
            if conflict["remote_local"]:
                t.status = conflict["remote_local"]
                t.touch()
            t.remote.agreed_local = t.status
        if withdrawn:
            t.log("sync", f"solution not posted: the server's status {conflict['remote']} "
                          "was kept")
        t.remote.conflict = None

    return store.settle(ticket.ref, done=withdrawn, update=apply)
