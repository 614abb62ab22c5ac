"""Phases 2 and 3 of a sync: settle what an interrupted run may have posted, then post.

Notes, escalation reasons, solutions, detail changes and diagnostic runs are each stamped
*attempted* before they are sent and leave the outbox only once the server confirmed them. An
answer that is lost or unclear is settled by asking the server which event ids arrived, never by
sending again blindly; a batch that fails as a whole is retried ticket by ticket, so one bad
ticket fails alone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fieldkit.errors import FieldkitError
from fieldkit.sync.backend import Post, SyncError
from fieldkit.sync.notes import post_for
from fieldkit.sync.run import SyncRun, Work
from fieldkit.tickets.model import NOTE_KINDS, SOLUTION, STATUS
from fieldkit.tickets.store import Settlement

Entry = dict[str, Any]


def check_attempted(run: SyncRun, work: dict[str, Work]) -> None:
    """Settle the posts an interrupted run sent. A bulk comment the server was still working
    through when that run gave up may land later: recent ones are first waited out, like
    interrupted creates, and checked again while more of them keep arriving."""
    unsure = [w for w in run.live(work)
              if any(e.get("attempted") for e in w.of(*NOTE_KINDS))]
    young = [w for w in unsure if w.attempt_age(*NOTE_KINDS) < run.grace_s]
    if young:
        run.wait_out(young, NOTE_KINDS, "adding notes to")
    if unsure:
        run.wait_in_flight("adding notes to")
    confirm_posted(run, unsure)
    for _round in range(60):
        still = [w for w in young if w.ref not in run.failures
                 and any(e.get("attempted") for e in w.of(*NOTE_KINDS))]
        if not still:
            return
        before = sum(len(w.entries) for w in still)
        run.sleep(run.quiet_s)
        confirm_posted(run, still)
        if sum(len(w.entries) for w in still) == before:
            return  # nothing new arrived: what is missing was never posted


def check_unsent(run: SyncRun, work: dict[str, Work]) -> None:
    """Ask the server, in one search per hundred, whether posts never marked as sent are there
    anyway: a store restored from a backup forgot what it posted. Tickets created in this run
    cannot have any, so a first sync costs nothing more."""
    find = getattr(run.backend, "find_posted", None)
    unsent = {e["event_id"]: w for w in run.live(work) if w.ref not in run.created
              for e in w.of(*NOTE_KINDS) if not e.get("attempted")}
    if find is None or not unsent:
        return
    try:
        there = find(list(unsent))
    except SyncError as exc:
        for w in {id(w): w for w in unsent.values()}.values():
            run.fail(w.ref, exc)
        return
    done: dict[str, set[str]] = {}
    for event_id in there:
        w = unsent[event_id]
        done.setdefault(w.ref, set()).add(event_id)
        w.entries = [e for e in w.entries if e["event_id"] != event_id]
    run.settle({ref: Settlement(done=ids) for ref, ids in done.items()})
    run.restored_store(sorted(done), "notes")


def confirm_posted(run: SyncRun, tickets: list[Work],
                   only: dict[str, set[str]] | None = None) -> None:
    """Ask the server which posts arrived; mark those done (``only``: these event ids)."""
    def ask(w: Work) -> tuple[Work, set[str] | SyncError]:
        try:
            return w, run.backend.posted_event_ids(w.remote_id or "")
        except SyncError as exc:
            return w, exc

    with ThreadPoolExecutor(max_workers=run.max_workers) as pool:
        answers = list(pool.map(ask, tickets))
    done: dict[str, Settlement] = {}
    for w, seen in answers:
        if isinstance(seen, SyncError):
            run.fail(w.ref, seen)
            continue
        wanted = only.get(w.ref, set()) if only is not None else None
        arrived = {e["event_id"] for e in w.of(*NOTE_KINDS) if e["event_id"] in seen
                   and (wanted is None or e["event_id"] in wanted)}
        if arrived:
            done[w.ref] = Settlement(done=arrived)
            w.entries = [e for e in w.entries if e["event_id"] not in arrived]
            run.updated.add(w.ref)
    run.settle(done)


def post_notes(run: SyncRun, work: dict[str, Work]) -> list[tuple[Work, Entry]]:
    """Post what is pending; a solution whose status change is still to be sent waits for it
    (returned): while the status may end in a conflict, RT must not read "Resolved:"."""
    waiting = [(w, e) for w in run.live(work) if w.of(STATUS) for e in w.of(SOLUTION)]
    later = {e["event_id"] for _w, e in waiting}
    _send(run, [(w, e) for w in run.live(work) for e in w.of(*NOTE_KINDS)
                if e["event_id"] not in later])
    return waiting


def post_solutions(run: SyncRun, waiting: list[tuple[Work, Entry]]) -> None:
    """After the merge: the solutions of tickets whose status went through without a conflict."""
    _send(run, [(w, e) for w, e in waiting if w.ref not in run.failures
                and not w.of(STATUS)])


def _send(run: SyncRun, todo: list[tuple[Work, Entry]]) -> None:
    posts: list[tuple[Work, Entry, Post]] = []
    gone: dict[str, set[str]] = {}
    for w, entry in todo:
        try:
            post = post_for(run.store, w.ticket, w.remote_id or "", entry)
        except FieldkitError as exc:  # an attached file missing from the store: that one
            run.fail_entry(w.ref, SyncError(str(exc), kind="local"))
            continue
        if post is None:  # the note it names is gone: nothing to send
            gone.setdefault(w.ref, set()).add(entry["event_id"])
        else:
            posts.append((w, entry, post))
    run.settle({ref: Settlement(done=ids) for ref, ids in gone.items()})
    posts = [item for item in posts if item[0].ref not in run.failures]
    if not posts:
        return
    by_ref: dict[str, set[str]] = {}
    for w, entry, _post in posts:
        by_ref.setdefault(w.ref, set()).add(entry["event_id"])
    run.settle({ref: Settlement(attempted=ids) for ref, ids in by_ref.items()})
    try:
        outcomes = run.backend.post_many([post for _w, _e, post in posts])
    except SyncError as exc:
        run.answered(by_ref, exc)
        if exc.fatal:
            raise
        run.notice(f"the batch of notes failed ({exc}); checking and sending per ticket")
        _post_per_ticket(run, posts)
        return
    _settle_posts(run, posts, outcomes)


def _settle_posts(run: SyncRun, posts: list[tuple[Work, Entry, Post]],
                  outcomes: list[SyncError | None]) -> None:
    """Record what the server said of each post (it answered: nothing of it is in flight)."""
    done: dict[str, set[str]] = {}
    unsure: dict[str, set[str]] = {}
    sent: dict[str, set[str]] = {}
    for w, entry, _post in posts:
        sent.setdefault(w.ref, set()).add(entry["event_id"])
    files = {entry["event_id"]: post.attachment.filename for _w, entry, post in posts
             if post.attachment is not None}
    reasons: dict[str, SyncError] = {}
    for (w, entry, _post), outcome in zip(posts, outcomes, strict=True):
        if outcome is None:
            done.setdefault(w.ref, set()).add(entry["event_id"])
            run.updated.add(w.ref)
        elif outcome.uncertain:
            unsure.setdefault(w.ref, set()).add(entry["event_id"])
            reasons[entry["event_id"]] = outcome
        elif entry["event_id"] in files:  # a refused file fails itself, not its ticket
            run.fail_entry(w.ref, outcome)
        else:
            run.fail(w.ref, outcome)
    run.settle({ref: Settlement(done=done.get(ref, set()), answered=ids)
                for ref, ids in sent.items()})
    if unsure:
        tickets = {w.ref: w for w, _e, _p in posts if w.ref in unsure}
        confirm_posted(run, list(tickets.values()), only=unsure)
        for ref, ids in unsure.items():
            missing = [e["event_id"] for e in tickets[ref].entries if e["event_id"] in ids]
            for event_id in (i for i in missing if i in files):
                run.fail_entry(ref, SyncError(
                    f"{reasons[event_id]}; {files[event_id]!r} is not there, it is sent again "
                    "next sync", kind="uncertain"))
            if any(i not in files for i in missing):
                run.fail(ref, SyncError("the server's answer to a note was unclear and the "
                                        "note is not there; it is sent again next sync",
                                        kind="uncertain"))


def _post_per_ticket(run: SyncRun, posts: list[tuple[Work, Entry, Post]]) -> None:
    tickets = {w.ref: w for w, _e, _p in posts}
    confirm_posted(run, list(tickets.values()))
    for ref, w in tickets.items():
        if ref in run.failures:
            continue
        left = {e["event_id"] for e in w.entries}
        mine = [item for item in posts if item[0].ref == ref and item[1]["event_id"] in left]
        if not mine:
            continue
        sent = {ref: {e["event_id"] for _w, e, _p in mine}}
        run.settle({ref: Settlement(attempted=sent[ref])})
        try:
            outcomes = run.backend.post_many([post for _w, _e, post in mine])
        except SyncError as exc:
            run.answered(sent, exc)
            run.fail(ref, exc)
            continue
        _settle_posts(run, mine, outcomes)
