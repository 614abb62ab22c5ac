"""Compare-and-set on RT's status, from RT's own transaction order.

RT has no conditional bulk update: ``PUT /tickets/bulk`` sets a status whatever the ticket holds
when the request arrives. A request that is slow on its way (a VPN, a busy server) can therefore
land after 2nd level changed the status, and the re-read would find exactly what fieldkit sent.
RT's history does not lie about the order, though: every status change is a transaction with
its old and new value, and transaction ids only grow. So the backend notes the newest
transaction of the tickets before it writes (the *mark*), and after the write reads their status
transactions since the mark. The write was clean only if the ticket went exactly from the status
the merge saw to the one fieldkit sent; anything else is someone else's change in between:

- it landed before fieldkit's (fieldkit's write overwrote it): the other status is put back;
- it landed after: RT already holds it.

Either way the engine gets a :class:`~fieldkit.sync.backend.StatusConflict` with RT's value.
Two searches per sync that sends a status, however many tickets; one more update (and its
re-read) only when something had to be put back.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.sync.backend import StatusConflict, SyncError, Update
from fieldkit.sync.rt.client import RTClient
from fieldkit.sync.rt.wire import RTSide

STATUS_FIELDS = "ObjectId,OldValue,NewValue,Creator"


@dataclass(frozen=True)
class Change:
    """One status transaction: who moved the ticket from ``old`` to ``new``."""

    id: int
    old: str
    new: str
    by: str


def mark(http: RTClient, remote_ids: list[str]) -> int:
    """The newest transaction id on these tickets now (0: none)."""
    data = http.call("POST", "/transactions", "reading RT's history before a status change",
                     idempotent=True, data={"query": f"ObjectType = 'RT::Ticket' AND "
                                                     f"({_ids(remote_ids)})",
                                            "fields": "id", "orderby": "id", "order": "DESC",
                                            "per_page": "1", "page": "1"})
    items = data.get("items", []) if isinstance(data, dict) else []
    return int(items[0]["id"]) if items else 0


def races(http: RTClient, updates: list[Update], now: dict[str, str],
          since: int) -> dict[str, Race]:
    """The status updates (sent after ``since``) that met another change, by remote id;
    ``now`` is each ticket's status as re-read after the write."""
    sent = [u for u in updates if u.status and u.expect is not None]
    if not sent:
        return {}
    changes = _changes(http, [u.remote_id for u in sent], since)
    suspect = [u for u in sent if [(c.old, c.new) for c in changes.get(u.remote_id, [])]
               not in ([], [(u.expect, u.status)])]
    if not suspect:
        return {}
    mine = {c.id for found in _changes(http, [u.remote_id for u in suspect], since,
                                       mine=True).values() for c in found}
    found: dict[str, Race] = {}
    for u in suspect:
        race = judge(u, changes.get(u.remote_id, []), now.get(u.remote_id, ""), mine)
        if race is not None:
            found[u.remote_id] = race
    return found


@dataclass(frozen=True)
class Race:
    """What RT's history says about one status update that did not go cleanly."""

    other: Change | None  # the change someone else made in between, if RT shows it
    restore: str | None  # the status to put back (fieldkit's write landed last), or None
    now: str  # RT's status after fieldkit's write
    written: int = 0  # the id of fieldkit's write that overwrote ``other`` (with a restore)


def judge(update: Update, changes: list[Change], now: str, mine: set[int]) -> Race | None:
    """None when fieldkit's write did not overwrite anyone and nobody changed it since.

    ``mine``: the ids of the transactions fieldkit's user made. RT holding another status than
    the one sent is someone's later change (a refusal leaves no transaction: that is the
    re-read's business). RT holding fieldkit's status: if fieldkit's own transaction started
    from another status than the merge saw, it overwrote that status, which goes back.
    """
    others = [c for c in changes if c.id not in mine]
    if not changes:
        return None
    if now != update.status:
        return Race(others[-1] if others else None, None, now)
    ours = [c for c in changes if c.id in mine and c.new == update.status]
    if not ours or ours[-1].old == update.expect:
        return None  # someone else set the same status (no write of ours), or ours was clean
    final = ours[-1]
    before = [c for c in others if c.id < final.id]
    return Race(before[-1] if before else None, final.old, now, final.id)


