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
from datetime import UTC, datetime, timedelta

from fieldkit.errors import FieldkitError
from fieldkit.sync import merge
from fieldkit.sync.backend import RemoteTicket, SyncError, Update
from fieldkit.sync.run import SyncRun, Work
from fieldkit.tickets.model import CREATED, Ticket, utc_now
from fieldkit.tickets.store import Settlement


def create_tickets(run: SyncRun, new: list[Work], work: dict[str, Work]) -> None:
    _watch_unanswered(run, work)
    _merge_copies(run, work)
    _create_tickets(run, [w for w in new if not w.remote_id], work)


def _create_tickets(run: SyncRun, new: list[Work], work: dict[str, Work]) -> None:
    _retag_held(run, work)
    unconfirmed = [w for w in work.values() if w.remote_id and w.of(CREATED)
                   and not w.ticket.remote.held]
    if unconfirmed:  # created, linked, then interrupted before the re-read
        _confirm_created(run, [(w, RemoteTicket(w.remote_id or "", w.ticket.remote.url or "",
                                                w.ticket.remote.status or ""))
                               for w in unconfirmed])
    if not new:
        return
    found = run.backend.find_by_client_ids([w.ticket.id for w in new])
    run.seen.update((remote.id, remote) for remote in found.values())
    missing = [w for w in new if w.ticket.id not in found]
    young = [w for w in missing if w.attempt_age(CREATED) < run.grace_s]
    if not young and run.in_flight():  # older, but its request is still on its way
        young = [w for w in missing if w.attempt_age(CREATED) < float("inf")]
    if young:
        found.update(_wait_for_interrupted(run, young))
        missing = [w for w in missing if w.ticket.id not in found]
    unsure = [w for w in missing if w.ticket.id in run.watch]  # a copy may have lost its id
    run.restored_store([w.ref for w in new if w.ticket.id in found and not any(
        e.get("attempted") for e in w.of(CREATED))], "the ticket")
    if run.report.restored:  # the store is older than the server: any ticket may be there
        unsure = missing
    if unsure:
        found.update(_find_by_marker(run, unsure))
        missing = [w for w in missing if w.ticket.id not in found]
    _link(run, [(w, found[w.ticket.id], _baseline(run, w.ticket, found[w.ticket.id]))
                for w in new if w.ticket.id in found])
    if not missing:
        return
    if run.dropped_client_id is None and len(missing) > 1 \
            and run.backend.queue not in run.verified_queues:
        # a canary: a queue that drops the client id must cost one ticket, not a hundred
        _create_batch(run, missing[:1])
        missing = missing[1:]
    if run.dropped_client_id is None:
        _create_batch(run, missing)
        return
    for w in missing:
        run.fail(w.ref, SyncError(f"not created: {run.dropped_client_id} lost its "
                                  "client id on the server (see 'fieldkit sync check')",
                                  kind="config"))


def _wait_for_interrupted(run: SyncRun, young: list[Work]) -> dict[str, RemoteTicket]:
    """Wait until an interrupted sync's creates can no longer be running in the server: the
    attempt is older than the grace time, and searching again finds nothing new (a server
    slower than the grace time is still creating one ticket after another)."""
    if any(w.attempt_age(CREATED) < run.grace_s for w in young):
        run.wait_out(young, (CREATED,), "creating")
    run.wait_in_flight("creating")
    ids = [w.ticket.id for w in young]
    found = run.backend.find_by_client_ids(ids)
    for _round in range(60):  # bounded: a server still creating after ~10 minutes is not ours
        if len(found) == len(ids):
            break
        run.sleep(run.quiet_s)
        again = run.backend.find_by_client_ids(ids)
        if len(again) == len(found):
            break  # nothing new for a while: what is missing was never created
        found = again
    run.seen.update((remote.id, remote) for remote in found.values())
    return found


def _watch_unanswered(run: SyncRun, work: dict[str, Work]) -> None:
    """Remember creates an earlier run sent without an answer: a copy of such a request may
    reach the server at any later time (held on the way), and lose its client id there."""
    for w in work.values():
        stamps = [e["attempted_at"] for e in w.of(CREATED) if e.get("attempted")
                  and e.get("attempted_at") and not e.get("answered")]
        if stamps and w.ticket.id not in run.watch:
            run.watch[w.ticket.id] = {"ref": w.ref, "since": min(stamps)}


