"""DNS: which resolvers are configured, does each answer, does the test name resolve?

Three different faults look the same to a user ("internet is down"): no resolver configured, a
resolver that does not answer, and a name that does not exist. The check asks each configured
resolver directly (a single A query over UDP, no library needed) so it can say which one is
silent, then asks the system resolver the way applications do.
"""

from __future__ import annotations

import errno
import random
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.registry import CheckContext, check
from fieldkit.diagnostics.runner import run_concurrently

DEFAULT_NAME = "example.com"
RESOLV_CONF = Path("/etc/resolv.conf")

NO_RESOLVER_HINT = ("No DNS server is configured, so no name can be looked up: reconnect to the "
                    "network (DHCP sets the DNS servers) or fix the static network settings.")
TIMEOUT_HINT = ("The DNS server {server} does not answer: if it is the router or a company "
                "server, check it is up; try the other resolver; escalate if all are silent.")
REFUSED_HINT = ("Nothing answers DNS on {server} (port closed): the configured DNS server is "
                "wrong or its service is down. Check the network settings or escalate.")
UNREACHABLE_HINT = ("There is no route to the DNS server {server}: fix the connection first (see "
                    "the nics and gateway findings), or the DNS setting points to a wrong network.")
SYSTEM_TIMEOUT_HINT = ("No DNS server answered the lookup: see the resolver findings above; "
                       "check the connection, then the DNS settings; escalate if all are silent.")
SERVFAIL_HINT = ("The DNS server {server} answers but cannot resolve names ({rcode}): it has no "
                 "upstream connection or refuses this client. Escalate to whoever runs it.")
NXDOMAIN_HINT = ("The name {name} does not exist according to DNS: check the spelling; if the "
                 "name is right, the DNS server may be filtering it (escalate).")
# resolver outcome -> (summary, hint); anything else is a failing resolver (SERVFAIL, REFUSED...)
RESOLVER_VERDICTS = {
    "nxdomain": ("{server}: {name} does not exist (NXDOMAIN)", NXDOMAIN_HINT),
    "timeout": ("{server} is not answering (timeout)", TIMEOUT_HINT),
    "unreachable": ("{server} cannot be reached (no route)", UNREACHABLE_HINT),
    "refused": ("{server}: no DNS service (port closed)", REFUSED_HINT),
}
RESOLVER_FAILING = ("{server} fails to resolve: {outcome}", SERVFAIL_HINT)
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


@dataclass
class Answer:
    """What one resolver said: ``outcome`` is answer, nxdomain, timeout, refused or an rcode."""

    outcome: str
    addresses: list[str] = field(default_factory=list)
    ms: float = 0.0


def configured_resolvers(path: Path = RESOLV_CONF) -> list[str] | None:
    """Nameservers from resolv.conf; None where the platform keeps them elsewhere (Windows)."""
    if sys.platform == "win32":
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    servers = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            servers.append(parts[1].split("%")[0])
    return servers


@check("dns", domain="network", description="resolvers configured, answering, test name resolves",
       timeout_s=10.0)
def dns(ctx: CheckContext) -> list[Finding]:
    name = str(ctx.setting("dns_name", DEFAULT_NAME))
    timeout = float(ctx.setting("dns_timeout_s", 2.0))
    servers = configured_resolvers()
    findings: list[Finding] = []
    if servers is not None:
        if not servers:
            return [Finding("dns", "resolv.conf", Status.FAIL, "no DNS resolver configured",
                            NO_RESOLVER_HINT, {"resolvers": []})]
        findings.append(Finding("dns", "resolv.conf", Status.OK,
                                f"resolvers: {', '.join(servers)}", data={"resolvers": servers}))
    if not ctx.probe:
        return findings
    tasks = [(server, _asker(server, name, timeout), timeout + 1) for server in servers or []]
    tasks.append(("system", lambda: system_lookup(name), timeout * 2 + 1))
    results = run_concurrently(tasks)
    for server in servers or []:
        findings.append(assess_resolver(server, name, results[server]))
    findings.append(assess_system(name, results["system"]))
    return findings


