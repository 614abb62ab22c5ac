"""Web reachability: does ``https://host/path`` answer, how, how fast, and can its certificate
be trusted?

"The website doesn't work" is a name, a connection, a certificate or an answer problem. One
GET per hop answers all four: this module follows redirects itself (at most
:data:`MAX_REDIRECTS`), because the chain is the evidence (a portal, a login page, a loop),
and records per hop the status and ``Location``. Time to first byte is measured as curl's
``time_starttransfer``: from the start of the connection (name lookup, TCP and TLS included)
to the response's status line. The body is never read.

Certificates are judged by ``tls`` (the OS trust store plus ``--ca-file``, as the mail check):
a verification failure is looked at again without verification only to read the certificate
and say why (self-signed, expired, wrong name, unknown issuer); the request is not sent over
that second connection. ``--insecure`` does send it there, says so in the evidence, and turns
the certificate's ``fail`` into a ``warn``: the answer is then known, the trust still is not.

Proxies come from the environment (``http_proxy``/``https_proxy``/``no_proxy``, see
``httpget.proxy_for``): plain http goes to the proxy as an absolute URL, https through a
CONNECT tunnel, so the certificate judged is still the server's own.

Verdicts: a 2xx at the end of the chain is ``ok``. ``warn``: 401/403 (reachable, needs a
login or refuses this user), 404/410 and the other 4xx (the server answers, the page or the
permission is the problem), a certificate that expires within ``tls.EXPIRY_WARN_DAYS``, a
redirect from https down to plain http. ``fail``: 407 (the proxy wants a login), 5xx, no
answer, a refused or timed-out connection, a failed name lookup, an untrusted certificate, a
redirect loop, more than :data:`MAX_REDIRECTS` redirects, a redirect that cannot be followed.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from fieldkit.diagnostics.model import Finding, ReachState, Status, worst
from fieldkit.diagnostics.net import tls
from fieldkit.diagnostics.net.httpget import Proxy, proxy_for
from fieldkit.diagnostics.net.httptext import (
    CERT_WORDS,
    EXPIRY_HINT,
    INSECURE_HINT,
    STATUS_HINTS,
    TLS_HINTS,
    TROUBLE,
    TROUBLE_VIA_PROXY,
)
from fieldkit.diagnostics.net.targets import ascii_host, split_host_port
from fieldkit.diagnostics.runner import run_concurrently
from fieldkit.errors import InputError

if TYPE_CHECKING:
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.registry import CheckContext

CHECK = "http"
MAX_REDIRECTS = 10
MAX_URL_TEXT = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "fieldkit http check"
_PRINTABLE = "".join(chr(c) for c in range(33, 127))


@dataclass(frozen=True)
class HttpTarget:
    text: str  # as the user wrote it: the finding's subject
    scheme: str  # http or https
    host: str  # IDNA-encoded, IPv6 without brackets
    port: int
    path: str  # path and query, at least "/"

    @property
    def url(self) -> str:
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        if self.port != DEFAULT_PORTS[self.scheme]:
            netloc += f":{self.port}"
        return f"{self.scheme}://{netloc}{self.path}"


def parse_http_target(text: str) -> HttpTarget:
    """``https://host[:port]/path``, ``http://...``, or a bare ``host[:port][/path]`` (https).
    Anything else is an :class:`InputError`; a user name or password is refused without
    repeating it (it would end up in the finding's evidence)."""
    raw = text.strip()
    if not raw:
        raise InputError("empty web target: give a URL like https://intranet.example.com/")
    scheme, sep, rest = raw.partition("://")
    if not sep:
        scheme, rest = "https", raw
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, path = rest[:cut], rest[cut:].partition("#")[0]
    if "@" in netloc:
        raise InputError("web target: a user name or password in the URL is not supported "
                         "(not shown, it may hold a password); give the URL without it")
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    if len(raw) > MAX_URL_TEXT:
        raise InputError(f"web target {shown!r} is too long")
    if any(c.isspace() or not c.isprintable() for c in raw):
        raise InputError(f"web target {shown!r} contains spaces or control characters "
                         "(percent-encode them: %20)")
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InputError(f"web target {shown!r}: unknown scheme {scheme!r} (use http or https)")
    host, port = split_host_port(netloc, f"web target {shown!r}", DEFAULT_PORTS[scheme])
    path = quote(path if path.startswith("/") else "/" + path, safe=_PRINTABLE)
    return HttpTarget(raw, scheme, ascii_host(host), port, path)


def merge_http_duplicates(targets: list[HttpTarget]) -> list[HttpTarget]:
    """Keep the first of each URL (host names compared case-insensitively)."""
    seen: dict[tuple[str, str, int, str], HttpTarget] = {}
    for t in targets:
        seen.setdefault((t.scheme, t.host.lower().rstrip("."), t.port, t.path), t)
    return list(seen.values())


def skipped(target: HttpTarget, why: str) -> Finding:
    """A target that was validated but, by policy, not probed (``--no-probe``)."""
    return Finding(CHECK, target.text, Status.SKIP, f"{target.url} not fetched ({why})",
                   data={"url": target.url, "state": ReachState.NOT_PROBED})


@dataclass
class Hop:
    """One request of the chain: what was asked, through what, and what came back."""

    url: str
    status: int = 0
    location: str = ""
    ttfb_ms: float = 0.0
    proxy: str = ""
    tls: dict[str, Any] | None = None
    trouble: str = ""  # no HTTP answer: dns, refused, timeout, no-answer, tls, proxy, ...
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        hop: dict[str, Any] = {"url": shown_url(self.url), "status": self.status}
        if self.location:
            hop["location"] = shown_url(self.location)
        if self.tls is not None:
            hop["tls_verify"] = self.tls.get("verify")
        return hop


@dataclass
class Chain:
    target: HttpTarget
    hops: list[Hop] = field(default_factory=list)
    ending: str = ""  # why following stopped early: loop, too-many, bad-location


def run(job: Job, context: CheckContext, password: str | None = None) -> list[Finding]:
    """``diag http``: each URL fetched once (duplicates merged), nothing sent with no-probe."""
    targets = merge_http_duplicates([parse_http_target(t) for t in job.targets])
    if not context.probe:
        return [skipped(t, job.no_probe_reason) for t in targets]
    return check_http(targets, job.seconds(), job.options.get("ca_file"),
                      bool(job.options.get("insecure")))


def check_http(targets: list[HttpTarget], timeout_s: float, ca_file: str | None = None,
               insecure: bool = False) -> list[Finding]:
    """Fetch every target concurrently; one Finding per target, in the given order. A
    ``ca_file`` that cannot be used is an InputError before any traffic."""
    verifying = tls.verifying_context(ca_file)
    budget = (timeout_s * 3 + 1) * (MAX_REDIRECTS + 1)  # connect, TLS, answer; per hop
    tasks = [(str(i), _follower(t, timeout_s, verifying, ca_file is not None, insecure), budget)
             for i, t in enumerate(targets)]
    results = run_concurrently(tasks)
    findings = []
    for i, target in enumerate(targets):
        outcome = results.get(str(i))
        if isinstance(outcome, Chain):
            findings.append(assess(outcome, insecure))
        else:  # an unexpected exception, or the chain outlived its budget
            findings.append(Finding(CHECK, target.text, Status.ERROR, f"the web check broke: "
                                    f"{outcome!r}", data={"url": target.url}))
    return findings


def _follower(target: HttpTarget, timeout_s: float, verifying: ssl.SSLContext,
              ca_given: bool, insecure: bool):
    def follow() -> Chain:
        chain, url, seen = Chain(target), target.url, set()
        while True:
            seen.add(url)
            hop = fetch(url, timeout_s, verifying, ca_given, insecure)
            chain.hops.append(hop)
            if hop.status not in REDIRECTS or not hop.location or (
                    hop.tls and hop.tls["verify"] != "ok" and not insecure):
                return chain
            try:  # the same rules as for a typed target: IDNA, ports, no password
                url = parse_http_target(urljoin(url, hop.location)).url
            except InputError:
                chain.ending = "bad-location"
                return chain
            if url in seen:
                chain.ending = "loop"
            elif len(chain.hops) > MAX_REDIRECTS:
                chain.ending = "too-many"
            if chain.ending:
                return chain

    return follow


def fetch(url: str, timeout_s: float, verifying: ssl.SSLContext, ca_given: bool = False,
          insecure: bool = False) -> Hop:
    """One GET of ``url``, following nothing. A certificate that fails verification is read
    over a second, unverified connection; the request goes there only when ``insecure``."""
    hop = Hop(url)
    try:
        proxy = proxy_for(url)
    except ValueError as exc:
        hop.trouble, hop.detail = "proxy-setting", str(exc)
        return hop
    hop.proxy = proxy.shown if proxy else ""
    parts = urlsplit(url)
    started = time.monotonic()
    context = verifying if parts.scheme == "https" else None
    try:
        connection = _connect(parts, proxy, timeout_s, context)
    except ssl.SSLCertVerificationError as exc:
        try:
            connection = _connect(parts, proxy, timeout_s, tls.inspection_context())
        except (OSError, http.client.HTTPException) as again:
            hop.trouble, hop.detail = _trouble(again, connected=False)
            return hop
        hop.tls = _tls_of(connection, tls.verdict_of(exc), exc.verify_message, ca_given)
        if not insecure:
            connection.close()
            return hop
    except (OSError, http.client.HTTPException) as exc:
        hop.trouble, hop.detail = _trouble(exc, connected=False)
        return hop
    if context is not None and hop.tls is None:
        hop.tls = _tls_of(connection, "ok", "", ca_given)
    try:
        target = url if proxy and parts.scheme == "http" else _path_of(parts)
        headers = {"User-Agent": USER_AGENT, "Cache-Control": "no-cache"}
        if proxy and proxy.authorization and parts.scheme == "http":
            headers["Proxy-Authorization"] = proxy.authorization
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        hop.ttfb_ms = round((time.monotonic() - started) * 1000, 1)
        hop.status = response.status
        hop.location = response.getheader("Location", "") or ""
    except (OSError, http.client.HTTPException) as exc:
        hop.trouble, hop.detail = _trouble(exc, connected=True)
    finally:
        connection.close()
    return hop


def _connect(parts: SplitResult, proxy: Proxy | None, timeout_s: float,
             context: ssl.SSLContext | None) -> http.client.HTTPConnection:
    host, port = parts.hostname or "", parts.port or DEFAULT_PORTS[parts.scheme]
    connection: http.client.HTTPConnection
    if context is None:
        connection = http.client.HTTPConnection(*((proxy.host, proxy.port) if proxy else
                                                  (host, port)), timeout=timeout_s)
    elif proxy:  # CONNECT: the TLS inside the tunnel is the server's own
        connection = http.client.HTTPSConnection(proxy.host, proxy.port, timeout=timeout_s,
                                                 context=context)
        connection.set_tunnel(host, port, {"Proxy-Authorization": proxy.authorization}
                              if proxy.authorization else None)
    else:
        connection = http.client.HTTPSConnection(host, port, timeout=timeout_s,
                                                 context=context)
    try:
        connection.connect()
    except BaseException:
        connection.close()
        raise
    return connection


def _path_of(parts: SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _tls_of(connection: http.client.HTTPConnection, verify: str, detail: str,
            ca_given: bool) -> dict[str, Any]:
    sock = connection.sock
    if not isinstance(sock, ssl.SSLSocket):
        return {"verify": verify}
    info = tls.describe(sock, verify, detail)
    tls.refine(info, ca_given)
    return info


def _trouble(exc: BaseException, connected: bool) -> tuple[str, str]:
    """(kind, detail) of a request that got no HTTP answer."""
    text = str(exc)
    if isinstance(exc, socket.gaierror):
        return "dns", exc.strerror or text
    if isinstance(exc, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, TimeoutError):
        return ("no-answer" if connected else "timeout"), "timeout"
    if text.startswith("Tunnel connection failed"):
        return "proxy", text.partition(": ")[2] or text
    if isinstance(exc, ssl.SSLError):
        return "tls", exc.reason or text
    if isinstance(exc, http.client.HTTPException | ConnectionResetError):
        return "not-http", f"{exc.__class__.__name__}: {text}" if text else \
            exc.__class__.__name__
    return "unreachable", getattr(exc, "strerror", None) or text


def shown_url(url: str) -> str:
    """A URL as evidence: no user name or password, no fragment, and no query values (a
    redirect to a login page often carries a session token or a one-time code)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def assess(chain: Chain, insecure: bool) -> Finding:
    """The verdict on a followed chain (pure: the network part is done)."""
    target, last = chain.target, chain.hops[-1]
    parts = urlsplit(last.url)
    host, port = parts.hostname or target.host, parts.port or DEFAULT_PORTS[parts.scheme]
    words = {"host": host, "port": port,
             "hostport": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
             "url": shown_url(last.url), "proxy": last.proxy, "detail": last.detail,
             "count": len(chain.hops) - 1}
    data = {**_data(chain), "insecure": insecure}
    problems: list[tuple[Status, str, str]] = []
    notes: list[str] = []
    if last.trouble:
        table = TROUBLE_VIA_PROXY if last.proxy and last.trouble in TROUBLE_VIA_PROXY else TROUBLE
        summary, hint = table.get(last.trouble, TROUBLE["unreachable"])
        problems.append((Status.FAIL, summary.format(**words), hint.format(**words)))
    if last.tls is not None:
        problems += _certificate(last.tls, words, insecure, notes)
    if chain.ending:
        summary, hint = TROUBLE[chain.ending]
        problems.append((Status.FAIL, summary.format(**words), hint.format(**words)))
    elif last.status:
        problems += _answer(last, words, notes)
    schemes = [urlsplit(h.url).scheme for h in chain.hops]
    if "https" in schemes and "http" in schemes[schemes.index("https"):]:
        summary, hint = TROUBLE["downgrade"]
        problems.append((Status.WARN, summary, hint))
    if len(chain.hops) > 1 and not chain.ending:
        notes.append(f"{len(chain.hops) - 1} redirect{'s' if len(chain.hops) > 2 else ''}")
    if last.proxy and last.trouble not in TROUBLE_VIA_PROXY:  # else the summary names it
        notes.append(f"through the proxy {last.proxy}")
    status = worst((p[0] for p in problems), Status.OK)
    summary = "; ".join([p[1] for p in problems] + notes)
    hint = " ".join(dict.fromkeys(p[2] for p in problems))
    return Finding(CHECK, target.text, status, summary, hint, data)


def _answer(hop: Hop, words: dict[str, Any], notes: list[str]) -> list[tuple[Status, str, str]]:
    code, reason = hop.status, _reason(hop.status)
    words["timing"] = f"{code} {reason} in {hop.ttfb_ms:.0f} ms".replace("  ", " ")
    if 200 <= code < 300:
        notes.insert(0, words["timing"])
        return []
    level, hint = STATUS_HINTS.get(code) or STATUS_HINTS[code // 100 * 100]
    return [(level, words["timing"], hint.format(**words))]


def _reason(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return ""


def _certificate(info: dict[str, Any], words: dict[str, Any], insecure: bool,
                 notes: list[str]) -> list[tuple[Status, str, str]]:
    verify = info["verify"]
    if verify != "ok":
        shown = f"{CERT_WORDS.get(verify, 'certificate not verified')} ({info.get('version')})"
        hint = TLS_HINTS.get(verify, TLS_HINTS["error"]).format(
            host=words["host"], detail=info.get("verify_detail", ""))
        if insecure:
            return [(Status.WARN, f"{shown}, fetched anyway (--insecure)",
                     INSECURE_HINT + " " + hint)]
        return [(Status.FAIL, shown, hint)]
    days = info.get("days_left")
    if days is not None and days < tls.EXPIRY_WARN_DAYS:
        return [(Status.WARN, f"certificate expires in {days} days",
                 EXPIRY_HINT.format(days=days))]
    notes.append(f"{info.get('version')}, certificate valid for {days} more days")
    return []


def _data(chain: Chain) -> dict[str, Any]:
    last = chain.hops[-1]
    data: dict[str, Any] = {
        "url": chain.target.url, "final_url": shown_url(last.url),
        "status_code": last.status or None,
        "redirects": [h.to_dict() for h in (chain.hops if chain.ending else chain.hops[:-1])],
        "ttfb_ms": last.ttfb_ms if last.status else None, "tls": last.tls,
        "proxy": last.proxy or None,
    }
    if last.trouble:
        data.update(error=last.trouble, error_detail=last.detail)
    if chain.ending:  # the last hop redirected too: it is the last entry of "redirects"
        data["redirect_problem"] = chain.ending
    return data

