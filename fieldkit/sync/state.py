"""What sync keeps beside the store: one run at a time, the last outcome, and the offline plan.

``sync.json`` holds the last run's result and error (for ``sync status``) and which queues have
shown that they keep fieldkit's client id. ``.sync.lock`` is held for a whole run: two syncs at
once would each take the same outbox entries and post them twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit.sync.backend import SyncBusyError
from fieldkit.tickets.model import utc_now
from fieldkit.tickets.storage import (
    dump_json,
    exclusive_lock,
    holder_text,
    read_json,
)
from fieldkit.tickets.store import Pending, TicketStore

if TYPE_CHECKING:
    from fieldkit.sync.run import SyncReport

SYNC_WAIT_S = 5.0  # an impatient second `fieldkit sync` waits this long, then says why not


@contextmanager
def sync_lock(store: TicketStore, wait_s: float | None = None) -> Iterator[None]:
    store.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    wait_s = SYNC_WAIT_S if wait_s is None else wait_s

    def busy() -> SyncBusyError:
        who = holder_text(store.root / ".sync.lock")
        return SyncBusyError(f"a sync is already running on this store{who} ({store.root}); "
                             "wait for it to finish, then run 'fieldkit sync' again if needed")

    with exclusive_lock(store.root / ".sync.lock", wait_s, busy=busy):
        yield


def state_path(store: TicketStore) -> Path:
    return store.root / "sync.json"


def load_state(store: TicketStore) -> dict[str, Any]:
    return read_json(state_path(store)) or {}


def save_state(store: TicketStore, report: SyncReport, **extra: Any) -> None:
    state = load_state(store)
    state.update(extra)
    state.update(last_sync_at=utc_now(), last_result={k: getattr(report, k) for k in
                                                     ("created", "updated", "failed", "pending")})
    state["last_error"] = report.fatal or (report.errors[-1]["message"] if report.errors else None)
    if report.fatal is None and not report.errors:
        state["last_success_at"] = state["last_sync_at"]
    store.write_beside(state_path(store).name, dump_json(state))


def plan(store: TicketStore, pending: Pending | None = None) -> list[dict[str, Any]]:
    """What a sync would send, without touching the network (--dry-run, sync status)."""
    return [{"ref": ticket.ref, "id": ticket.id, "remote_id": ticket.remote.id,
             "events": [e["kind"] for e in entries],
             "attempted": sum(1 for e in entries if e.get("attempted")),
             "last_error": next((e["last_error"] for e in reversed(entries)
                                 if e.get("last_error")), None),
             "held": ticket.remote.held}
            for ticket, entries in (store.pending() if pending is None else pending)]


def status_report(store: TicketStore) -> dict[str, Any]:
    """``sync status``: what is pending, held or in conflict, and the last run (no network)."""
    state = load_state(store)
    waiting, flagged = store.sync_view()  # one pass over the indexes
    pending = plan(store, waiting)
    return {"pending": sum(len(p["events"]) for p in pending), "tickets": pending,
            "conflicts": [t.remote.conflict for t in flagged if t.remote.conflict],
            "last_sync_at": state.get("last_sync_at"),
            "last_success_at": state.get("last_success_at"),
            "last_error": state.get("last_error"), "last_result": state.get("last_result")}
