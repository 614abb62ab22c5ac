"""RT's REST 2.0 vocabulary as fieldkit uses it: statuses, fields, limits, and reading answers.

Shared by the backend and its helpers (``check``, ``find``, ``status``, ``files``), so none of them
imports another for a constant. :class:`RTSide` is what the helpers need of the backend.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Protocol

from fieldkit.sync.backend import RemoteTicket, SyncError
from fieldkit.sync.rt.client import RTClient
from fieldkit.tickets.model import Ticket

STATUS_TO_RT = {"new": "new", "in_progress": "open", "pending": "stalled",
                "resolved": "resolved", "closed": "resolved"}
# RT statuses without a fieldkit equivalent (rejected, deleted, custom ones) map to None
STATUS_FROM_RT = {"new": "new", "open": "in_progress", "stalled": "pending",
                  "resolved": "resolved"}
# RT's default lifecycle refuses "stalled" for a new ticket: create it open, the merge of the
# same sync sets stalled
CREATE_STATUS = {"stalled": "open"}
# fieldkit priority 1 (critical) .. 5 (planning) -> RT's numeric 0..100 (High=100, Low=0)
PRIORITY_TO_RT = {1: 90, 2: 70, 3: 50, 4: 30, 5: 10}
DEFAULT_CUSTOM_FIELDS = {"category": "Category", "site": "Site", "level": "SupportLevel"}
CLIENT_ID_FIELD = "FieldkitID"
EVENT_RE = re.compile(r"\[fieldkit ([0-9a-f-]{36})\]")
READ_FIELDS = "Status,Owner,Queue,Subject,Priority,CustomFields"
POSTED = ("Comments added", "Correspondence added")
REFUSED = ("Permission Denied", "Resource does not exist", "could not be recorded",
           "is a required field")
ENV_TOKEN = "FIELDKIT_SYNC_TOKEN"
ENV_PASSWORD = "FIELDKIT_SYNC_PASSWORD"
MAX_ITEMS = 100  # per bulk create or update, and per search page (RT's page size)
MAX_COMMENTS = 250  # per bulk comment: ~7 s of RT's work (cheaper per item than a create)
MAX_BYTES = 16 << 20
SEARCH_IDS = 100  # client ids per search (one page of results)


class RTSide(Protocol):
    """What the helper modules use of the RT backend (``backend.RTBackend``)."""

    http: RTClient
    queue: str
    custom_fields: dict[str, str]
    escalation_queues: dict[int, str]
    have_credentials: bool

    def get_many(self, remote_ids: list[str]) -> dict[str, RemoteTicket]: ...


def comment_outcome(item: Any) -> SyncError | None:
    messages = [str(m) for m in item[1:]] if isinstance(item, list) else [str(item)]
    if messages and messages[0] in POSTED:
        return None
    text = "; ".join(messages) or "no answer"
    if any(refused in m for m in messages for refused in REFUSED):
        return SyncError(f"RT refused a note: {text}", kind="denied")
    return SyncError(f"RT's answer to a note is unclear: {text}", kind="unclear", uncertain=True)


def mismatches(body: dict[str, Any], remote: RemoteTicket | None) -> list[str]:
    if remote is None:
        return []
    held, wrong = remote.values, list[str]()
    for key in ("Subject", "Status", "Queue"):
        if key in body and held.get(key) != body[key]:
            wrong.append(key)
    if "Priority" in body and str(held.get("Priority")) != str(body["Priority"]):
        wrong.append("Priority")
    for name, value in body.get("CustomFields", {}).items():
        if name in held["CustomFields"] and held["CustomFields"][name] != value:
            wrong.append(name)  # a field the ticket's (new) queue does not have cannot hold one
    return wrong


def chunks(bodies: list[dict[str, Any]],
            most: int = MAX_ITEMS) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 0
    for body in bodies:
        length = len(json.dumps(body))
        if chunk and (len(chunk) >= most or size + length > MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(body)
        size += length
    if chunk:
        yield chunk


def sql_text(text: str) -> str:
    """A value for a TicketSQL string literal."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


def first_content(ticket: Ticket) -> str:
    """The ticket's first message in RT: what the technician captured, readable by 2nd level."""
    lines = [ticket.description or "(no description)", ""]
    for label, value in (("Requester", ticket.requester), ("Contact", ticket.contact),
                         ("Site", ticket.site), ("Asset", ticket.asset),
                         ("Category", ticket.category)):
        if value:
            lines.append(f"{label}: {value}")
    lines += [f"Priority: P{ticket.priority} {ticket.priority_label} (impact {ticket.impact}, "
              f"urgency {ticket.urgency})", f"Support level: {ticket.level}",
              f"Captured offline with fieldkit as {ticket.ref} ({ticket.id}) "
              f"at {ticket.created_at}"]
    return "\n".join(lines)
