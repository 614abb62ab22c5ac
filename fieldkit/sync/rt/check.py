"""``fieldkit sync check`` for Request Tracker: is the server set up for exactly-once sync?

REST 2.0 does not list a user's rights, so each line is verified by what RT shows the sync user:
the queue's "create" link appears only with CreateTicket, its custom fields only with
SeeCustomField, and whether FieldkitID can be *written* shows on the last ticket this user
created (a create keeps going when a custom field is refused, so that is the evidence).
"""

from __future__ import annotations

from urllib.parse import quote

from fieldkit.sync.backend import CheckItem, SyncError
from fieldkit.sync.rt.wire import CLIENT_ID_FIELD, RTSide, sql_text


def check_setup(backend: RTSide) -> list[CheckItem]:
    http = backend.http
    if not backend.have_credentials:
        return [CheckItem("login", "fail", "no RT credentials: set FIELDKIT_SYNC_PASSWORD (with "
                          "[sync] user) or FIELDKIT_SYNC_TOKEN, or store them in the OS keyring")]
    try:
        about = http.call("GET", "/rt", "logging in")
    except SyncError as exc:
        return [CheckItem("login", "fail", str(exc))]
    items = [CheckItem("login", "ok", f"logged in to RT {about.get('Version', '?')} as "
                                      f"{http.who} at {http.base}")]
    queue = _queue(backend, backend.queue)
    if queue is None:
        items.append(CheckItem("queue", "fail", f"queue {backend.queue!r} does not exist or the "
                               "sync user cannot see it (SeeQueue)",
                               "check [sync] queue, or ask the RT admin for SeeQueue"))
        return items
    items.append(_create_right(backend.queue, queue))
    fields = {cf["name"] for cf in queue.get("TicketCustomFields", [])}
    if CLIENT_ID_FIELD in fields:
        items.append(CheckItem("client-id-field", "ok",
                               f"{CLIENT_ID_FIELD} applies to {backend.queue!r} and is visible"))
        items.append(_client_id_writable(backend))
    else:
        items.append(CheckItem("client-id-field", "fail", f"{CLIENT_ID_FIELD} is missing on "
                               f"{backend.queue!r} or not visible to the sync user",
                               f"create {CLIENT_ID_FIELD} (free-form, single value), apply it to "
                               "the queue, grant SeeCustomField and ModifyCustomField"))
    for key, name in sorted(backend.custom_fields.items()):
        status = "ok" if name in fields else "warn"
        items.append(CheckItem(f"field-{key}", status, f"custom field {name!r} "
                               f"{'applies' if name in fields else 'is not applied'} to the queue",
                               "" if name in fields else f"fieldkit's {key} then reaches RT only "
                               "in the first message"))
    for level, name in sorted(backend.escalation_queues.items()):
        target = _queue(backend, name)
        if target is None:
            items.append(CheckItem(f"escalation-{level}", "fail", f"escalation queue {name!r} "
                                   "does not exist or is not visible",
                                   "fix [sync.escalation_queues] or ask the RT admin"))
        else:
            items.append(_create_right(name, target, f"escalation-{level}"))
    return items


def _queue(backend: RTSide, name: str) -> dict | None:
    try:
        data = backend.http.call("GET", f"/queue/{quote(name, safe='')}", "reading a queue")
    except SyncError as exc:
        if exc.kind in ("missing", "denied"):
            return None
        raise
    return data if isinstance(data, dict) else None


def _create_right(name: str, queue: dict, label: str = "create-right") -> CheckItem:
    links = {link.get("ref") for link in queue.get("_hyperlinks", [])}
    if "create" in links:
        return CheckItem(label, "ok", f"the sync user may create tickets in {name!r}")
    return CheckItem(label, "fail", f"the sync user may not create tickets in {name!r} "
                     "(CreateTicket; moving a ticket there needs it too)",
                     "ask the RT admin to grant CreateTicket on that queue")


def queue_refusal(backend: RTSide, name: str, current: str) -> str:
    """Why RT kept a ticket out of queue ``name`` ("Permission Denied" says nothing), from what
    the sync user can see of that queue: one read, only after a refused move."""
    who = backend.http.who
    try:
        target = backend.http.call("GET", f"/queue/{quote(name, safe='')}", "reading a queue")
    except SyncError as exc:
        if exc.kind == "missing":
            return f"RT has no queue {name!r}: fix [sync.escalation_queues]"
        if exc.kind != "denied":
            raise
        return (f"{who} may not see queue {name!r} (no SeeQueue there), and RT moves a ticket "
                f"only into a queue where its user has SeeQueue and CreateTicket: ask the RT "
                f"admin to grant both on {name!r}, or fix [sync.escalation_queues]")
    if _create_right(name, target if isinstance(target, dict) else {}).status != "ok":
        return (f"{who} lacks CreateTicket on queue {name!r}, which RT requires to move a "
                "ticket there: ask the RT admin to grant it")
    return (f"{who} may create tickets in {name!r}; moving one there also needs ModifyTicket on "
            f"its queue {current!r}")


def _client_id_writable(backend: RTSide) -> CheckItem:
    query = f"Queue = '{sql_text(backend.queue)}' AND Creator = '__CurrentUser__'"
    data = backend.http.call("POST", "/tickets", "searching RT", idempotent=True, data={
        "query": query, "fields": "CustomFields", "per_page": "1", "orderby": "id",
        "order": "DESC"})
    items = data.get("items", []) if isinstance(data, dict) else []
    if not items:
        return CheckItem("client-id-writable", "warn", f"not shown yet: the sync user has not "
                         f"created a ticket in {backend.queue!r}",
                         "the first sync creates one ticket alone and checks that it keeps its "
                         f"{CLIENT_ID_FIELD} before creating more")
    values = {cf.get("name"): cf.get("values") for cf in items[0].get("CustomFields", [])}
    if values.get(CLIENT_ID_FIELD):
        return CheckItem("client-id-writable", "ok", f"ticket #{items[0]['id']}, the last one "
                         f"the sync user created there, kept its {CLIENT_ID_FIELD}")
    return CheckItem("client-id-writable", "fail", f"ticket #{items[0]['id']}, the last one the "
                     f"sync user created there, has no {CLIENT_ID_FIELD}",
                     f"grant the sync user ModifyCustomField on {CLIENT_ID_FIELD} for the queue")
