"""Phase 1 of a sync: make sure every ticket exists remotely, exactly once.

Search the server by client id for every ticket not yet linked and adopt what is found; create
the rest (stamped *attempted* first), record each remote id the moment the server answers, then
re-read to confirm the client id stuck. A create attempted before and still not found is
repeated only once the server can no longer be working on it (older than ``grace_s``): a killed
sync's bulk create may still be running inside the server. A ticket whose client id does not
stick is *held* (no more creates, a clear error) until re-tagging it works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fieldkit.sync import merge
from fieldkit.sync.backend import RemoteTicket, SyncError, Update
from fieldkit.tickets.model import CREATED, Ticket, utc_now
from fieldkit.tickets.store import Settlement

if TYPE_CHECKING:
    from fieldkit.sync.engine import SyncEngine, Work


def create_tickets(engine: SyncEngine, new: list[Work], work: dict[str, Work]) -> None:
    _retag_held(engine, work)
    unconfirmed = [w for w in work.values() if w.remote_id and w.of(CREATED)
                   and not w.ticket.remote.get("held")]
    if unconfirmed:  # created, linked, then interrupted before the re-read
        _confirm_created(engine, [(w, RemoteTicket(w.remote_id or "", w.ticket.remote["url"],
                                                   w.ticket.remote["status"]))
                                  for w in unconfirmed])
    if not new:
        return
    found = engine.backend.find_by_client_ids([w.ticket.id for w in new])
    engine.seen.update((remote.id, remote) for remote in found.values())
    missing = [w for w in new if w.ticket.id not in found]
    young = [w for w in missing if w.attempt_age(CREATED) < engine.grace_s]
    if young:
        found.update(_wait_for_interrupted(engine, young))
        missing = [w for w in missing if w.ticket.id not in found]
    _link(engine, [(w, found[w.ticket.id], _baseline(engine, w.ticket, found[w.ticket.id]))
                   for w in new if w.ticket.id in found])
    if not missing:
        return
    if engine.dropped_client_id is None and len(missing) > 1 \
            and engine.backend.queue not in engine.verified_queues:
        # a canary: a queue that drops the client id must cost one ticket, not a hundred
        _create_batch(engine, missing[:1])
        missing = missing[1:]
    if engine.dropped_client_id is None:
        _create_batch(engine, missing)
        return
    for w in missing:
        engine.fail(w.ref, SyncError(f"not created: {engine.dropped_client_id} lost its "
                                     "client id on the server (see 'fieldkit sync check')",
                                     kind="config"))


def _wait_for_interrupted(engine: SyncEngine, young: list[Work]) -> dict[str, RemoteTicket]:
    """Wait until an interrupted sync's creates can no longer be running in the server: the
    attempt is older than the grace time, and searching again finds nothing new (a server
    slower than the grace time is still creating one ticket after another)."""
    engine.wait_out(young, (CREATED,), "creating")
    ids = [w.ticket.id for w in young]
    found = engine.backend.find_by_client_ids(ids)
    for _round in range(60):  # bounded: a server still creating after ~10 minutes is not ours
        if len(found) == len(ids):
            break
        engine.sleep(engine.quiet_s)
        again = engine.backend.find_by_client_ids(ids)
        if len(again) == len(found):
            break  # nothing new for a while: what is missing was never created
        found = again
    engine.seen.update((remote.id, remote) for remote in found.values())
    return found


def _create_batch(engine: SyncEngine, batch: list[Work]) -> None:
    """Create, record at once, confirm."""
    sent = {w.ref: {e["event_id"] for e in w.of(CREATED)} for w in batch}
    engine.settle({ref: Settlement(attempted=ids) for ref, ids in sent.items()})
    try:
        made = engine.backend.create_many([w.ticket for w in batch])
    except SyncError as exc:
        engine.answered(sent, exc)
        for w in batch:
            engine.fail(w.ref, exc)
        return
    created = [(w, out) for w, out in zip(batch, made, strict=True)
               if isinstance(out, RemoteTicket)]
    engine.created.update(w.ref for w, _remote in created)
    # the remote id is on disk before anything else happens: a crash now cannot orphan it.
    # (An item that failed because the request broke off mid-way got no answer of its own.)
    # the baseline is what was created: a status RT refuses at creation is pushed right after
    links = {w.ref: _linker(remote, engine.backend.label, _baseline(engine, w.ticket, remote))
             for w, remote in created}
    engine.settle({w.ref: Settlement(update=links.get(w.ref), answered=sent[w.ref])
                   for w, out in zip(batch, made, strict=True)
                   if not (isinstance(out, SyncError) and out.unanswered)})
    for w, out in zip(batch, made, strict=True):
        if isinstance(out, SyncError):
            engine.fail(w.ref, out)  # a fatal one stops the run only now
    _confirm_created(engine, created)


def _confirm_created(engine: SyncEngine, created: list[tuple[Work, RemoteTicket]]) -> None:
    """Re-read: did each client id stick? Link those; hold the others."""
    if not created:
        return
    confirmed = engine.backend.get_many([remote.id for _w, remote in created])
    engine.seen.update(confirmed)
    all_stuck = True
    for w, remote in created:
        server = confirmed.get(remote.id)
        if server is None:
            engine.fail(w.ref, SyncError(f"{engine.backend.label} ticket #{remote.id} cannot "
                                         "be read back to confirm it; checked again next sync",
                                         kind="denied"))
            continue
        if server.client_id == w.ticket.id:
            continue
        all_stuck = False
        engine.dropped_client_id = engine.dropped_client_id or w.ref
        reason = (f"{engine.backend.label} ticket #{remote.id} did not keep {w.ref}'s client id "
                  f"(queue {server.queue or '?'}): the sync user needs the rights to see and "
                  "set the FieldkitID custom field there; the ticket is held, nothing more "
                  "is created ('fieldkit sync check' tells more)")
        engine.settle({w.ref: Settlement(update=_holder(reason))})
        engine.fail(w.ref, SyncError(reason, kind="config"))
    if all_stuck and created:
        engine.verified_queues.add(engine.backend.queue)
    _link(engine, [(w, confirmed[r.id], w.ticket.status) for w, r in created
                   if w.ref not in engine.failures and r.id in confirmed])


def _link(engine: SyncEngine, found: list[tuple[Work, RemoteTicket, str]]) -> None:
    """Record the remote ticket (and the agreed local status) and confirm 'created'."""
    if not found:
        return
    engine.settle({w.ref: Settlement(done={e["event_id"] for e in w.of(CREATED)},
                                     update=_linker(remote, engine.backend.label, agreed))
                   for w, remote, agreed in found})
    for w, remote, _agreed in found:
        w.ticket.remote.update(id=remote.id, url=remote.url)
        w.entries = [e for e in w.entries if e["kind"] != CREATED]


def _baseline(engine: SyncEngine, ticket: Ticket, server: RemoteTicket) -> str:
    """The local status a found (not just created) remote ticket corresponds to."""
    return merge.baseline_local(ticket.status, server.status, engine.backend.to_remote_status,
                                engine.backend.to_local_status)


def _retag_held(engine: SyncEngine, work: dict[str, Work]) -> None:
    """Try again to give held tickets their client id; success releases them."""
    held = [w for w in work.values() if w.remote_id and w.ticket.remote.get("held")]
    if not held:
        return
    updates = [Update(w.remote_id or "", w.ticket, frozenset({"client_id"})) for w in held]
    for w, outcome in zip(held, engine.backend.update_many(updates), strict=True):
        if outcome is None:
            engine.settle({w.ref: Settlement(done={e["event_id"] for e in w.of(CREATED)},
                                             update=_holder(None))})
            w.ticket.remote.pop("held", None)
            w.entries = [e for e in w.entries if e["kind"] != CREATED]
        else:
            engine.dropped_client_id = engine.dropped_client_id or w.ref
            engine.fail(w.ref, SyncError(w.ticket.remote["held"], kind="config"))


def _linker(remote: RemoteTicket, label: str, agreed_local: str) -> Callable[[Ticket], None]:
    def link(t: Ticket) -> None:
        if not t.remote.get("id"):  # the first link sets the baselines of the status merge
            t.remote.update(status=remote.status, agreed_local=agreed_local)
            t.log("sync", f"linked to {label} ticket #{remote.id}", remote_id=remote.id)
        t.remote.update(id=remote.id, url=remote.url, system=label, synced_at=utc_now())
        if remote.owner:
            t.remote["owner"] = remote.owner

    return link


def _holder(reason: str | None) -> Callable[[Ticket], None]:
    def hold(t: Ticket) -> None:
        if reason is None:
            t.remote.pop("held", None)
            t.log("sync", "client id set on the server: the ticket syncs again")
        else:
            t.remote["held"] = reason
            t.log("sync", f"held: {reason}")

    return hold
