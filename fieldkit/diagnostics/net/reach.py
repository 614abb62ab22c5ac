"""Firewall reachability: is ``host:port`` open, closed, filtered, unreachable or unresolved?

The vocabulary is nmap's (state plus a reason), the words are a colleague's. Two phases per
target, each with its own deadline: resolution (the system resolver's own patience, see
``resolve``) and the TCP connect (``--timeout``, started only once that name is resolved, so
slow DNS is reported as slow DNS and never as a filtered port). All names resolve at once and
every connection is a non-blocking socket polled by one selector, in waves that fit the
open-file limit, so 300 targets cost about one timeout. No raw sockets and no root: SYN-ACK =
open, RST = closed, silence = filtered, ICMP = unreachable or rejected (and by whom).

A name is probed on every address it resolves to, in the order clients try them: "open" on the
second address after the first one timed out is what a user experiences as a 4-second hang.
A random ``.invalid`` name is resolved alongside (the canary): if it resolves, DNS is hijacked
(captive portal) and names resolving to the same address say so instead of blaming a service.
"""

from __future__ import annotations

import collections
import errno
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from fieldkit.diagnostics.model import Finding, ReachState, Status
from fieldkit.diagnostics.net import connect, resolve, route
from fieldkit.diagnostics.net.reachtext import (
    BACKUP_NOTE,
    FILTERED_BY_REASON,
    HINTS,
    ROUTE_HINTS,
    ROUTE_SUMMARIES,
    SUMMARIES,
    UNRESOLVED,
    dead_note,
    hijack_note,
)
from fieldkit.diagnostics.net.targets import Target, merge_duplicates, parse_target
from fieldkit.diagnostics.wire import dns as dnswire

if TYPE_CHECKING:
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.registry import CheckContext

__all__ = ["HINTS", "SUMMARIES", "Probe", "Target", "merge_duplicates", "parse_target", "sweep",
           "to_finding"]
STATE_RANK = {state: rank for rank, state in enumerate(ReachState)}  # best first
DNS_SLOW_S = 1.0
CANARY_GRACE_S = 0.5  # once every target has its verdict, the canary may take this much longer


@dataclass
class Probe:
    """The verdict for one target; ``addresses`` has per-address verdicts, in client order."""

    target: Target
    state: ReachState
    reason: str
    latency_ms: float
    address: str = ""
    addresses: list[dict[str, Any]] = field(default_factory=list)
    dns: resolve.Resolution | None = None
    hijacked: list[str] = field(default_factory=list)  # addresses a made-up name also got
    icmp_from: str = ""
    route: dict[str, Any] = field(default_factory=dict)  # the hop blamed (see route.py)


@dataclass
class _Sweep:
    targets: list[Target]
    timeout_s: float
    per_address: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    waiting: collections.deque = field(default_factory=collections.deque)
    active: dict[socket.socket, tuple[int, int, str, float]] = field(default_factory=dict)
    order: collections.deque = field(default_factory=collections.deque)

    def queue(self, indexes: list[int], resolution: resolve.Resolution) -> None:
        for i in indexes:
            self.per_address[i] = {}
            for j, (family, address) in enumerate(resolution.addresses):
                self.waiting.append((i, j, family, address))

    def record(self, i: int, j: int, address: str, started: float,
               verdict: tuple[str, str, str]) -> None:
        state, reason, sender = verdict
        self.per_address[i][j] = {"address": address, "state": state, "reason": reason,
                                  "latency_ms": round((time.monotonic() - started) * 1000, 1),
                                  **({"icmp_from": sender} if sender else {})}

    def launch(self, selector: selectors.BaseSelector, budget: int) -> None:
        while self.waiting and len(self.active) < budget:
            i, j, family, address = self.waiting.popleft()
            started = time.monotonic()
            try:
                sock, code = connect.start(family, (address, self.targets[i].port))
            except OSError as exc:  # EMFILE despite the budget, or no such family here
                self.record(i, j, address, started,
                            (ReachState.ERROR, f"socket: {exc.strerror}", ""))
                continue
            if code in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                self.active[sock] = (i, j, address, started)
                self.order.append((started + self.timeout_s, sock))
                selector.register(sock, selectors.EVENT_WRITE)
            else:
                self.record(i, j, address, started, connect.classify(sock, code))
                sock.close()

    def finish(self, selector: selectors.BaseSelector, sock: socket.socket,
               verdict: tuple[str, str, str] | None = None) -> None:
        if verdict is None:
            code, icmp = connect.settled(sock)
            if code is None:
                return  # woken, but still connecting
            verdict = connect.classify(sock, code, icmp)
        i, j, address, started = self.active.pop(sock)
        self.record(i, j, address, started, verdict)
        if verdict[1] == "no-response":
            self.per_address[i][j]["latency_ms"] = round(self.timeout_s * 1000, 1)
        selector.unregister(sock)
        sock.close()


