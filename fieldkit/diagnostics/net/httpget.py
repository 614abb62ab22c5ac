"""One plain HTTP GET that follows no redirect: the connectivity check, and a ``Date`` header.

Operating systems detect captive portals the same way (Windows fetches Microsoft's NCSI text,
Android a 204 page): a known URL with a known answer. A portal answers with a redirect to its
login page or with a page of its own. ``http.client`` is enough and imports in a millisecond;
following redirects would hide exactly what we look for.

Where the environment names a proxy (``http_proxy``/``https_proxy``, upper case too, minus
``no_proxy``; on Windows and macOS the system's proxy settings, as urllib reads them) the
request goes through it, as curl and browsers do: on a network whose only way out is a proxy
a direct request proves nothing. The proxy used is part of the evidence (``Fetched.proxy``).
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from fieldkit.errors import ConfigError

if TYPE_CHECKING:
    from fieldkit.diagnostics.registry import CheckContext

DEFAULT_URL = "http://www.msftconnecttest.com/connecttest.txt"
DEFAULT_EXPECT = "Microsoft Connect Test"
MAX_BODY = 4096


@dataclass
class Fetched:
    url: str
    status: int = 0
    location: str = ""
    body: str = ""
    date: str = ""
    sent_at: float = 0.0  # time.time() around the exchange, for the clock check
    received_at: float = 0.0
    error: str = ""  # set when no HTTP answer came at all
    proxy: str = ""  # the proxy the request went through (without credentials), or ""


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    shown: str  # http://host:port, never the credentials
    authorization: str = ""  # a Proxy-Authorization value from user:password@ in the URL


def proxy_for(url: str) -> Proxy | None:
    """The proxy this machine's settings name for ``url``, or None (none set, or no_proxy).
    Only plain http:// proxies are spoken; another kind is a ValueError naming it."""
    import urllib.request

    parts = urlsplit(url)
    value = urllib.request.getproxies().get(parts.scheme, "")
    if not value or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxy, port = _parse_proxy(parts.scheme, value if "://" in value else f"http://{value}")
    if proxy.scheme != "http" or not proxy.hostname:
        raise ValueError(f"the {parts.scheme} proxy {proxy.scheme}://{proxy.hostname} is not "
                         "an http:// proxy (not supported by this check)")
    authorization = ""
    if proxy.username:
        import base64
        from urllib.parse import unquote

        pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode()
    return Proxy(proxy.hostname, port, f"http://{_hostport(proxy.hostname, port)}",
                 authorization)


def _parse_proxy(scheme: str, value: str) -> tuple[SplitResult, int]:
    """The proxy URL split, and its port. The value may hold a password, so a value that does
    not parse cleanly is refused with a fixed message: urllib's own error text quotes parts of
    it ("Port could not be cast to integer value as 's3cr'"), and an unencoded / ? or # in the
    password ends the host part early, so "bob:4711" would be taken for host and port."""
    refused = ValueError(f"the {scheme} proxy setting is not a valid URL (a / ? # or @ in the "
                         "user name or password must be percent-encoded: %2F %3F %23 %40); "
                         "not shown, it may hold a password")
    try:
        proxy = urlsplit(value)
        port = proxy.port or 80
    except ValueError:
        raise refused from None
    if "@" in value.partition("://")[2].removeprefix(proxy.netloc):
        raise refused
    return proxy, port


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_url(url: str, key: str = "portal_url") -> tuple[str, int, str]:
    """(host, port, path) of an http:// URL, or a ConfigError naming the setting."""
    parts = urlsplit(url)
    try:
        port = parts.port or 80
    except ValueError:
        port = -1
    if parts.scheme != "http" or not parts.hostname or port < 1:
        raise ConfigError(f"config.toml [diag] {key} must be a plain http:// URL (a portal can "
                          f"only rewrite unencrypted HTTP), got {url!r}")
    return parts.hostname, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def connectivity(ctx: CheckContext) -> Fetched:
    """The run's one connectivity request (the portal and the clock check both read it)."""
    url = ctx.text("portal_url")
    check_url(url)
    timeout = ctx.number("portal_timeout_s") or 5.0
    return ctx.shared(f"http:{url}", lambda: fetch(url, timeout))


def date_of(url: str, timeout_s: float) -> Fetched:
    """The Date of any http(s) URL (the sync server). Over https the certificate is not
    verified: only a Date is read, and with a wrong clock verification would fail anyway."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return fetch(url, timeout_s)
    from fieldkit.diagnostics.net.tls import inspection_context

    result = Fetched(url)
    try:
        proxy = proxy_for(url)
    except ValueError as exc:
        result.error = str(exc)
        return result
    host, port = parts.hostname or "", parts.port or 443
    if proxy:  # CONNECT through it: the Date still comes from the server itself
        result.proxy = proxy.shown
        connection = http.client.HTTPSConnection(proxy.host, proxy.port, timeout=timeout_s,
                                                 context=inspection_context())
        connection.set_tunnel(host, port, _proxy_headers(proxy))
    else:
        connection = http.client.HTTPSConnection(host, port, timeout=timeout_s,
                                                 context=inspection_context())
    try:
        result.sent_at = time.time()
        connection.request("HEAD", parts.path or "/")
        response = connection.getresponse()
        result.received_at = time.time()
        result.status, result.date = response.status, response.getheader("Date", "") or ""
    except (OSError, http.client.HTTPException, ValueError) as exc:
        result.error = _why(exc)
    finally:
        connection.close()
    return result


def fetch(url: str, timeout_s: float) -> Fetched:
    host, port, path = check_url(url)
    result = Fetched(url)
    headers = {"User-Agent": "fieldkit connectivity check", "Cache-Control": "no-cache"}
    try:
        proxy = proxy_for(url)
    except ValueError as exc:
        result.error = str(exc)
        return result
    if proxy:  # the absolute URL to the proxy, which resolves and connects (RFC 9112 3.2.2)
        result.proxy = proxy.shown
        connection = http.client.HTTPConnection(proxy.host, proxy.port, timeout=timeout_s)
        path, headers = url, {**headers, **_proxy_headers(proxy)}
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        result.sent_at = time.time()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        result.received_at = time.time()
        result.status = response.status
        result.location = response.getheader("Location", "") or ""
        result.date = response.getheader("Date", "") or ""
        result.body = response.read(MAX_BODY).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        result.error = _why(exc)
    finally:
        connection.close()
    return result


def _proxy_headers(proxy: Proxy) -> dict[str, str]:
    return {"Proxy-Authorization": proxy.authorization} if proxy.authorization else {}


def _why(exc: BaseException) -> str:
    import socket

    if isinstance(exc, socket.gaierror):
        return f"name lookup failed ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "no answer (timeout)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}"