def _asker(server: str, name: str, timeout: float):
    return lambda: query(server, name, timeout)


def assess_resolver(server: str, name: str, result) -> Finding:
    if isinstance(result, BaseException):
        result = Answer("timeout" if isinstance(result, TimeoutError) else f"error: {result}")
    data = {"server": server, "name": name, "outcome": result.outcome,
            "addresses": result.addresses, "ms": round(result.ms, 1)}
    subject = f"resolver {server}"
    if result.outcome == "answer":
        return Finding("dns", subject, Status.OK, f"{server} resolves {name} -> "
                       f"{', '.join(result.addresses) or 'no IPv4 address'} ({result.ms:.0f} ms)",
                       data=data)
    summary, hint = RESOLVER_VERDICTS.get(result.outcome, RESOLVER_FAILING)
    return Finding("dns", subject, Status.FAIL,
                   summary.format(server=server, name=name, outcome=result.outcome),
                   hint.format(server=server, name=name, rcode=result.outcome), data)


def system_lookup(name: str) -> Answer:
    """Resolve like applications do (hosts file, resolver order, search domains)."""
    t0 = time.monotonic()
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        outcome = {socket.EAI_NONAME: "nxdomain", socket.EAI_AGAIN: "timeout"}.get(
            exc.errno or 0, f"error: {exc.strerror}")
        if exc.errno == getattr(socket, "EAI_NODATA", -5):
            outcome = "nxdomain"
        return Answer(outcome, ms=(time.monotonic() - t0) * 1000)
    addresses = sorted({str(info[4][0]) for info in infos})
    return Answer("answer", addresses, (time.monotonic() - t0) * 1000)


def assess_system(name: str, result) -> Finding:
    if isinstance(result, BaseException):
        result = Answer("timeout")
    data = {"name": name, "outcome": result.outcome, "addresses": result.addresses,
            "ms": round(result.ms, 1)}
    if result.outcome == "answer":
        return Finding("dns", name, Status.OK, f"{name} resolves to {', '.join(result.addresses)}",
                       data=data)
    if result.outcome == "nxdomain":
        return Finding("dns", name, Status.FAIL, f"{name} does not exist (name not found)",
                       NXDOMAIN_HINT.format(name=name), data)
    if result.outcome == "timeout":
        return Finding("dns", name, Status.FAIL, f"looking up {name} timed out: no resolver "
                       "answers", SYSTEM_TIMEOUT_HINT, data)
    return Finding("dns", name, Status.FAIL, f"looking up {name} failed: {result.outcome}",
                   "Name lookups fail: check the dns findings above, then escalate.", data)


# -- a single DNS question over UDP (RFC 1035) ------------------------------------------------


def query(server: str, name: str, timeout: float) -> Answer:
    qid = random.randrange(1 << 16)
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _encode_name(name) + b"\0\1\0\1"
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    t0 = time.monotonic()
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((server, 53))  # connected UDP: an ICMP port-unreachable becomes an error
            sock.send(packet)
            while True:
                reply = sock.recv(4096)
                if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == qid:
                    break
        except TimeoutError:
            return Answer("timeout", ms=timeout * 1000)
        except OSError as exc:
            outcome = {errno.ECONNREFUSED: "refused", errno.ENETUNREACH: "unreachable",
                       errno.EHOSTUNREACH: "unreachable"}.get(exc.errno or 0,
                                                              f"error: {exc.strerror or exc}")
            return Answer(outcome, ms=(time.monotonic() - t0) * 1000)
    ms = (time.monotonic() - t0) * 1000
    rcode = struct.unpack("!H", reply[2:4])[0] & 0xF
    if rcode == 3:
        return Answer("nxdomain", ms=ms)
    if rcode != 0:
        return Answer(RCODES.get(rcode, f"rcode {rcode}"), ms=ms)
    return Answer("answer", _a_records(reply), ms)


def _encode_name(name: str) -> bytes:
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


def _a_records(msg: bytes) -> list[str]:
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