def put_back(backend: RTSide, races: dict[str, Race]) -> tuple[set[str], set[str]]:
    """Undo fieldkit's status writes that overwrote someone else's: the ids it worked for, and
    those where the put-back (unconditional, as any bulk PUT) met a third change. RT's history
    tells: after fieldkit's write, only the put-back itself may be there."""
    back = {rid: race.restore for rid, race in races.items() if race.restore}
    if not back:
        return set(), set()
    backend.http.call("PUT", "/tickets/bulk", "putting back a status changed in RT",
                      json=[{"id": rid, "Status": status} for rid, status in back.items()])
    now = backend.get_many(list(back))
    after = _changes(backend.http, list(back), min(races[rid].written for rid in back))
    overwrote = {rid for rid in back if [c.new for c in after.get(rid, [])
                                         if c.id > races[rid].written] not in ([], [back[rid]])}
    return {rid for rid, status in back.items() if rid in now and now[rid].status == status
            and rid not in overwrote}, overwrote


def check_written(backend: RTSide, update: Update, now: str,
                  since: int) -> StatusConflict | None:
    """A status write an earlier run could not check (the history read or the put-back after
    it failed, or the run died): judged from RT's history since the mark stored before it, as
    if the check had run then. Re-sending it would see only fieldkit's own value and call it
    clean."""
    found = races(backend.http, [update], {update.remote_id: now}, since)
    race = found.get(update.remote_id)
    if race is None:
        return None
    restored, overwrote = put_back(backend, found)
    back = update.remote_id in restored
    return StatusConflict(restore_text(race, update, back, update.remote_id in overwrote),
                          remote=race.restore if race.restore and (
                              back or update.remote_id in overwrote) else race.now)


def unchecked(update: Update, exc: SyncError) -> SyncError:
    """The outcome of an update sent but not checked: uncertain, judged next sync."""
    return SyncError(f"RT ticket #{update.remote_id} was updated but its history could not be "
                     f"checked ({exc}); the next sync checks it", kind="uncertain",
                     uncertain=True)


def restore_text(race: Race, update: Update, restored: bool, overwrote: bool = False) -> str:
    who = f" by {race.other.by}" if race.other and race.other.by else ""
    changed = race.restore or race.now
    base = (f"RT ticket #{update.remote_id}'s status was changed to {changed}{who} while "
            f"fieldkit's update to {update.status} was on its way")
    if race.restore is None:
        return base
    if overwrote:
        return (f"{base}; putting {race.restore} back met another change in RT: check the "
                "ticket's history there and set its status by hand")
    if restored:
        return f"{base}; fieldkit's change was undone, {race.restore} is back"
    return f"{base}; putting {race.restore} back failed: set it in RT by hand"


def _changes(http: RTClient, remote_ids: list[str], since: int, *,
             mine: bool = False) -> dict[str, list[Change]]:
    """Status transactions on these tickets after ``since``, oldest first, per ticket."""
    found: dict[str, list[Change]] = {}
    who = " AND Creator = '__CurrentUser__'" if mine else ""
    page = 1
    while True:
        data = http.call("POST", "/transactions", "reading RT's history after a status change",
                         idempotent=True, data={
                             "query": f"ObjectType = 'RT::Ticket' AND Type = 'Status' AND "
                                      f"id > {int(since)}{who} AND ({_ids(remote_ids)})",
                             "fields": STATUS_FIELDS, "orderby": "id", "order": "ASC",
                             "per_page": "100", "page": str(page)})
        items = data.get("items", []) if isinstance(data, dict) else []
        for item in items:
            creator = item.get("Creator") or {}
            found.setdefault(str(item.get("ObjectId")), []).append(Change(
                int(item["id"]), str(item.get("OldValue") or ""), str(item.get("NewValue") or ""),
                creator.get("id", "") if isinstance(creator, dict) else str(creator)))
        if len(items) < 100:
            return found
        page += 1


def _ids(remote_ids: list[str]) -> str:
    return " OR ".join(f"ObjectId = {int(i)}" for i in remote_ids)
