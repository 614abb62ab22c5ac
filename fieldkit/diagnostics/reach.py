"""Firewall reachability: is ``host:port`` open, closed, filtered, unreachable or unresolved?

The vocabulary is nmap's (state plus a reason), the words are a colleague's. All targets are
probed at once: names are resolved in parallel threads, then every connection attempt is a
non-blocking socket polled by one selector, so 50 targets cost about one timeout, not fifty.
No raw sockets and no root: a plain TCP connect tells the states apart well enough -
SYN-ACK = open, RST = closed, silence = filtered, ICMP unreachable = unreachable.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import Any, cast

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.runner import run_concurrently
from fieldkit.errors import InputError

STATE_RANK = {"open": 0, "closed": 1, "filtered": 2, "unreachable": 3, "unresolved": 4,
              "error": 5}
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})\.?)+$")


@dataclass(frozen=True)
class Target:
    text: str  # as the user wrote it: the finding's subject
    host: str
    port: int


@dataclass
class Probe:
    """The verdict for one target; ``addresses`` has per-address verdicts if there were several."""

    target: Target
    state: str
    reason: str
    latency_ms: float
    address: str = ""
    addresses: list[dict[str, Any]] = field(default_factory=list)


def parse_target(text: str) -> Target:
    """``host:port`` or ``[v6]:port``; anything else is a clear :class:`InputError`."""
    raw = text.strip()
    if not raw:
        raise InputError("empty target: give host:port, e.g. mail.example.com:587")
    if "://" in raw or "/" in raw:
        raise InputError(f"target {text!r}: give host:port, not a URL")
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise InputError(f"target {text!r}: write IPv6 as [address]:port")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InputError(f"target {text!r}: {host!r} is not an IPv6 address") from None
    else:
        host, sep, port_text = raw.rpartition(":")
        if not sep:
            raise InputError(f"target {text!r} has no port: give host:port")
        if ":" in host:
            raise InputError(f"target {text!r}: write IPv6 as [address]:port")
        if not host:
            raise InputError(f"target {text!r} has no host: give host:port")
        if not HOSTNAME_RE.match(host):
            raise InputError(f"target {text!r}: {host!r} is not a valid host name or address")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InputError(f"target {text!r}: port must be a number from 1 to 65535")
    return Target(text.strip(), host, int(port_text))


def sweep(targets: list[Target], timeout_s: float) -> list[Probe]:
    """Probe every target concurrently; returns one Probe per target, in the given order."""
    t0 = time.monotonic()
    lookups = run_concurrently(
        ((str(i), _resolver(t), timeout_s) for i, t in enumerate(targets)), max_parallel=64)
    results: dict[int, Probe] = {}
    attempts: list[tuple[int, str, socket.socket]] = []
    per_address: dict[int, list[dict[str, Any]]] = {}
    for i, target in enumerate(targets):
        outcome = lookups[str(i)]
        if isinstance(outcome, BaseException):
            reason = _resolve_reason(outcome)
            results[i] = Probe(target, "unresolved", reason, _ms(t0))
            continue
        for family, sockaddr in outcome:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex(sockaddr)
            if code in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                attempts.append((i, sockaddr[0], sock))
            else:
                per_address.setdefault(i, []).append(_verdict(sockaddr[0], code, t0))
                sock.close()
    _poll(attempts, per_address, t0, timeout_s)
    for i, target in enumerate(targets):
        if i not in results:
            verdicts = sorted(per_address[i], key=lambda v: STATE_RANK[v["state"]])
            best = verdicts[0]
            results[i] = Probe(target, best["state"], best["reason"], best["latency_ms"],
                               best["address"], verdicts if len(verdicts) > 1 else [])
    return [results[i] for i in range(len(targets))]


def _poll(attempts, per_address, t0: float, timeout_s: float) -> None:
    selector = selectors.DefaultSelector()
    for i, address, sock in attempts:
        selector.register(sock, selectors.EVENT_WRITE, (i, address))
    deadline = t0 + timeout_s
    try:
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                i, address = key.data
                sock = cast(socket.socket, key.fileobj)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                per_address.setdefault(i, []).append(_verdict(address, code, t0))
                selector.unregister(sock)
                sock.close()
        for key in list(selector.get_map().values()):  # no answer before the deadline
            i, address = key.data
            per_address.setdefault(i, []).append(
                {"address": address, "state": "filtered", "reason": "no-response",
                 "latency_ms": round(timeout_s * 1000, 1)})
            cast(socket.socket, key.fileobj).close()
    finally:
        selector.close()


def _resolver(target: Target):
    def resolve() -> list[tuple[int, tuple]]:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        seen: set[str] = set()
        out: list[tuple[int, tuple]] = []
        for family, _type, _proto, _name, sockaddr in infos:
            if str(sockaddr[0]) not in seen:
                seen.add(str(sockaddr[0]))
                out.append((family, sockaddr))
        return out

    return resolve


def _resolve_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "dns-timeout"
    if isinstance(exc, socket.gaierror):
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            return "nxdomain"
        if exc.errno == socket.EAI_AGAIN:
            return "dns-timeout"
    return "dns-error"


_ERRNO_VERDICTS = {
    0: ("open", "syn-ack"),
    errno.ECONNREFUSED: ("closed", "conn-refused"),
    errno.EHOSTUNREACH: ("unreachable", "host-unreach"),
    errno.ENETUNREACH: ("unreachable", "net-unreach"),
    errno.ETIMEDOUT: ("filtered", "no-response"),
    errno.EACCES: ("filtered", "local-firewall"),
    errno.EPERM: ("filtered", "local-firewall"),
}


def _verdict(address: str, code: int, t0: float) -> dict[str, Any]:
    state, reason = _ERRNO_VERDICTS.get(code, ("error", errno.errorcode.get(code, str(code))))
    return {"address": address, "state": state, "reason": reason, "latency_ms": _ms(t0)}


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000, 1)


HINTS = {
    ("closed", "conn-refused"):
        "The host answered but nothing accepts connections on port {port}: the service is not "
        "running or listens on another port - or a firewall actively rejects it. Check the "
        "service on {host}, then the firewall.",
    ("filtered", "no-response"):
        "No answer at all: a firewall between here and {host} silently drops connections to port "
        "{port} (or the host is down). Ask the firewall/network team to allow it, or escalate "
        "with this target.",
    ("filtered", "local-firewall"):
        "This machine's own firewall blocks connections to {host}:{port}: check the local "
        "firewall or security software.",
    ("unreachable", "host-unreach"):
        "{host} cannot be reached at all: it is switched off, not on this network, or a router/"
        "firewall on the way rejects it. Check the address, then cable/Wi-Fi/VPN.",
    ("unreachable", "net-unreach"):
        "This machine has no route to {host}'s network: check the network connection, the "
        "default gateway and the VPN.",
    ("unresolved", "nxdomain"):
        "The name {host} does not exist in DNS: check the spelling, or whether the name changed.",
    ("unresolved", "dns-timeout"):
        "DNS did not answer for {host}: run 'fieldkit diag -c dns' - the resolver is unreachable "
        "or down.",
    ("unresolved", "dns-error"):
        "The name {host} could not be resolved: run 'fieldkit diag -c dns'.",
}

SUMMARIES = {
    "open": "port {port} on {host} is open",
    "closed": "port {port} on {host} is closed (connection refused)",
    "filtered": "port {port} on {host} is filtered (no answer)",
    "unreachable": "{host} is unreachable",
    "unresolved": "{host} does not resolve",
    "error": "probing {host}:{port} failed",
}


def to_finding(probe: Probe) -> Finding:
    t = probe.target
    status = Status.OK if probe.state == "open" else (
        Status.ERROR if probe.state == "error" else Status.FAIL)
    summary = SUMMARIES[probe.state].format(host=t.host, port=t.port)
    if probe.state in ("open", "closed"):
        summary += f" ({probe.latency_ms:.0f} ms)"
    hint = HINTS.get((probe.state, probe.reason),
                     "Unexpected network error ({reason}); escalate with this finding.")
    data: dict[str, Any] = {"state": probe.state, "reason": probe.reason,
                            "latency_ms": probe.latency_ms, "host": t.host, "port": t.port,
                            "address": probe.address}
    if probe.addresses:
        data["addresses"] = probe.addresses
    return Finding("reach", t.text, status, summary,
                   "" if status == Status.OK else hint.format(host=t.host, port=t.port,
                                                              reason=probe.reason), data)