def sweep(targets: list[Target], timeout_s: float, *, canary: bool = True,
          config: dnswire.ResolverConfig | None = None) -> list[Probe]:
    """Probe every target concurrently; returns one Probe per target, in the given order."""
    config = config or dnswire.resolver_config()
    budget = connect.open_file_budget()
    state = _Sweep(targets, timeout_s)
    by_host: dict[str, list[int]] = {}
    resolved: dict[str, resolve.Resolution] = {}
    for i, target in enumerate(targets):
        by_host.setdefault(target.host, []).append(i)
    names = [h for h in by_host if resolve.literal(h) is None]
    for host in by_host:
        if host not in names:
            resolved[host] = cast(resolve.Resolution, resolve.literal(host))
            state.queue(by_host[host], resolved[host])
    bait = dnswire.canary_name() if canary and names else ""
    pool = resolve.Pool(names + ([bait] if bait else []), config, threads=budget // 4)
    selector = selectors.DefaultSelector()
    targets_done_at = 0.0
    try:
        while pool.outstanding or state.waiting or state.active:
            now = time.monotonic()
            if pool.outstanding == {bait} and not (state.waiting or state.active):
                targets_done_at = targets_done_at or now
                if now - targets_done_at > CANARY_GRACE_S:
                    break  # a canary slower than every real name: no hijack verdict
            for resolution in pool.take() + pool.expired(now):
                resolved[resolution.host] = resolution
                if resolution.ok and resolution.host != bait:
                    state.queue(by_host[resolution.host], resolution)
            state.launch(selector, budget)
            wake = [state.order[0][0]] if state.order else []
            if pool.outstanding:
                wake.append(now + 0.02)  # look for fresh resolutions soon
            wait = max(0.0, min(wake) - time.monotonic()) if wake else 0.0
            for key, _ in (selector.select(wait) if state.active else _sleep(wait)):
                state.finish(selector, cast(socket.socket, key.fileobj))
            now = time.monotonic()
            while state.order and state.order[0][0] <= now:
                _deadline, sock = state.order.popleft()
                if sock in state.active:
                    state.finish(selector, sock, (ReachState.FILTERED, "no-response", ""))
    finally:
        for sock in list(state.active):
            sock.close()
        selector.close()
    flat = [(v, targets[i].port) for i in state.per_address
            for v in state.per_address[i].values()]
    route.explain([v for v, _p in flat], [p for _v, p in flat], timeout_s)
    route.family_gap([v for v, _p in flat])
    trap = resolved.get(bait) if bait else None
    trapped = {a for _f, a in trap.addresses} if trap is not None and trap.ok else set()
    return [_probe(t, resolved[t.host], state.per_address.get(i, {}), trapped)
            for i, t in enumerate(targets)]


def _sleep(seconds: float) -> list:
    time.sleep(seconds)
    return []


def _probe(target: Target, resolution: resolve.Resolution, per_address: dict[int, dict],
           trapped: set[str]) -> Probe:
    if not resolution.ok:
        reason = UNRESOLVED.get(resolution.outcome, "dns-error")
        return Probe(target, ReachState.UNRESOLVED, reason, 0.0, dns=resolution)
    verdicts = [per_address[j] for j in sorted(per_address)]
    best = min(verdicts, key=lambda v: STATE_RANK[v["state"]])
    hijacked = sorted(trapped & {v["address"] for v in verdicts})
    return Probe(target, best["state"], best["reason"], best["latency_ms"], best["address"],
                 verdicts if len(verdicts) > 1 else [], resolution, hijacked,
                 best.get("icmp_from", ""), best.get("route", {}))


def to_finding(probe: Probe, slow_dns_s: float = DNS_SLOW_S) -> Finding:
    t = probe.target
    words = {"host": t.host, "port": t.port, "reason": probe.reason,
             "icmp_from": probe.icmp_from or "a router on the way",
             "dns_s": f"{(probe.dns.ms if probe.dns else 0) / 1000:.1f}"}
    status = Status.OK if probe.state == ReachState.OPEN else (
        Status.ERROR if probe.state == ReachState.ERROR else Status.FAIL)
    template = SUMMARIES[probe.state]
    if probe.state == ReachState.FILTERED:
        template = FILTERED_BY_REASON.get(probe.reason, template)
    if probe.route:
        words.update(probe.route)
        literal = probe.dns is not None and probe.dns.outcome == "literal"
        template = ROUTE_SUMMARIES.get((probe.reason, literal),
                                       ROUTE_SUMMARIES.get(probe.reason, template))
    summary = template.format(**words)
    if probe.state == ReachState.UNRESOLVED and probe.dns:
        summary += f" ({UNRESOLVED_WORDS.get(probe.reason, probe.reason)}, {words['dns_s']} s)"
    elif probe.state in (ReachState.OPEN, ReachState.CLOSED):
        summary += f" ({probe.latency_ms:.0f} ms)"
    hint = HINTS.get((probe.state, probe.reason),
                     "Unexpected network error ({reason}); escalate with this finding.")
    if probe.route and probe.reason == "family-missing":
        hint = ROUTE_HINTS[(probe.reason, probe.route["missing"])]
    elif probe.route and probe.reason in ROUTE_HINTS:
        hint = ROUTE_HINTS[probe.reason] + (
            BACKUP_NOTE if probe.reason == "gateway-down" and "backup" in probe.route else "")
    hint = "" if status == Status.OK else hint.format(**words)
    notes: list[tuple[str, str]] = []
    if probe.hijacked:
        notes.append(hijack_note(t.host, probe.hijacked))
    dead = [v for v in probe.addresses if v["state"] != ReachState.OPEN]
    if probe.state == ReachState.OPEN and dead:
        notes.append(dead_note(t.host, probe.addresses))
    if probe.dns and probe.dns.ok and probe.dns.outcome == "answer" and \
            probe.dns.ms > slow_dns_s * 1000:
        notes.append((f"looking up {t.host} took {words['dns_s']} s (slow DNS)",
                      "Slow DNS delays every connection by that much: run 'fieldkit diag -c "
                      "dns' to see which resolver is slow or dead."))
    if notes:
        status = Status.FAIL if probe.hijacked or status != Status.OK else Status.WARN
        summary = "; ".join([summary] + [n[0] for n in notes])
        hint = " ".join(([] if probe.hijacked else [hint]) + [n[1] for n in notes]).strip()
    return Finding("reach", t.text, status, summary, hint, _data(probe))


UNRESOLVED_WORDS = {"nxdomain": "NXDOMAIN", "dns-timeout": "no answer from DNS",
                    "dns-servfail": "the DNS server answered SERVFAIL",
                    "dns-refused": "the DNS server answered REFUSED",
                    "dns-port-closed": "DNS port closed", "dns-unreachable": "no route to DNS",
                    "dns-udp-blocked": "DNS over UDP blocked, TCP answers",
                    "dns-tcp-blocked": "DNS answers over UDP only, use-vc asks over TCP",
                    "dns-error": "lookup failed"}


def _data(probe: Probe) -> dict[str, Any]:
    t = probe.target
    data: dict[str, Any] = {"state": probe.state, "reason": probe.reason,
                            "latency_ms": probe.latency_ms, "host": t.host, "port": t.port,
                            "address": probe.address}
    if probe.addresses:
        data["addresses"] = probe.addresses
    if probe.icmp_from:
        data["icmp_from"] = probe.icmp_from
    if probe.route:
        data["route"] = probe.route
    if probe.dns is not None and probe.dns.outcome != "literal":
        data["dns"] = {"outcome": probe.dns.outcome, "ms": round(probe.dns.ms, 1),
                       "addresses": [a for _f, a in probe.dns.addresses]}
    if probe.hijacked:
        data["dns_hijacked"] = probe.hijacked
    return data


def skipped(target: Target, why: str) -> Finding:
    """A target that was validated but, by policy, not probed (``--no-probe``)."""
    return Finding("reach", target.text, Status.SKIP, f"{target.host}:{target.port} not probed "
                   f"({why})", data={"host": target.host, "port": target.port,
                                     "state": ReachState.NOT_PROBED})


def run(job: Job, context: CheckContext, password: str | None = None) -> list[Finding]:
    """``diag reach``: every target probed once (duplicates merged, and counted)."""
    unique, given = merge_duplicates([parse_target(t) for t in job.targets])
    if context.probe:
        slow = context.number("dns_slow_s") or DNS_SLOW_S
        found = [to_finding(p, slow) for p in sweep(unique, job.seconds())]
    else:
        found = [skipped(t, job.no_probe_reason) for t in unique]
    for finding, target in zip(found, unique, strict=True):
        if given[target.key] > 1:
            finding.data["given"] = given[target.key]  # duplicates merged: probed once
    return found
