"""The RT backend: the :class:`~fieldkit.sync.backend.Backend` verbs over RT's bulk endpoints.

Creates, notes and updates go in batches; each answer is read per item (``wire.py``), updates
are confirmed by a re-read and their status by RT's history (``status.py``).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from fieldkit.sync.backend import (
    CheckItem,
    Post,
    RemoteTicket,
    StatusConflict,
    SyncError,
    Update,
)
from fieldkit.sync.rt import check, files, find
from fieldkit.sync.rt import status as rtstatus
from fieldkit.sync.rt.client import RTClient
from fieldkit.sync.rt.wire import (
    CLIENT_ID_FIELD,
    CREATE_STATUS,
    DEFAULT_CUSTOM_FIELDS,
    EVENT_RE,
    MAX_COMMENTS,
    MAX_ITEMS,
    PRIORITY_TO_RT,
    READ_FIELDS,
    SEARCH_IDS,
    STATUS_FROM_RT,
    STATUS_TO_RT,
    chunks,
    comment_outcome,
    first_content,
    mismatches,
    sql_text,
)
from fieldkit.tickets.model import Ticket


class RTBackend:
    name = "rt"
    label = "RT"
    grace_s = 60.0  # RT may finish a bulk create we gave up on; from_settings: 2 x timeout_s

    def __init__(self, http: RTClient, queue: str, *, custom_fields: dict[str, str] | None = None,
                 escalation_queues: dict[int, str] | None = None,
                 have_credentials: bool = True) -> None:
        self.http = http
        self.queue = queue
        self.custom_fields = {**DEFAULT_CUSTOM_FIELDS, **(custom_fields or {})}
        self.escalation_queues = escalation_queues or {}
        self.have_credentials = have_credentials
        self.queue_fields: set[str] = set()

    # -- session ------------------------------------------------------------------------------

    def open(self) -> None:
        """Authenticate and read the queue (one request); every failure here is fatal."""
        if not self.have_credentials:
            raise SyncError("no RT credentials: set FIELDKIT_SYNC_PASSWORD (with [sync] user) or "
                            "FIELDKIT_SYNC_TOKEN, or store them in the OS keyring", kind="auth",
                            fatal=True)
        queue = self._read_queue(self.queue)
        self.queue_fields = {cf["name"] for cf in queue.get("TicketCustomFields", [])}
        if CLIENT_ID_FIELD not in self.queue_fields:
            raise SyncError(f"RT queue {self.queue!r} has no {CLIENT_ID_FIELD} custom field the "
                            "sync user can see; without it sync cannot guarantee exactly-once. "
                            "Ask the RT admin to create it (free-form, single value), apply it "
                            "to the queue and grant SeeCustomField and ModifyCustomField",
                            kind="config", fatal=True)

    def _read_queue(self, name: str) -> dict[str, Any]:
        try:
            data = self.http.call("GET", f"/queue/{quote(name, safe='')}", "reading the queue")
        except SyncError as exc:
            if exc.kind in ("missing", "denied"):  # RT answers 403 or 404, depending on rights
                raise SyncError(f"RT queue {name!r} does not exist or {self.http.who} may not "
                                "see it (SeeQueue): check [sync] queue in config.toml, or ask "
                                "the RT admin for the right", kind="queue", fatal=True) from None
            exc.fatal = True
            raise
        return data if isinstance(data, dict) else {}

    def close(self) -> None:
        self.http.close()

    # -- the Backend verbs --------------------------------------------------------------------

    def find_by_client_ids(self, client_ids: list[str]) -> dict[str, RemoteTicket]:
        found: dict[str, RemoteTicket] = {}
        for start in range(0, len(client_ids), SEARCH_IDS):
            chunk = client_ids[start:start + SEARCH_IDS]
            query = " OR ".join(f"CF.{{{CLIENT_ID_FIELD}}} = '{sql_text(c)}'" for c in chunk)
            for item in self.http.search(query, READ_FIELDS, "searching RT by FieldkitID"):
                remote = self._remote(item)
                if remote.client_id and remote.client_id not in found:  # the oldest one wins
                    found[remote.client_id] = remote
        return found

    def create_many(self, tickets: list[Ticket]) -> list[RemoteTicket | SyncError]:
        bodies = [self._create_body(t) for t in tickets]
        results: list[RemoteTicket | SyncError] = []
        for chunk in chunks(bodies):
            try:
                answer = self.http.call("POST", "/tickets/bulk", "creating tickets",
                                        expect=(200, 201), json=chunk, idempotent=False)
            except SyncError as exc:
                if exc.fatal and not results:
                    raise
                exc.uncertain = True  # a create may have happened: the next run searches first
                results += [exc] * (len(bodies) - len(results))
                return results
            items = answer if isinstance(answer, list) and len(answer) == len(chunk) else None
            if items is None:
                problem = SyncError("RT's answer to a bulk create does not list one result per "
                                    "ticket", kind="protocol", uncertain=True)
                results += [problem] * len(chunk)
                continue
            for body, item in zip(chunk, items, strict=True):
                ticket = tickets[len(results)]
                if isinstance(item, dict) and item.get("id"):
                    rid = str(item["id"])
                    results.append(RemoteTicket(rid, self.web_url(rid), body["Status"]))
                else:
                    message = item.get("message") if isinstance(item, dict) else item
                    results.append(SyncError(f"RT refused to create {ticket.ref}: {message}",
                                             kind="rejected"))
        return results

    def get_many(self, remote_ids: list[str]) -> dict[str, RemoteTicket]:
        found: dict[str, RemoteTicket] = {}
        for start in range(0, len(remote_ids), MAX_ITEMS):
            query = " OR ".join(f"id = {int(i)}" for i in remote_ids[start:start + MAX_ITEMS])
            for item in self.http.search(query, READ_FIELDS, "reading tickets"):
                found[str(item["id"])] = self._remote(item)
        for gone in [str(i) for i in remote_ids if str(i) not in found]:
            # TicketSQL never finds a deleted ticket, but it can still be read (rare: per ticket)
            try:
                item = self.http.call("GET", f"/ticket/{int(gone)}", "reading a ticket")
            except SyncError as exc:
                if exc.fatal:
                    raise
                continue  # not visible: the caller says so
            if isinstance(item, dict) and item.get("Status") == "deleted":
                found[gone] = self._remote(item)
        return found

    def post_many(self, posts: list[Post]) -> list[SyncError | None]:
        """Notes in bulk; a file whose name is not plain ASCII by multipart (``files.py``)."""
        bodies = [self._comment_body(post) for post in posts]
        alone = {i for i, post in enumerate(posts) if files.needs_multipart(post)}
        bulk = [body for i, body in enumerate(bodies) if i not in alone]
        outcomes: list[SyncError | None] = []
        for chunk in chunks(bulk, MAX_COMMENTS):
            answer = self.http.call("POST", "/tickets/bulk/comment", "adding notes",
                                    expect=(200, 201), json=chunk, idempotent=False)
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise SyncError("RT's answer to a bulk comment does not list one result per "
                                "note", kind="protocol", uncertain=True)
            outcomes += [comment_outcome(item) for item in answer]
        by_item = iter(outcomes)
        return [files.post_multipart(self.http, post, body, comment_outcome)
                if i in alone else next(by_item)
                for i, (post, body) in enumerate(zip(posts, bodies, strict=True))]

    def update_many(self, updates: list[Update]) -> list[SyncError | None]:
        bodies = [self._update_body(u) for u in updates]
        said: dict[str, list[str]] = {}
        sent = [body for body in bodies if len(body) > 1]
        guarded = [u for u, body in zip(updates, bodies, strict=True)
                   if "Status" in body and u.expect is not None]
        stored = [u.since for u in guarded if u.since is not None]
        since = min(stored) if guarded and len(stored) == len(guarded) else \
            rtstatus.mark(self.http, [u.remote_id for u in guarded]) if guarded else 0
        for chunk in chunks(sent):
            answer = self.http.call("PUT", "/tickets/bulk", "updating tickets", json=chunk)
            for item in answer if isinstance(answer, list) else []:
                if isinstance(item, list) and item:
                    said[str(item[0])] = [str(m) for m in item[1:]]
        try:
            now = self.get_many([u.remote_id for u in updates]) if sent else {}
            races = rtstatus.races(self.http, guarded, {k: r.status for k, r in now.items()},
                                   since) if guarded else {}
            restored, overwrote = rtstatus.put_back(self, races)
        except SyncError as exc:  # written, not checked: never sent again blindly
            if exc.fatal or not guarded:
                raise
            return [rtstatus.unchecked(u, exc) for u in updates]
        outcomes: list[SyncError | None] = []
        for update, body in zip(updates, bodies, strict=True):
            remote = now.get(update.remote_id)
            race = races.get(update.remote_id)
            wrong = mismatches(body, remote) if len(body) > 1 else []
            if remote is None and len(body) > 1:
                wrong = ["the ticket is not visible any more"]
            if race is not None and wrong in ([], ["Status"]):  # someone else's change
                back = update.remote_id in restored
                text = rtstatus.restore_text(race, update, back, update.remote_id in overwrote)
                outcomes.append(StatusConflict(text,
                                               remote=race.restore if race.restore and (
                                                   back or update.remote_id in overwrote)
                                               else race.now))
                continue
            if wrong:
                messages = "; ".join(said.get(update.remote_id, [])) or "no reason given"
                if "Queue" in wrong and remote is not None:
                    messages += f": {check.queue_refusal(self, body['Queue'], remote.queue)}"
                outcomes.append(SyncError(f"RT did not apply {', '.join(wrong)} to ticket "
                                          f"#{update.remote_id} ({messages})", kind="rejected"))
            else:
                outcomes.append(None)
        return outcomes

    def status_mark(self, remote_ids: list[str]) -> int:
        return rtstatus.mark(self.http, remote_ids)

    def check_written(self, update: Update, now: str, since: int) -> StatusConflict | None:
        return rtstatus.check_written(self, update, now, since)

    def posted_event_ids(self, remote_id: str) -> set[str]:
        seen: set[str] = set()
        page = 1
        while True:
            data = self.http.call("GET", f"/ticket/{int(remote_id)}/attachments",
                                  f"reading the history of RT ticket {remote_id}",
                                  params={"fields": "Subject", "per_page": 100, "page": page})
            items = data.get("items", []) if isinstance(data, dict) else []
            for item in items:
                seen.update(EVENT_RE.findall(item.get("Subject") or ""))
            if len(items) < 100:
                return seen
            page += 1

    def find_posted(self, event_ids: list[str]) -> set[str]:
        return find.find_posted(self, event_ids)

    def find_by_marker(self, client_ids: list[str], since: str,
                       copies_only: bool = False) -> dict[str, list[RemoteTicket]]:
        return find.find_by_marker(self, client_ids, since, copies_only)

    def merge_into(self, pairs: list[tuple[str, str]]) -> list[SyncError | None]:
        return find.merge_into(self, pairs)

    def unfinished_requests(self) -> int | None:
        return self.http.unfinished_connections()

    def web_url(self, remote_id: str) -> str:
        return f"{self.http.base}/Ticket/Display.html?id={remote_id}"

    def to_remote_status(self, status: str) -> str:
        return STATUS_TO_RT[status]

    def to_local_status(self, remote_status: str) -> str | None:
        return STATUS_FROM_RT.get(remote_status)

    def check(self) -> list[CheckItem]:
        return check.check_setup(self)

    # -- bodies and answers -------------------------------------------------------------------

    def _create_body(self, ticket: Ticket) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Queue": self.queue, "Subject": ticket.title, "Content": first_content(ticket),
            "ContentType": "text/plain", "Priority": PRIORITY_TO_RT[ticket.priority],
            "Status": CREATE_STATUS.get(STATUS_TO_RT[ticket.status], STATUS_TO_RT[ticket.status]),
            "CustomFields": {CLIENT_ID_FIELD: ticket.id, **self._field_values(ticket)},
        }
        if "@" in ticket.contact and " " not in ticket.contact.strip():
            body["Requestor"] = ticket.contact.strip()
        return body

    def _comment_body(self, post: Post) -> dict[str, Any]:
        headline = post.text.strip().splitlines()[0][:60] if post.text.strip() else "note"
        body: dict[str, Any] = {"id": post.remote_id, "Content": post.text,
                                "Subject": f"[fieldkit {post.event_id}] {headline}",
                                "ContentType": "text/plain", "TimeTaken": str(post.minutes)}
        if post.attachment and not files.needs_multipart(post):
            body["Attachments"] = [{
                "FileName": post.attachment.filename, "FileType": post.attachment.mime,
                "FileContent": base64.b64encode(post.attachment.content).decode("ascii")}]
        return body

    def _update_body(self, update: Update) -> dict[str, Any]:
        ticket, fields = update.ticket, update.fields
        body: dict[str, Any] = {"id": update.remote_id}
        if "title" in fields:
            body["Subject"] = ticket.title
        if "priority" in fields:
            body["Priority"] = PRIORITY_TO_RT[ticket.priority]
        if update.status:
            body["Status"] = update.status
        if "level" in fields and ticket.level in self.escalation_queues:
            body["Queue"] = self.escalation_queues[ticket.level]
        values = self._field_values(ticket)
        chosen = {self.custom_fields[f]: values[self.custom_fields[f]]
                  for f in ("category", "site", "level")
                  if f in fields and self.custom_fields[f] in values}
        if "client_id" in fields:
            chosen[CLIENT_ID_FIELD] = ticket.id
        if chosen:
            body["CustomFields"] = chosen
        return body

    def _field_values(self, ticket: Ticket) -> dict[str, str]:
        values = {"category": ticket.category, "site": ticket.site, "level": str(ticket.level)}
        return {self.custom_fields[key]: value for key, value in values.items()
                if self.custom_fields[key] in self.queue_fields and value}

    def _remote(self, item: dict[str, Any]) -> RemoteTicket:
        fields = {cf.get("name", ""): (cf.get("values") or [""])[0]
                  for cf in item.get("CustomFields", []) if isinstance(cf, dict)}
        owner = item.get("Owner") or {}
        owner_name = owner.get("id", "") if isinstance(owner, dict) else str(owner)
        queue = item.get("Queue") or {}
        queue_name = queue.get("Name", "") if isinstance(queue, dict) else str(queue)
        remote_id = str(item["id"])
        return RemoteTicket(remote_id, self.web_url(remote_id), item.get("Status", ""),
                            "" if owner_name == "Nobody" else owner_name,  # RT's "unowned"
                            fields.get(CLIENT_ID_FIELD, ""), queue_name,
                            {"Subject": item.get("Subject"), "Priority": item.get("Priority"),
                             "Status": item.get("Status"), "Queue": queue_name,
                             "CustomFields": fields})


