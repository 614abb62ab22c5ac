"""Name resolution as its own phase: every name in parallel, its own deadline, its own verdict.

The resolver's patience is the system's (resolv.conf timeout x attempts x servers), not the
connect timeout: a name that takes 3 s to resolve is slow DNS, not a filtered port. Results are
streamed to the caller as they arrive so each connect can start (and its deadline begin) the
moment its own name is resolved; no batch limit can starve the last names.
"""

from __future__ import annotations

import ipaddress
import queue
import socket
import threading
import time
from dataclasses import dataclass, field

from fieldkit.diagnostics.wire import dns as dnswire

MAX_RESOLVER_THREADS = 256
DEADLINE_MARGIN_S = 2.5  # a failed lookup then asks the servers directly (see explain_try_again)
EXPLAIN_TIMEOUT_S = 0.5  # their wait for each direct question
MAX_DEADLINE_S = 65.0


@dataclass
class Resolution:
    """``outcome``: answer, literal, nxdomain, no-answer, SERVFAIL, REFUSED, dns-port-closed,
    dns-unreachable, dns-udp-blocked (the server answers over TCP only), dns-tcp-blocked (only
    over UDP, but ``use-vc`` asks over TCP) or dns-error."""

    host: str
    outcome: str
    addresses: list[tuple[int, str]] = field(default_factory=list)  # (family, address) in order
    ms: float = 0.0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("answer", "literal")


def literal(host: str) -> Resolution | None:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return Resolution(host, "literal", [(family, str(ip))])


def lookup(host: str, config: dnswire.ResolverConfig) -> Resolution:
    """Resolve like applications do; name a failure by what the resolver actually said."""
    t0 = time.monotonic()
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        ms = (time.monotonic() - t0) * 1000
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            return Resolution(host, "nxdomain", ms=ms, detail=str(exc.strerror))
        if exc.errno == socket.EAI_AGAIN:
            return Resolution(host, explain_try_again(host, config, ms), ms=ms)
        return Resolution(host, "dns-error", ms=ms, detail=str(exc.strerror))
    seen: dict[str, int] = {}
    for family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), family)
    return Resolution(host, "answer", [(f, a) for a, f in seen.items()],
                      (time.monotonic() - t0) * 1000)


def explain_try_again(host: str, config: dnswire.ResolverConfig, ms: float) -> str:
    """getaddrinfo's EAI_AGAIN covers silence, SERVFAIL, REFUSED and a closed DNS port alike.

    Ask the servers directly (at once, one query each, see :func:`dnswire.probe`) to learn
    which. A failure well before the resolver's own deadline was an answer. One at the deadline
    is silence - unless the servers now say "port closed" or "no route": a closed port's ICMP
    answers are rate-limited by the server's kernel, so a lookup right after others (the dns
    check, a sweep) can time out on a port that is simply closed.
    """
    if not config.servers or not _sendable(host):
        return "no-answer"
    from fieldkit.diagnostics.runner import run_concurrently

    servers = config.servers[:dnswire.MAX_SERVERS]
    results = run_concurrently([(server, _asker(server, host, config.tcp), 5.0)
                                for server in servers])
    answers = [r if isinstance(r, dnswire.Answer) else dnswire.Answer("timeout")
               for r in results.values()]
    outcomes = [a.outcome for a in answers]
    if ms >= 0.8 * config.budget_s() * 1000:
        for wanted, verdict in (("refused", "dns-port-closed"), ("unreachable",
                                "dns-unreachable"), ("tcp-only", "dns-udp-blocked"),
                                ("udp-only", "dns-tcp-blocked")):
            if outcomes and all(o == wanted for o in outcomes):
                return verdict
        return "no-answer"
    for wanted, verdict in (("SERVFAIL", "SERVFAIL"), ("REFUSED", "REFUSED"),
                            ("refused", "dns-port-closed"), ("unreachable", "dns-unreachable"),
                            ("tcp-only", "dns-udp-blocked"), ("udp-only", "dns-tcp-blocked")):
        if wanted in outcomes:
            return verdict
    if any(a.outcome == "timeout" and a.other == "refused" and not a.tcp for a in answers):
        # glibc failed fast, so something answered; silent over UDP now (its ICMP answers
        # rate-limited), the host resets TCP port 53: it was "port unreachable"
        return "dns-port-closed"
    return "no-answer" if all(o == "timeout" for o in outcomes) and outcomes else "dns-error"


def _asker(server: str, host: str, tcp: bool):
    return lambda: dnswire.probe(server, host, EXPLAIN_TIMEOUT_S, tcp=tcp)


def _sendable(host: str) -> bool:
    try:
        dnswire.encode_name(host)
        return True
    except (ValueError, UnicodeError):
        return False


def deadline_s(config: dnswire.ResolverConfig) -> float:
    return min(config.budget_s() + DEADLINE_MARGIN_S, MAX_DEADLINE_S)


class Pool:
    """Resolve names in daemon threads; finished :class:`Resolution` objects appear in
    ``results``. A lookup that outlives the deadline is reported by :meth:`expired`."""

    def __init__(self, hosts: list[str], config: dnswire.ResolverConfig, threads: int) -> None:
        self.config = config
        self.results: queue.SimpleQueue[Resolution] = queue.SimpleQueue()
        self.started: dict[str, float] = {}
        self.outstanding = set(hosts)
        self.deadline_s = deadline_s(config)
        self._todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        for host in hosts:
            self._todo.put(host)
        for _ in range(max(1, min(threads, len(hosts), MAX_RESOLVER_THREADS))):
            threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                host = self._todo.get_nowait()
            except queue.Empty:
                return
            self.started[host] = time.monotonic()
            try:
                self.results.put(lookup(host, self.config))
            except Exception as exc:  # noqa: BLE001 - a broken lookup is that name's verdict
                self.results.put(Resolution(host, "dns-error", detail=str(exc)))

    def take(self) -> list[Resolution]:
        done: list[Resolution] = []
        while True:
            try:
                resolution = self.results.get_nowait()
            except queue.Empty:
                return done
            if resolution.host in self.outstanding:
                self.outstanding.discard(resolution.host)
                done.append(resolution)

    def expired(self, now: float) -> list[Resolution]:
        late = [h for h in self.outstanding
                if h in self.started and now - self.started[h] >= self.deadline_s]
        for host in late:
            self.outstanding.discard(host)
        return [Resolution(host, "no-answer", ms=self.deadline_s * 1000) for host in late]
