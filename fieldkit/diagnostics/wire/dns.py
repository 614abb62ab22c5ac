"""DNS plumbing shared by ``dns``, ``reach``, ``mail`` and ``portal``: resolv.conf, one query.

Two facts about the system resolver matter for honest verdicts. First, its own patience:
glibc waits ``timeout`` seconds (default 5) per server and tries ``attempts`` times (default 2),
so a lookup with a dead primary resolver succeeds after 5 s via the secondary; a check that
gives up earlier reports a failure no application sees. Second, ``getaddrinfo`` says "try
again" both when nobody answers and when a server answers SERVFAIL or REFUSED in 2 ms; asking
the resolver directly (:func:`query`) tells which. Third, its transport: with ``options use-vc``
glibc asks over TCP only, so a resolver must be asked the same way - over UDP it may well be
silent (a firewall dropping UDP port 53) while every lookup works.
"""

from __future__ import annotations

import errno
import os
import random
import socket
import struct
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

RESOLV_CONF = Path("/etc/resolv.conf")
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
# glibc's defaults and limits (resolv.h: RES_TIMEOUT, RES_DFLRETRY, RES_MAXRETRANS, MAXNS)
DEFAULT_TIMEOUT_S, DEFAULT_ATTEMPTS, MAX_TIMEOUT_S, MAX_ATTEMPTS, MAX_SERVERS = 5, 2, 30, 5, 3
ICMP_INTERVAL_S = 1.0  # Linux's net.ipv4.icmp_ratelimit default: one ICMP error per second


@dataclass
class ResolverConfig:
    """The nameservers and the patience the system resolver uses (resolv.conf ``options``)."""

    servers: list[str] | None  # None: the platform keeps them elsewhere (Windows)
    timeout_s: float = DEFAULT_TIMEOUT_S
    attempts: int = DEFAULT_ATTEMPTS
    tcp: bool = False  # ``options use-vc``: the system resolver asks over TCP only

    def budget_s(self) -> float:
        """How long one system lookup may take before the resolver itself gives up."""
        servers = min(len(self.servers or []), MAX_SERVERS) or 1
        return self.timeout_s * self.attempts * servers


def resolver_config(path: Path = RESOLV_CONF) -> ResolverConfig:
    if sys.platform == "win32":
        return ResolverConfig(None)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ResolverConfig([])
    config = ResolverConfig([])
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            assert config.servers is not None
            config.servers.append(parts[1].split("%")[0])
        elif parts and parts[0] == "options":
            _options(config, parts[1:])
    _options(config, os.environ.get("RES_OPTIONS", "").split())  # glibc: overrides the file
    return config


def _options(config: ResolverConfig, options: list[str]) -> None:
    for option in options:
        name, _, value = option.partition(":")
        if name == "timeout" and value.isdigit() and value.isascii():
            config.timeout_s = float(min(max(int(value), 1), MAX_TIMEOUT_S))
        elif name == "attempts" and value.isdigit() and value.isascii():
            config.attempts = min(max(int(value), 1), MAX_ATTEMPTS)
        elif name == "use-vc":
            config.tcp = True


@dataclass
class Answer:
    """What one resolver said: ``outcome`` is answer, nxdomain, timeout, refused, unreachable,
    an rcode name (SERVFAIL, REFUSED, ...) or ``error: ...``; ``tcp`` says how it was asked.
    :func:`probe` adds ``tcp-only``/``udp-only``: the system's transport failed, the other one
    answered (``addresses``, ``ms`` and ``tcp`` are its). ``failed``: how the first question
    failed (timeout or refused) when the verdict comes from a later one; ``other``: what the
    other transport got when it was asked too and did not help (timeout, refused ...)."""

    outcome: str
    addresses: list[str] = field(default_factory=list)
    ms: float = 0.0
    tcp: bool = False
    failed: str = ""
    other: str = ""


def query(server: str, name: str, timeout: float, attempts: int = 1, tcp: bool = False
          ) -> Answer:
    """One A question to ``server``, resent ``attempts`` times like the system resolver does;
    over TCP (``tcp``) the way glibc's ``use-vc`` asks: connect, then one length-framed query."""
    import time

    qid = random.randrange(1 << 16)
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + b"\0\1\0\1"
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    t0 = time.monotonic()
    with socket.socket(family, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM) as sock:
        try:
            if tcp:
                reply = _ask_tcp(sock, server, packet, qid, timeout, attempts)
            else:
                sock.connect((server, 53))  # connected UDP: an ICMP unreachable is an error
                reply = _ask(sock, packet, qid, timeout, attempts)
        except TimeoutError:
            return Answer("timeout", ms=(time.monotonic() - t0) * 1000, tcp=tcp)
        except OSError as exc:
            outcome = {errno.ECONNREFUSED: "refused", errno.ENETUNREACH: "unreachable",
                       errno.EHOSTUNREACH: "unreachable"}.get(exc.errno or 0,
                                                              f"error: {exc.strerror or exc}")
            return Answer(outcome, ms=(time.monotonic() - t0) * 1000, tcp=tcp)
    ms = (time.monotonic() - t0) * 1000
    rcode = struct.unpack("!H", reply[2:4])[0] & 0xF
    if rcode == 3:
        return Answer("nxdomain", ms=ms, tcp=tcp)
    if rcode != 0:
        return Answer(RCODES.get(rcode, f"rcode {rcode}"), ms=ms, tcp=tcp)
    return Answer("answer", a_records(reply), ms, tcp)


