"""Finding fieldkit's own traces in RT when the store's bookkeeping cannot be trusted.

A request delayed past every timeout, or a store restored from a backup, leaves RT holding
things fieldkit does not know it sent. These searches find them by what RT never drops: a
note's event id in its subject, a ticket's own marker in its first message. Each is one or
a few requests for a whole batch (REST2's JSON queries on attachments and transactions), so
the engine only runs them when something is in doubt.
"""

from __future__ import annotations

from typing import Any

from fieldkit.sync.backend import RemoteTicket, SyncError
from fieldkit.sync.rt.client import RTClient
from fieldkit.sync.rt.wire import EVENT_RE, SEARCH_IDS, RTSide


def find_posted(backend: RTSide, event_ids: list[str]) -> set[str]:
    """Which of these event ids RT already has in a note's subject, on any ticket: one
    search per ``SEARCH_IDS`` ids however many tickets they belong to (a store restored
    from a backup no longer knows what it posted)."""
    seen: set[str] = set()
    for start in range(0, len(event_ids), SEARCH_IDS):
        query = [{"field": "Subject", "operator": "LIKE", "value": f"fieldkit {e}",
                  "entry_aggregator": "OR"} for e in event_ids[start:start + SEARCH_IDS]]
        for item in search_json(backend.http, "/attachments", query, "Subject",
                                "checking RT for notes already posted"):
            seen.update(EVENT_RE.findall(item.get("Subject") or ""))
    return seen & set(event_ids)


def find_by_marker(backend: RTSide, client_ids: list[str], since: str,
                   copies_only: bool = False) -> dict[str, list[RemoteTicket]]:
    """Live tickets created since ``since`` (ISO) whose first message names one of these
    client ids ("Captured offline with fieldkit as FK-n (<id>)"): RT keeps a create's
    message even when its unique FieldkitID silently drops a second value, or someone
    edited the field. Three requests, whatever the number of tickets; one when
    ``copies_only`` and no ticket has more than one (then: nothing found)."""
    after = since.replace("T", " ").replace("Z", "")[:19]
    by_txn: dict[str, set[str]] = {}
    for start in range(0, len(client_ids), SEARCH_IDS):
        chunk = client_ids[start:start + SEARCH_IDS]
        query = [{"field": "Content", "operator": "LIKE", "value": f"({c}) at ",
                  "entry_aggregator": "OR"} for c in chunk]
        query.append({"field": "Created", "operator": ">=", "value": after})
        for item in search_json(backend.http, "/attachments", query, "Content,TransactionId",
                                "searching RT for fieldkit's own tickets"):
            text, txn = item.get("Content") or "", item.get("TransactionId")
            txn = txn.get("id") if isinstance(txn, dict) else txn
            for c in chunk:
                if "with fieldkit as " in text and f"({c}) at " in text:
                    by_txn.setdefault(str(txn), set()).add(c)
    per_id: dict[str, int] = {}
    for names in by_txn.values():
        for c in names:
            per_id[c] = per_id.get(c, 0) + 1
    if not by_txn or (copies_only and max(per_id.values()) < 2):
        return {}
    tickets: dict[str, set[str]] = {}
    txns = list(by_txn)
    for start in range(0, len(txns), SEARCH_IDS):
        query = [{"field": "id", "operator": "=", "value": t, "entry_aggregator": "OR"}
                 for t in txns[start:start + SEARCH_IDS]]
        for item in search_json(backend.http, "/transactions", query,
                                "ObjectId,ObjectType,Type",
                                "reading the transactions of fieldkit's tickets"):
            if item.get("ObjectType") == "RT::Ticket" and item.get("Type") == "Create":
                tickets.setdefault(str(item["ObjectId"]), set()).update(
                    by_txn.get(str(item["id"]), set()))
    live = backend.get_many(list(tickets))  # a merged ticket reads back as its target
    found: dict[str, list[RemoteTicket]] = {}
    for rid in sorted(tickets, key=int):
        if rid in live:
            for c in tickets[rid]:
                found.setdefault(c, []).append(live[rid])
    return found


def merge_into(backend: RTSide, pairs: list[tuple[str, str]]) -> list[SyncError | None]:
    """Merge each (copy, original) pair in RT, per item in order, confirmed by a re-read:
    a merged ticket no longer reads back under its own id."""
    if not pairs:
        return []
    said: dict[str, list[str]] = {}
    answer = backend.http.call("PUT", "/tickets/bulk", "merging duplicate tickets",
                               json=[{"id": copy, "MergeInto": into} for copy, into in pairs])
    for item in answer if isinstance(answer, list) else []:
        if isinstance(item, list) and item:
            said[str(item[0])] = [str(m) for m in item[1:]]
    left = backend.get_many([copy for copy, _into in pairs])
    return [SyncError(f"RT did not merge ticket #{copy} into #{into} ("
                      f"{'; '.join(said.get(copy, [])) or 'no reason given'})",
                      kind="rejected") if copy in left else None
            for copy, into in pairs]


def search_json(http: RTClient, path: str, query: list[dict[str, Any]], fields: str,
                doing: str) -> list[dict[str, Any]]:
    """Every record of a REST2 collection matching a JSON query (all pages)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data = http.call("POST", path, doing, idempotent=True, json=query,
                         params={"fields": fields, "per_page": 100, "page": page})
        batch = data.get("items", []) if isinstance(data, dict) else []
        items += batch
        if len(batch) < 100:
            return items
        page += 1
