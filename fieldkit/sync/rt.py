"""Request Tracker 5 backend (REST 2.0).

Speed: a real RT spends ~250 ms of bcrypt on every request authenticated by password or token.
With a password we log in once through the web form and ride the session cookie (REST2 accepts
it), so each later request costs milliseconds; a token cannot open a session, so token requests
keep paying. One httpx client keeps one pool of connections for all threads.

Safety: RT is not idempotent (a retried POST makes a duplicate), so only requests that cannot
have been processed are retried (connection refused, 429, 503), plus reads. Everything else
surfaces as a SyncError and the engine's intent marks decide what to check on the next run.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import time
from typing import Any
from urllib.parse import quote

from fieldkit import __version__
from fieldkit.sync.backend import RemoteTicket, SyncError
from fieldkit.tickets.model import Ticket

STATUS_TO_RT = {"new": "new", "in_progress": "open", "pending": "stalled",
                "resolved": "resolved", "closed": "resolved"}
STATUS_FROM_RT = {"new": "new", "open": "in_progress", "stalled": "pending",
                  "resolved": "resolved", "rejected": "closed", "deleted": "closed"}
# fieldkit priority 1 (critical) .. 5 (planning) -> RT's numeric 0..100 (High=100, Low=0)
PRIORITY_TO_RT = {1: 90, 2: 70, 3: 50, 4: 30, 5: 10}
DEFAULT_CUSTOM_FIELDS = {"category": "Category", "site": "Site", "level": "SupportLevel"}
CLIENT_ID_FIELD = "FieldkitID"
EVENT_RE = re.compile(r"\[fieldkit ([0-9a-f-]{36})\]")
_FAILED_UPDATE = re.compile(r"isn't a valid|not a valid|permission denied|illegal|couldn't|"
                            r"invalid", re.IGNORECASE)


class RTBackend:
    name = "rt"

    def __init__(self, url: str, queue: str, *, user: str | None = None,
                 password: str | None = None, token: str | None = None,
                 verify: bool | str = True, timeout_s: float = 30.0,
                 custom_fields: dict[str, str] | None = None,
                 escalation_queues: dict[int, str] | None = None,
                 retries: int = 3, backoff_s: float = 0.5) -> None:
        import httpx

        self.base = url.rstrip("/")
        self.queue = queue
        self.user, self.password, self.token = user, password, token
        self.custom_fields = {**DEFAULT_CUSTOM_FIELDS, **(custom_fields or {})}
        self.escalation_queues = escalation_queues or {}
        self.retries, self.backoff_s = retries, backoff_s
        headers = {"User-Agent": f"fieldkit/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"token {token}"
        self.client = httpx.Client(base_url=self.base, timeout=timeout_s, verify=verify,
                                   headers=headers, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=8))
        self.queue_fields: set[str] = set()

    # -- session ----------------------------------------------------------------------------

    def open(self) -> None:
        """Authenticate and check the queue; every failure here is fatal for the run."""
        self._login()
        resp = self._request("GET", f"/REST/2.0/queue/{quote(self.queue, safe='')}")
        if resp.status_code == 404:
            raise SyncError(f"RT queue {self.queue!r} does not exist (or the sync user cannot "
                            "see it): check [sync] queue in config.toml", kind="queue", fatal=True)
        self._expect(resp, 200, "reading the queue")
        self.queue_fields = {cf["name"] for cf in resp.json().get("TicketCustomFields", [])}
        if CLIENT_ID_FIELD not in self.queue_fields:
            raise SyncError(f"RT queue {self.queue!r} has no {CLIENT_ID_FIELD} custom field; "
                            "without it sync cannot guarantee exactly-once. Ask the RT admin to "
                            "create it (free-form, single value) and apply it to the queue",
                            kind="config", fatal=True)

    def _login(self) -> None:
        if not self.token:
            if not (self.user and self.password):
                raise SyncError("no RT credentials: set FIELDKIT_SYNC_PASSWORD (with [sync] user)"
                                " or FIELDKIT_SYNC_TOKEN, or store them in the OS keyring",
                                kind="auth", fatal=True)
            self.client.cookies.clear()
            self._request("POST", "/NoAuth/Login.html", data={"user": self.user,
                                                               "pass": self.password},
                          relogin=False)
        resp = self._request("GET", "/REST/2.0/rt", relogin=False)
        if resp.status_code != 200 and self.token:
            raise SyncError(f"RT rejected the token (HTTP {resp.status_code}): check "
                            "FIELDKIT_SYNC_TOKEN or the token in the keyring", kind="auth",
                            fatal=True)
        if resp.status_code != 200:
            raise SyncError(f"RT refused the login as {self.user} (HTTP {resp.status_code}): "
                            "check the user name and FIELDKIT_SYNC_PASSWORD", kind="auth",
                            fatal=True)

    def close(self) -> None:
        self.client.close()

    # -- the Backend verbs ------------------------------------------------------------------

    def find_by_client_id(self, client_id: str) -> RemoteTicket | None:
        query = f"CF.{{{CLIENT_ID_FIELD}}} = '{client_id}'"
        items = self._search(query, "Status,Owner,CustomFields")
        found = sorted(items, key=lambda item: int(item["id"]))
        return self._remote(found[0]) if found else None

    def create(self, ticket: Ticket) -> RemoteTicket:
        body: dict[str, Any] = {
            "Queue": self.queue, "Subject": ticket.title, "Content": first_content(ticket),
            "ContentType": "text/plain", "Priority": PRIORITY_TO_RT[ticket.priority],
            "Status": STATUS_TO_RT[ticket.status],
            "CustomFields": {CLIENT_ID_FIELD: ticket.id, **self._field_values(ticket)},
        }
        if "@" in ticket.contact and " " not in ticket.contact.strip():
            body["Requestor"] = ticket.contact.strip()
        resp = self._request("POST", "/REST/2.0/ticket", json=body, idempotent=False)
        self._expect(resp, 201, f"creating {ticket.ref}")
        remote_id = str(resp.json()["id"])
        return RemoteTicket(remote_id, self.web_url(remote_id), STATUS_TO_RT[ticket.status])

    def get(self, remote_id: str) -> RemoteTicket:
        resp = self._request("GET", f"/REST/2.0/ticket/{remote_id}")
        self._expect(resp, 200, f"reading RT ticket {remote_id}")
        return self._remote(resp.json())

    def get_many(self, remote_ids: list[str]) -> dict[str, RemoteTicket]:
        found: dict[str, RemoteTicket] = {}
        for start in range(0, len(remote_ids), 50):
            chunk = remote_ids[start:start + 50]
            query = " OR ".join(f"id = {int(i)}" for i in chunk)
            for item in self._search(query, "Status,Owner,CustomFields"):
                found[str(item["id"])] = self._remote(item)
        return found

    def add_note(self, remote_id: str, event_id: str, text: str, minutes: int = 0) -> None:
        self._comment(remote_id, event_id, text, minutes)

    def attach(self, remote_id: str, event_id: str, text: str, filename: str,
               content: bytes, mime: str) -> None:
        self._comment(remote_id, event_id, text, 0, attachments=[{
            "FileName": filename, "FileType": mime,
            "FileContent": base64.b64encode(content).decode("ascii")}])

    def update(self, remote_id: str, ticket: Ticket, fields: set[str]) -> None:
        body: dict[str, Any] = {}
        if "title" in fields:
            body["Subject"] = ticket.title
        if fields & {"impact", "urgency", "priority"}:
            body["Priority"] = PRIORITY_TO_RT[ticket.priority]
        if "status" in fields:
            body["Status"] = STATUS_TO_RT[ticket.status]
        if "level" in fields and ticket.level in self.escalation_queues:
            body["Queue"] = self.escalation_queues[ticket.level]
        values = self._field_values(ticket)
        chosen = {self.custom_fields[f]: values[self.custom_fields[f]]
                  for f in ("category", "site", "level")
                  if f in fields and self.custom_fields[f] in values}
        if chosen:
            body["CustomFields"] = chosen
        if not body:
            return
        resp = self._request("PUT", f"/REST/2.0/ticket/{remote_id}", json=body)
        self._expect(resp, 200, f"updating RT ticket {remote_id}")
        # RT answers 200 even when it rejected a value: the verdict is in the messages
        refused = [m for m in resp.json() if isinstance(m, str) and _FAILED_UPDATE.search(m)]
        if refused:
            raise SyncError(f"RT refused an update of ticket {remote_id}: {'; '.join(refused)}",
                            kind="rejected")

    def posted_event_ids(self, remote_id: str) -> set[str]:
        seen: set[str] = set()
        page = 1
        while True:
            resp = self._request("GET", f"/REST/2.0/ticket/{remote_id}/attachments",
                                 params={"fields": "Subject", "per_page": 100, "page": page})
            self._expect(resp, 200, f"reading the history of RT ticket {remote_id}")
            data = resp.json()
            for item in data.get("items", []):
                seen.update(EVENT_RE.findall(item.get("Subject") or ""))
            if len(data.get("items", [])) < 100:
                return seen
            page += 1

    def web_url(self, remote_id: str) -> str:
        return f"{self.base}/Ticket/Display.html?id={remote_id}"

    def to_remote_status(self, status: str) -> str:
        return STATUS_TO_RT[status]

    def to_local_status(self, remote_status: str) -> str:
        return STATUS_FROM_RT.get(remote_status, "in_progress")

    # -- internals --------------------------------------------------------------------------

    def _field_values(self, ticket: Ticket) -> dict[str, str]:
        values = {"category": ticket.category, "site": ticket.site, "level": str(ticket.level)}
        return {self.custom_fields[key]: value for key, value in values.items()
                if self.custom_fields[key] in self.queue_fields and value}

    def _comment(self, remote_id: str, event_id: str, text: str, minutes: int,
                 attachments: list[dict[str, str]] | None = None) -> None:
        headline = text.strip().splitlines()[0][:60] if text.strip() else "note"
        body: dict[str, Any] = {"Subject": f"[fieldkit {event_id}] {headline}", "Content": text,
                                "ContentType": "text/plain", "TimeTaken": str(minutes)}
        if attachments:
            body["Attachments"] = attachments
        resp = self._request("POST", f"/REST/2.0/ticket/{remote_id}/comment", json=body,
                             idempotent=False)
        self._expect(resp, 201, f"adding a note to RT ticket {remote_id}")

    def _search(self, query: str, fields: str) -> list[dict[str, Any]]:
        items, page = [], 1
        while True:
            resp = self._request("GET", "/REST/2.0/tickets", params={
                "query": query, "fields": fields, "per_page": 100, "page": page})
            self._expect(resp, 200, "searching RT")
            data = resp.json()
            items += data.get("items", [])
            if len(data.get("items", [])) < 100:
                return items
            page += 1

    def _remote(self, item: dict[str, Any]) -> RemoteTicket:
        fields = {cf.get("name", ""): (cf.get("values") or [""])[0]
                  for cf in item.get("CustomFields", []) if isinstance(cf, dict)}
        owner = item.get("Owner") or {}
        owner_name = owner.get("id", "") if isinstance(owner, dict) else str(owner)
        remote_id = str(item["id"])
        return RemoteTicket(remote_id, self.web_url(remote_id), item.get("Status", ""),
                            "" if owner_name == "Nobody" else owner_name,  # RT's "unowned"
                            fields.get(CLIENT_ID_FIELD, ""), fields)

    def _expect(self, resp, status: int, doing: str) -> None:
        if resp.status_code == status:
            return
        try:
            detail = resp.json()
            detail = detail.get("message", detail) if isinstance(detail, dict) else detail
        except ValueError:
            detail = resp.text[:200]
        raise SyncError(f"RT answered HTTP {resp.status_code} {doing}: {detail}", kind="http")

    def _request(self, method: str, path: str, *, idempotent: bool | None = None,
                 relogin: bool = True, **kwargs):
        import httpx

        idempotent = method in ("GET", "PUT") if idempotent is None else idempotent
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = self.client.request(method, path, **kwargs)
            except httpx.ConnectError as exc:  # nothing was sent: always safe to retry
                reason = _connect_failure(exc)
                if reason.fatal or last:
                    raise reason from None
                self._sleep(attempt)
                continue
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) or idempotent:
                    if not last:
                        self._sleep(attempt)
                        continue
                raise SyncError(f"RT did not answer in time ({self.base}): the server is "
                                "overloaded or down; what was sent is checked on the next sync",
                                kind="timeout", fatal=True) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if idempotent and not last:
                    self._sleep(attempt)
                    continue
                raise SyncError(f"the connection to RT broke ({exc.__class__.__name__}); what "
                                "was sent is checked on the next sync", kind="connection",
                                fatal=True) from None
            if resp.status_code in (429, 503) or (resp.status_code >= 500 and idempotent):
                if last:
                    raise SyncError(f"RT is overloaded or failing (HTTP {resp.status_code}); "
                                    "try again later", kind="server", fatal=True)
                self._sleep(attempt, resp.headers.get("Retry-After"))
                continue
            if resp.status_code >= 500:
                raise SyncError(f"RT failed with HTTP {resp.status_code} on {method} {path}; "
                                "the outcome is checked on the next sync", kind="server")
            if relogin and self._needs_login(resp):
                self._login()
                relogin = False
                continue
            if resp.status_code == 403:
                raise SyncError(f"RT denied {method} {path} to {self.user or 'the token owner'}:"
                                " missing rights (ask the RT admin)", kind="auth", fatal=True)
            return resp
        raise AssertionError("unreachable")

    def _needs_login(self, resp) -> bool:
        if resp.status_code == 401:
            if self.token:
                raise SyncError("RT rejected the token (HTTP 401): check FIELDKIT_SYNC_TOKEN",
                                kind="auth", fatal=True)
            return True
        if resp.status_code != 302:
            return False
        return "NoAuth/Login" in resp.headers.get("location", "") or "Login required" in resp.text

    def _sleep(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.backoff_s * (2 ** attempt)
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), 10.0)
        time.sleep(delay)


def _connect_failure(exc: Exception) -> SyncError:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SyncError(f"TLS certificate of the RT server not trusted "
                             f"({cause.verify_message}): set [sync] ca_file, or use --insecure "
                             "for this one call if you know why", kind="tls", fatal=True)
        if isinstance(cause, ssl.SSLError):
            return SyncError(f"TLS with the RT server failed ({cause.reason})", kind="tls",
                             fatal=True)
        if isinstance(cause, socket.gaierror):
            return SyncError(f"cannot resolve the RT server's name ({cause.strerror}): check "
                             "[sync] url and DNS", kind="dns", fatal=True)
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or exc.__class__.__name__
    if "Name or service not known" in text or "nodename nor servname" in text:
        return SyncError(f"cannot resolve the RT server's name: {text}", kind="dns", fatal=True)
    return SyncError(f"cannot reach RT ({text}): no network, or the server is down",
                     kind="connect", fatal=True)


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
