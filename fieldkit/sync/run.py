"""One sync run's context: what the phases share, below them all.

The phases (``create``, ``post``, ``merge``) each take a :class:`SyncRun`: the store and backend
handles, the run's work and report, and its bookkeeping: :meth:`SyncRun.fail` fails one ticket
(or, when fatal, the run), :meth:`SyncRun.settle` writes progress to the store, the waits hold
back while an interrupted run's requests may still land. The engine (``engine.py``) builds one
per run and owns the loop and the lock; no phase imports the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from fieldkit.sync.backend import Backend, RemoteTicket, SyncError
from fieldkit.tickets.link import Conflict
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import Settlement, TicketStore

Progress = Callable[[int, int, str], None]
Notice = Callable[[str], None]
Entry = dict[str, Any]


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    fatal: str | None = None
    restored: list[str] = field(default_factory=list)  # refs RT knew more of than the store
    merged: list[dict[str, str]] = field(default_factory=list)  # delayed copies, merged in RT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Work:
    """One ticket's pending entries, as read at the start of the run."""

    ticket: Ticket
    entries: list[Entry]

    @property
    def ref(self) -> str:
        return self.ticket.ref

    @property
    def remote_id(self) -> str | None:
        return self.ticket.remote.id

    def of(self, *kinds: str) -> list[Entry]:
        return [e for e in self.entries if e["kind"] in kinds]

    def attempt_age(self, *kinds: str) -> float:
        """Seconds since an earlier run sent one of these entries and got no answer (inf: none
        such): how long the server may have been working on it since."""
        stamps = [e["attempted_at"] for e in self.of(*kinds)  # answered ones are over
                  if e.get("attempted") and e.get("attempted_at") and not e.get("answered")]
        if not stamps:
            return float("inf")
        now = datetime.now(UTC)
        return min((now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()
                   for stamp in stamps)


WATCH_S = 24 * 3600.0  # how long to look for delayed copies of a create that got no answer


def watched(watch: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The watch entries younger than WATCH_S."""
    now = datetime.now(UTC)
    return {cid: item for cid, item in watch.items()
            if (now - datetime.fromisoformat(item["since"].replace("Z", "+00:00")))
            .total_seconds() < WATCH_S}


@dataclass
class SyncRun:
    """One run under the sync lock: its handles, settings, what it learned and what it did."""

    store: TicketStore
    backend: Backend
    max_workers: int = 4
    grace_s: float = 60.0  # how long the server may still work on a request we gave up on
    progress: Progress = field(default=lambda done, total, ref: None)
    notice: Notice = field(default=lambda text: None)
    sleep: Callable[[float], None] = time.sleep
    report: SyncReport = field(default_factory=SyncReport)
    failures: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # an entry failed; others went on
    created: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    verified_queues: set[str] = field(default_factory=set)
    dropped_client_id: str | None = None  # a ticket whose client id did not stick
    seen: dict[str, RemoteTicket] = field(default_factory=dict)  # read this run, by remote id
    # client id -> {ref, since}: creates that once got no answer, so a copy of them may
    # still land in the server; each sync looks for such copies until WATCH_S has passed
    watch: dict[str, dict[str, str]] = field(default_factory=dict)
    done: int = 0  # entries settled, of ``total`` pending at the start (for the progress)
    total: int = 0

    def fail(self, ref: str, exc: SyncError) -> None:
        if exc.fatal:
            raise exc
        if ref not in self.failures:
            self.failures[ref] = str(exc)
            self.report.errors.append({"ref": ref, "kind": exc.kind, "message": str(exc)})

    def fail_entry(self, ref: str, exc: SyncError) -> None:
        """One entry failed (a file RT refused): it stays pending, named in the report, and the
        ticket's other entries (later notes, the queue move) go on."""
        if exc.fatal:
            raise exc
        self.problems.setdefault(ref, str(exc))
        self.report.errors.append({"ref": ref, "kind": exc.kind, "message": str(exc)})

    @property
    def quiet_s(self) -> float:
        """How long to look away before checking whether an interrupted run's requests are
        still landing on the server."""
        return max(1.0, min(10.0, self.grace_s / 4))

    def wait_out(self, young: list[Work], kinds: tuple[str, ...], doing: str) -> None:
        """Sleep until the newest unanswered attempt of ``kinds`` is ``grace_s`` old: until then
        the server may still be carrying out what an interrupted sync sent."""
        wait = self.grace_s - min(w.attempt_age(*kinds) for w in young)
        self.notice(f"waiting {wait:.0f} s or more: an interrupted sync may still be {doing} "
                    f"{', '.join(w.ref for w in young)} on the server")
        self.sleep(max(0.0, wait))

    def in_flight(self) -> int:
        """Connections this machine left open to the server (0: none, or cannot tell)."""
        count = getattr(self.backend, "unfinished_requests", None)
        return (count() or 0) if count else 0

    def wait_in_flight(self, doing: str) -> None:
        """Wait while a connection to the server that an earlier run left is still open at the
        server's end: a request on it may still arrive (a slow VPN), however old it is."""
        for round_ in range(600):  # bounded: the kernel drops such sockets after ~60 s anyway
            if not self.in_flight():
                return
            if round_ == 0:
                self.notice(f"waiting: a request sent to the server from this machine is still "
                            f"open on its way (an interrupted sync may still be {doing})")
            self.sleep(self.quiet_s)

    def restored_store(self, refs: list[str], what: str) -> None:
        """Say that the server holds what this store does not know it sent."""
        new = [ref for ref in refs if ref not in self.report.restored]
        if new:
            self.report.restored += new
            self.notice(f"the server already has {what} of {', '.join(new)} that this store "
                        "does not know it sent: restored from a backup? Nothing is sent twice")

    def answered(self, sent: dict[str, set[str]], exc: SyncError | None = None) -> None:
        """Mark what was sent as answered by the server, unless it gave no answer at all."""
        if exc is None or not exc.unanswered:
            self.settle({ref: Settlement(answered=ids) for ref, ids in sent.items()})

    def settle(self, work: dict[str, Settlement]) -> dict[str, Ticket]:
        """Write progress to the store; the tickets as written, by ref."""
        if not work:
            return {}
        written: dict[str, Ticket] = {}
        for ticket in self.store.settle_many(work):
            written[ticket.ref] = ticket
            self.done += len(work[ticket.ref].done)
            self.progress(min(self.done, self.total), self.total, ticket.ref)
        return written

    def live(self, work: dict[str, Work]) -> list[Work]:
        """Tickets that can take posts and updates in this run."""
        return [w for w in work.values() if w.remote_id and w.ref not in self.failures
                and not w.ticket.remote.held]