def _find_by_marker(run: SyncRun, missing: list[Work]) -> dict[str, RemoteTicket]:
    """Tickets not found by client id, looked for by the marker in their first message; one
    found is adopted and given its client id again (RT dropped it, or someone edited it)."""
    find = getattr(run.backend, "find_by_marker", None)
    if find is None:
        return {}
    since = _earlier(min(w.ticket.created_at for w in missing), 86400)
    hits = find([w.ticket.id for w in missing], since)
    adopted = {w.ticket.id: (w, hits[w.ticket.id][0]) for w in missing if hits.get(w.ticket.id)}
    if not adopted:
        return {}
    updates = [Update(remote.id, w.ticket, frozenset({"client_id"}))
               for w, remote in adopted.values()]
    for (w, remote), outcome in zip(adopted.values(), run.backend.update_many(updates),
                                    strict=True):
        run.notice(f"{w.ref} is {run.backend.label} ticket #{remote.id} (found by its "
                   "marker: its client id was missing there)")
        if outcome is not None:
            run.fail(w.ref, outcome)
    run.seen.update((remote.id, remote) for _w, remote in adopted.values())
    return {cid: remote for cid, (_w, remote) in adopted.items()}


def _merge_copies(run: SyncRun, work: dict[str, Work]) -> None:
    """Merge every copy of a watched create that reached the server late (found by the marker
    in its first message) into the one that kept the client id, or else the one linked here;
    a ticket linked to a copy that lost the id is linked to the keeper. A copy that cannot be
    merged fails its ticket, naming the copy."""
    find = getattr(run.backend, "find_by_marker", None)
    merge_into = getattr(run.backend, "merge_into", None)
    if find is None or merge_into is None or not run.watch:
        return
    since = _earlier(min(item["since"] for item in run.watch.values()), 600)
    pairs: list[tuple[str, str, str]] = []
    for cid, remotes in find(list(run.watch), since, copies_only=True).items():
        ref = run.watch[cid]["ref"]
        try:
            linked = run.store.get(ref).remote.id
        except FieldkitError:
            continue
        keeper = next((r for r in remotes if r.client_id == cid), None) or \
            next((r for r in remotes if r.id == linked), None)
        if keeper is None:
            continue
        if linked and keeper.id != linked:
            _relink(run, work, ref, keeper, linked)
        pairs += [(r.id, keeper.id, ref) for r in remotes if r.id != keeper.id]
    if not pairs:
        return
    outcomes = merge_into([(copy, into) for copy, into, _ref in pairs])
    for (copy, into, ref), outcome in zip(pairs, outcomes, strict=True):
        label = run.backend.label
        if outcome is None:
            run.report.merged.append({"ref": ref, "copy": copy, "into": into})
            run.notice(f"merged {label} ticket #{copy} into #{into}: a delayed copy of "
                       f"{ref}'s create without its client id")
        else:
            run.fail(ref, SyncError(f"{label} ticket #{copy} is a delayed copy of {ref} "
                                    f"(#{into}) without its client id; merging it failed: "
                                    f"{outcome}", kind="duplicate"))


def _relink(run: SyncRun, work: dict[str, Work], ref: str, keeper: RemoteTicket,
            linked: str) -> None:
    """Link a ticket to the server's copy that kept its client id (the one linked here lost
    it to a delayed copy that arrived first); that releases a hold."""
    def relink(t: Ticket) -> None:
        t.remote.id, t.remote.url, t.remote.held = keeper.id, keeper.url, None
        t.log("sync", f"linked to {run.backend.label} ticket #{keeper.id}, which kept the "
                      f"client id; #{linked} is merged into it", remote_id=keeper.id)

    w = work.get(ref)
    done = {e["event_id"] for e in w.of(CREATED)} if w else set()
    run.settle({ref: Settlement(done=done, update=relink)})
    if w:
        relink(w.ticket)
        w.entries = [e for e in w.entries if e["kind"] != CREATED]


