"""Upgrades of the store's on-disk layout; ``MIGRATIONS[n]`` turns schema n into n + 1.

They run under the store's lock before the first write of a newer fieldkit, and each rewrites a
shard in one atomic replace, so a crash leaves every shard either old or new, and the schema
version in meta.json is bumped only after all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fieldkit.tickets.model import (
    DETAILS,
    ESCALATION_NOTE,
    FIELDS,
    REMOTE_FIELDS,
    SOLUTION,
    STATUS,
)

if TYPE_CHECKING:
    from fieldkit.tickets.shards import ShardSets


def one_entry_per_remote_effect(store: ShardSets) -> None:
    """Schema 1 -> 2: split the combined outbox entries of schema 1.

    Schema 1 had one ``escalated`` entry for a note *and* a level change (a refused level change
    was never retried), ``edited`` for fields, details and status at once, and a ``status`` entry
    that carried the solution on both resolve and close (posted twice). An entry that was already
    attempted keeps its event id on the part that was posted first (the note), so the server's
    copy is still recognised.
    """
    for shard in store.hot.numbers():
        with store.hot.open(shard) as db:
            outbox = db.table("outbox")
            old = [dict(doc) for doc in outbox.all()]
            if not any(doc["kind"] in ("escalated", "edited") or
                       (doc["kind"] == STATUS and "solution" in doc["payload"]) for doc in old):
                continue
            outbox.truncate()
            outbox.insert_multiple(part for doc in old for part in _split(doc))


def _split(doc: dict[str, Any]) -> list[dict[str, Any]]:
    kind, payload = doc["kind"], doc.get("payload", {})

    def part(new_kind: str, new_payload: dict[str, Any], keep_id: bool = False) -> dict[str, Any]:
        entry = {**doc, "kind": new_kind, "payload": new_payload}
        if not keep_id:
            entry["event_id"] = str(uuid.uuid4())
            entry.pop("attempted", None)
            entry.pop("attempted_at", None)
        return entry

    if kind == "escalated":
        return [part(ESCALATION_NOTE, payload, keep_id=True), part(FIELDS, {"fields": ["level"]})]
    if kind == "edited":
        changes = payload.get("changes", {})
        parts = []
        remote = sorted({REMOTE_FIELDS[n] for n in changes if n in REMOTE_FIELDS})
        if remote:
            parts.append(part(FIELDS, {"fields": remote}))
        details = {n: v for n, v in changes.items() if n not in REMOTE_FIELDS and n != "status"}
        if details:
            parts.append(part(DETAILS, {"changes": details}, keep_id=True))
        if "status" in changes:
            parts.append(part(STATUS, {"status": changes["status"]}))
        return parts
    if kind == STATUS and "solution" in payload:
        status = part(STATUS, {"status": payload.get("status")}, keep_id=True)
        if payload.get("status") == "resolved" and payload.get("solution"):
            return [part(SOLUTION, {"text": payload["solution"]}, keep_id=True),
                    {**status, "event_id": str(uuid.uuid4())}]
        return [status]
    return [doc]


MIGRATIONS: dict[int, Callable[[ShardSets], None]] = {1: one_entry_per_remote_effect}
