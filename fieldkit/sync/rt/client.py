"""HTTP to Request Tracker's REST 2.0: authentication, retries, and failures in plain words.

Authentication is HTTP basic auth or an RT auth token on every request, the way RT supports
API clients. Not the web login's session cookie: since RT's fix for CVE-2026-108277 REST2
refuses cookie-authenticated writes without an allowed Origin/Referer, and forging those
headers would defeat the protection. Cookies are therefore never stored or sent. Each request
pays RT's bcrypt (~250 ms at its default cost), so the backend sends batches (bulk endpoints)
instead of many small requests. The client keeps connections alive, but RT's standalone server
closes each one (``Connection: close``): only a reverse proxy in front of RT keeps them
(docs/sync.md, bench/keepalive.py).

Retries: RT is not idempotent (a retried POST makes a duplicate), so only requests that cannot
have been processed (connection refused, 429, 503) and reads/PUTs are retried. Everything else
becomes a :class:`SyncError` saying whether the server may have processed it (``uncertain``).
"""

from __future__ import annotations

import socket
import ssl
import time
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

from fieldkit import __version__
from fieldkit.sync.backend import SyncError

API = "/REST/2.0"
CSRF_REFUSAL = "Cross-site request forgery"


class RTClient:
    def __init__(self, base_url: str, *, user: str | None, password: str | None,
                 token: str | None, verify: ssl.SSLContext | bool, timeout_s: float,
                 retries: int, backoff_s: float, transport: Any = None) -> None:
        import httpx

        self.base = base_url.rstrip("/")
        self.user, self.token = user, token
        self.retries, self.backoff_s = retries, backoff_s
        headers = {"User-Agent": f"fieldkit/{__version__}", "Accept": "application/json",
                   "Accept-Language": "en"}
        auth = None
        if token:
            headers["Authorization"] = f"token {token}"
        elif user and password is not None:
            auth = httpx.BasicAuth(user, password)
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self.http = httpx.Client(base_url=self.base + API, timeout=timeout_s, verify=verify,
                                 headers=headers, auth=auth, cookies=no_cookies,
                                 follow_redirects=False, transport=transport,
                                 limits=httpx.Limits(max_connections=8))

    def close(self) -> None:
        self.http.close()

    @property
    def who(self) -> str:
        return self.user or "the token's owner"

    def call(self, method: str, path: str, doing: str, *, expect: tuple[int, ...] = (200,),
             idempotent: bool | None = None, **kwargs: Any) -> Any:
        """One request; its JSON body when the status is expected, else a SyncError."""
        resp = self.request(method, path, idempotent=idempotent, **kwargs)
        if resp.status_code not in expect:
            raise self.refusal(resp, doing)
        try:
            return resp.json()
        except ValueError:
            writes = method not in ("GET", "PUT") and idempotent is not True
            raise SyncError(f"RT gave an answer that is not JSON while {doing} (HTTP "
                            f"{resp.status_code}: {resp.text[:80]!r}); a proxy in the way?",
                            kind="protocol", uncertain=writes) from None

    def search(self, query: str, fields: str, doing: str = "searching RT") -> list[dict[str, Any]]:
        """Every ticket matching a TicketSQL query (POST: long queries do not fit in a URL)."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self.call("POST", "/tickets", doing, idempotent=True, data={
                "query": query, "fields": fields, "fields[Queue]": "Name", "per_page": "100",
                "page": str(page), "orderby": "id", "order": "ASC"})
            batch = data.get("items", []) if isinstance(data, dict) else []
            items += batch
            if len(batch) < 100:
                return items
            page += 1

    def unfinished_connections(self) -> int | None:
        """TCP connections from this machine to RT that the client end has closed and RT's end
        has not: a request on one of them may still be on its way or in RT's hands, even after
        the process that sent it is gone (the kernel keeps the socket until the peer closes,
        ~60 s on Linux). None when the connection table cannot be read here."""
        import psutil

        parts = urlsplit(self.base)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addrs = {str(info[4][0]) for info in socket.getaddrinfo(
                parts.hostname or "", port, type=socket.SOCK_STREAM)}
            table = psutil.net_connections(kind="tcp")
        except (OSError, psutil.Error):
            return None
        closing = (psutil.CONN_FIN_WAIT1, psutil.CONN_FIN_WAIT2, psutil.CONN_CLOSING)
        return sum(1 for c in table if c.status in closing and c.raddr
                   and c.raddr.port == port and c.raddr.ip.removeprefix("::ffff:") in addrs)

    def refusal(self, resp: Any, doing: str) -> SyncError:
        try:
            detail = resp.json()
            detail = detail.get("message", detail) if isinstance(detail, dict) else detail
        except ValueError:
            detail = resp.text[:200]
        if resp.status_code == 401:
            if self.token:
                return SyncError("RT rejected the token (HTTP 401): check FIELDKIT_SYNC_TOKEN or "
                                 "the token in the keyring", kind="auth", fatal=True)
            return SyncError(f"RT refused the login as {self.user} (HTTP 401): check the user "
                             "name and FIELDKIT_SYNC_PASSWORD", kind="auth", fatal=True)
        if resp.status_code == 403:
            if CSRF_REFUSAL in str(detail):
                return SyncError(f"RT's cross-site request forgery protection refused {doing}: "
                                 "the request carried a session cookie (a proxy adding one?); "
                                 "fieldkit authenticates with basic auth or a token",
                                 kind="csrf")
            return SyncError(f"RT denied {doing} to {self.who} (HTTP 403): a right is missing "
                             "on that queue or ticket (e.g. ShowTicket, CommentOnTicket, "
                             "ModifyTicket, CreateTicket; ask the RT admin)", kind="denied")
        if resp.status_code == 404:
            return SyncError(f"RT has no such resource while {doing} (HTTP 404)", kind="missing")
        return SyncError(f"RT answered HTTP {resp.status_code} while {doing}: {detail}",
                         kind="http", uncertain=resp.status_code >= 500)

    def request(self, method: str, path: str, *, idempotent: bool | None = None,
                **kwargs: Any) -> Any:
        import httpx

        safe = method in ("GET", "PUT") if idempotent is None else idempotent
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = self.http.request(method, path, **kwargs)
            except httpx.ConnectError as exc:  # nothing was sent: always safe to retry
                reason = connect_failure(exc)
                if last or reason.kind in ("tls", "dns"):  # retrying cannot fix those
                    raise reason from None
                self._pause(attempt)
                continue
            except httpx.TimeoutException as exc:
                if (isinstance(exc, httpx.ConnectTimeout) or safe) and not last:
                    self._pause(attempt)
                    continue
                raise SyncError(f"RT did not answer in time ({self.base}): the server is "
                                "overloaded or down; what was sent is checked on the next sync",
                                kind="timeout", fatal=True, unanswered=True) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if safe and not last:
                    self._pause(attempt)
                    continue
                raise SyncError(f"the connection to RT broke ({exc.__class__.__name__}); what "
                                "was sent is checked on the next sync", kind="connection",
                                fatal=True, unanswered=True) from None
            if resp.status_code in (429, 503) or (resp.status_code >= 500 and safe):
                if last:
                    raise SyncError(f"RT is overloaded or failing (HTTP {resp.status_code}); "
                                    "try again later", kind="server", fatal=True)
                self._pause(attempt, resp.headers.get("Retry-After"))
                continue
            return resp
        raise SyncError("RT could not be reached", kind="connect", fatal=True)

    def _pause(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.backoff_s * (2 ** attempt)
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), 10.0)
        time.sleep(delay)


def connect_failure(exc: Exception) -> SyncError:
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