def _earlier(stamp: str, seconds: float) -> str:
    """An ISO time ``seconds`` before ``stamp`` (margin for the server's clock)."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(seconds=seconds)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _create_batch(run: SyncRun, batch: list[Work]) -> None:
    """Create, record at once, confirm."""
    sent = {w.ref: {e["event_id"] for e in w.of(CREATED)} for w in batch}
    run.settle({ref: Settlement(attempted=ids) for ref, ids in sent.items()})
    try:
        made = run.backend.create_many([w.ticket for w in batch])
    except SyncError as exc:
        run.answered(sent, exc)
        for w in batch:
            run.fail(w.ref, exc)
        return
    created = [(w, out) for w, out in zip(batch, made, strict=True)
               if isinstance(out, RemoteTicket)]
    run.created.update(w.ref for w, _remote in created)
    # the remote id is on disk before anything else happens: a crash now cannot orphan it.
    # (An item that failed because the request broke off mid-way got no answer of its own.)
    # the baseline is what was created: a status RT refuses at creation is pushed right after
    links = {w.ref: _linker(remote, run.backend.label, _baseline(run, w.ticket, remote))
             for w, remote in created}
    run.settle({w.ref: Settlement(update=links.get(w.ref), answered=sent[w.ref])
                for w, out in zip(batch, made, strict=True)
                if not (isinstance(out, SyncError) and out.unanswered)})
    for w, out in zip(batch, made, strict=True):
        if isinstance(out, SyncError):
            run.fail(w.ref, out)  # a fatal one stops the run only now
    _confirm_created(run, created)


def _confirm_created(run: SyncRun, created: list[tuple[Work, RemoteTicket]]) -> None:
    """Re-read: did each client id stick? Link those; hold the others."""
    if not created:
        return
    confirmed = run.backend.get_many([remote.id for _w, remote in created])
    run.seen.update(confirmed)
    all_stuck = True
    for w, remote in created:
        server = confirmed.get(remote.id)
        if server is None:
            run.fail(w.ref, SyncError(f"{run.backend.label} ticket #{remote.id} cannot "
                                      "be read back to confirm it; checked again next sync",
                                      kind="denied"))
            continue
        if server.client_id == w.ticket.id:
            continue
        all_stuck = False
        run.dropped_client_id = run.dropped_client_id or w.ref
        reason = (f"{run.backend.label} ticket #{remote.id} did not keep {w.ref}'s client id "
                  f"(queue {server.queue or '?'}): the sync user needs the rights to see and "
                  "set the FieldkitID custom field there; the ticket is held, nothing more "
                  "is created ('fieldkit sync check' tells more)")
        run.settle({w.ref: Settlement(update=_holder(reason))})
        run.fail(w.ref, SyncError(reason, kind="config"))
    if all_stuck and created:
        run.verified_queues.add(run.backend.queue)
    _link(run, [(w, confirmed[r.id], w.ticket.status) for w, r in created
                if w.ref not in run.failures and r.id in confirmed])


def _link(run: SyncRun, found: list[tuple[Work, RemoteTicket, str]]) -> None:
    """Record the remote ticket (and the agreed local status) and confirm 'created'."""
    if not found:
        return
    run.settle({w.ref: Settlement(done={e["event_id"] for e in w.of(CREATED)},
                                  update=_linker(remote, run.backend.label, agreed))
                for w, remote, agreed in found})
    for w, remote, _agreed in found:
        w.ticket.remote.id, w.ticket.remote.url = remote.id, remote.url
        w.entries = [e for e in w.entries if e["kind"] != CREATED]


def _baseline(run: SyncRun, ticket: Ticket, server: RemoteTicket) -> str:
    """The local status a found (not just created) remote ticket corresponds to."""
    return merge.baseline_local(ticket.status, server.status, run.backend.to_remote_status,
                                run.backend.to_local_status)


def _retag_held(run: SyncRun, work: dict[str, Work]) -> None:
    """Try again to give held tickets their client id; success releases them."""
    held = [w for w in work.values() if w.remote_id and w.ticket.remote.held]
    if not held:
        return
    updates = [Update(w.remote_id or "", w.ticket, frozenset({"client_id"})) for w in held]
    for w, outcome in zip(held, run.backend.update_many(updates), strict=True):
        if outcome is None:
            run.settle({w.ref: Settlement(done={e["event_id"] for e in w.of(CREATED)},
                                          update=_holder(None))})
            w.ticket.remote.held = None
            w.entries = [e for e in w.entries if e["kind"] != CREATED]
        else:
            run.dropped_client_id = run.dropped_client_id or w.ref
            run.fail(w.ref, SyncError(w.ticket.remote.held or "", kind="config"))


def _linker(remote: RemoteTicket, label: str, agreed_local: str) -> Callable[[Ticket], None]:
    def link(t: Ticket) -> None:
        if not t.remote.id:  # the first link sets the baselines of the status merge
            t.remote.status, t.remote.agreed_local = remote.status, agreed_local
            t.log("sync", f"linked to {label} ticket #{remote.id}", remote_id=remote.id)
        t.remote.id, t.remote.url, t.remote.system = remote.id, remote.url, label
        t.remote.synced_at = utc_now()
        if remote.owner:
            t.remote.owner = remote.owner

    return link


def _holder(reason: str | None) -> Callable[[Ticket], None]:
    def hold(t: Ticket) -> None:
        if reason is None:
            t.remote.held = None
            t.log("sync", "client id set on the server: the ticket syncs again")
        else:
            t.remote.held = reason
            t.log("sync", f"held: {reason}")

    return hold