def probe(server: str, name: str, timeout: float, attempts: int = 1, tcp: bool = False
          ) -> Answer:
    """:func:`query` over the system's transport, and what to make of a failure.

    If that transport gets no answer, the other is asked once: an answer there is ``tcp-only``
    (UDP port 53 blocked) or ``udp-only`` (``use-vc`` but no DNS over TCP). UDP silence from a
    host that resets TCP port 53 may be a closed port whose ICMP answers the server's kernel
    rate-limits (after a burst of 6, one per second and client): asked again once the limit
    has let another one through, a closed port says so.
    """
    import time

    t0 = time.monotonic()
    answer = query(server, name, timeout, attempts, tcp=tcp)
    if answer.outcome not in ("timeout", "refused"):
        return answer
    other = query(server, name, timeout, 1, tcp=not tcp)
    if other.outcome not in ("timeout", "refused", "unreachable") and not other.outcome.startswith(
            "error"):
        return Answer("udp-only" if tcp else "tcp-only", other.addresses, other.ms, other.tcp,
                      failed=answer.outcome)
    answer.other = other.outcome
    if tcp or answer.outcome != "timeout" or other.outcome != "refused":
        return answer
    time.sleep(max(0.0, _icmp_slot(server, t0 + ICMP_INTERVAL_S * 1.1) - time.monotonic()))
    again = query(server, name, min(timeout, ICMP_INTERVAL_S))
    if again.outcome == "refused":
        return Answer("refused", ms=answer.ms, failed="timeout")
    return answer


_slots: dict[str, float] = {}
_slots_lock = threading.Lock()


def _icmp_slot(server: str, earliest: float) -> float:
    """When to ask ``server`` again so that this retry, not a concurrent one (a name and the
    canary at once), gets the next ICMP answer its kernel lets through."""
    with _slots_lock:
        slot = max(earliest, _slots.get(server, 0.0) + ICMP_INTERVAL_S * 1.1)
        _slots[server] = slot
        return slot


def _ask(sock: socket.socket, packet: bytes, qid: int, timeout: float, attempts: int) -> bytes:
    for attempt in range(max(1, attempts)):
        sock.settimeout(timeout)
        sock.send(packet)
        try:
            while True:
                reply = sock.recv(4096)
                if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == qid:
                    return reply
        except TimeoutError:
            if attempt == max(1, attempts) - 1:
                raise
    raise TimeoutError


def _ask_tcp(sock: socket.socket, server: str, packet: bytes, qid: int, timeout: float,
             attempts: int) -> bytes:
    """glibc tries a TCP server once per attempt too; each attempt has ``timeout`` in all."""
    import time

    deadline = time.monotonic() + timeout * max(1, attempts)
    sock.settimeout(timeout)
    sock.connect((server, 53))
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    sock.sendall(struct.pack("!H", len(packet)) + packet)
    while True:
        size = struct.unpack("!H", _recv_exactly(sock, 2))[0]
        reply = _recv_exactly(sock, size)
        if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == qid:
            return reply


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError(errno.ECONNRESET, "the DNS server closed the connection")
        data += chunk
    return data


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("idna")
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad DNS name {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def _skip_name(msg: bytes, pos: int) -> int:
    while True:
        length = msg[pos]
        if length & 0xC0 == 0xC0:  # compression pointer ends the name
            return pos + 2
        if length == 0:
            return pos + 1
        pos += 1 + length


def a_records(msg: bytes) -> list[str]:
    qdcount, ancount = struct.unpack("!HH", msg[4:8])
    pos = 12
    for _ in range(qdcount):
        pos = _skip_name(msg, pos) + 4
    addresses = []
    for _ in range(ancount):
        pos = _skip_name(msg, pos)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addresses.append(socket.inet_ntoa(msg[pos:pos + 4]))
        pos += rdlen
    return addresses


def canary_name() -> str:
    """A name that cannot exist (RFC 6761 reserves .invalid): any answer means DNS is hijacked."""
    return f"fieldkit-{random.randrange(16**12):012x}.invalid"


def configured_resolvers(path: Path = RESOLV_CONF) -> list[str] | None:
    """Nameservers from resolv.conf; None where the platform keeps them elsewhere (Windows)."""
    return resolver_config(path).servers
