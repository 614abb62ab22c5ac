"""DNS: which resolvers are configured, does each answer (and how fast), does the name resolve?

Three different faults look the same to a user ("internet is down"): no resolver configured, a
resolver that does not answer, and a name that does not exist. The check asks each configured
resolver directly (a single A query over UDP, no library needed) so it can say which one is
silent, slow or answering with an error, then asks the system resolver the way applications
do - with the system's own patience (resolv.conf timeout x attempts), so a lookup that succeeds
after 5 s via the secondary resolver is reported as slow, not as a failure. A dead resolver
next to a working one is ``warn`` (every lookup waits for it first), not a DNS outage.

Each resolver is asked over the transport the system resolver uses (UDP, or TCP only with
``options use-vc``). When that transport gets no answer the other one is tried once: a resolver
that answers over TCP while UDP port 53 is dropped is a firewall fault, not a dead server.
"""

from __future__ import annotations

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.net import resolve
from fieldkit.diagnostics.registry import CheckContext, check
from fieldkit.diagnostics.runner import run_concurrently
from fieldkit.diagnostics.wire import dns as dnswire
from fieldkit.diagnostics.wire.dns import Answer, configured_resolvers

__all__ = ["Answer", "configured_resolvers", "dns", "assess_resolver", "assess_system"]
DEFAULT_NAME = "example.com"
SLOW_S = 1.0

NO_RESOLVER_HINT = ("No DNS server is configured, so no name can be looked up: reconnect to the "
                    "network (DHCP sets the DNS servers) or fix the static network settings.")
TIMEOUT_HINT = ("The DNS server {server} does not answer: if it is the router or a company "
                "server, check it is up; try the other resolver; escalate if all are silent.")
DEAD_BESIDE_HINT = ("{server} {did} but {good} answers: every lookup first waits for {server} "
                    "(up to {wait:.0f} s). Remove or fix {server} in the network settings (DHCP "
                    "or static), or escalate to whoever runs it.")
USELESS_BESIDE_HINT = ("{server} {did} but {good} answers: lookups work, as the system moves on "
                       "to the next server at once, but {server} is of no use. Remove or fix "
                       "{server} in the network settings (DHCP or static), or escalate to "
                       "whoever runs it.")
# what a failing resolver did, in words (an rcode: "answers SERVFAIL")
DID = {"timeout": "does not answer", "refused": "has its DNS port closed",
       "unreachable": "cannot be reached (no route)", "tcp-only": "does not answer over UDP",
       "udp-only": "does not answer over TCP"}
SLOW_HINT = ("The DNS server {server} answers, but slowly ({ms:.0f} ms): every new connection "
             "waits that long. Check its load and its upstream connection, or escalate.")
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
SYSTEM_SLOW_HINT = ("Name lookups work but take {s:.1f} s{why}: every new connection waits "
                    "that long. See the resolver findings above.")
TCP_ONLY_HINT = ("Something between here and {server} blocks DNS over UDP (port 53) but lets TCP "
                 "through, and applications ask over UDP: ask whoever runs the firewall or "
                 "router to allow UDP port 53 to {server} (escalate). Stopgap: 'options use-vc' "
                 "in resolv.conf makes this machine ask over TCP.")
UDP_ONLY_HINT = ("This machine asks DNS over TCP only ('options use-vc' in resolv.conf or "
                 "RES_OPTIONS) but {server} answers only over UDP: remove use-vc, or have TCP "
                 "port 53 allowed to and served by {server} (escalate).")
# resolver outcome -> (summary, hint); anything else is a failing resolver (SERVFAIL, REFUSED...)
RESOLVER_VERDICTS = {
    "nxdomain": ("{server}: {name} does not exist (NXDOMAIN)", NXDOMAIN_HINT),
    "timeout": ("{server} is not answering (timeout after {wait:.0f} s)", TIMEOUT_HINT),
    "unreachable": ("{server} cannot be reached (no route)", UNREACHABLE_HINT),
    "refused": ("{server}: no DNS service (port closed)", REFUSED_HINT),
    "tcp-only": ("{server} answers over TCP ({ms:.0f} ms) but not over UDP ({failed}): UDP is "
                 "blocked", TCP_ONLY_HINT),
    "udp-only": ("{server} answers over UDP ({ms:.0f} ms) but not over TCP ({failed}), which "
                 "this machine uses (use-vc)", UDP_ONLY_HINT),
}
# how the transport the system uses failed, for "tcp-only" / "udp-only"
TRANSPORT_FAILURES = {"timeout": "no answer", "refused": "port closed"}
RESOLVER_FAILING = ("{server} fails to resolve: it answered {outcome} in {ms:.0f} ms",
                    SERVFAIL_HINT)
# the resolver outcome behind each system failure: the hint names the server that did it
SYSTEM_TO_RESOLVER = {"no-answer": "timeout", "dns-port-closed": "refused",
                      "dns-unreachable": "unreachable", "dns-udp-blocked": "tcp-only",
                      "dns-tcp-blocked": "udp-only"}
# what the system lookup's failure was, by the resolution outcome (see net/resolve.py)
SYSTEM_FAILURES = {
    "no-answer": ("looking up {name} timed out: no resolver answers", SYSTEM_TIMEOUT_HINT),
    "SERVFAIL": ("looking up {name} failed: the DNS server answered SERVFAIL (in {ms:.0f} ms, "
                 "not a timeout)", SERVFAIL_HINT),
    "REFUSED": ("looking up {name} failed: the DNS server answered REFUSED (in {ms:.0f} ms, "
                "not a timeout)", SERVFAIL_HINT),
    "dns-port-closed": ("looking up {name} failed: no DNS service on the configured server",
                        REFUSED_HINT),
    "dns-unreachable": ("looking up {name} failed: no route to the DNS server", UNREACHABLE_HINT),
    "dns-udp-blocked": ("looking up {name} failed: the DNS server does not answer over UDP, "
                        "which this machine uses", TCP_ONLY_HINT),
    "dns-tcp-blocked": ("looking up {name} failed: the DNS server does not answer over TCP "
                        "(use-vc), which this machine uses", UDP_ONLY_HINT),
}


@check("dns", domain="network", description="resolvers configured, answering (how fast), test "
       "name resolves", timeout_s=70.0)
def dns(ctx: CheckContext) -> list[Finding]:
    name = ctx.text("dns_name")
    slow = ctx.number("dns_slow_s") or SLOW_S
    config = dnswire.resolver_config()
    timeout = ctx.number("dns_timeout_s") or config.timeout_s
    servers = config.servers
    findings: list[Finding] = []
    if servers is not None:
        if not servers:
            return [Finding("dns", "resolv.conf", Status.FAIL, "no DNS resolver configured",
                            NO_RESOLVER_HINT, {"resolvers": []})]
        findings.append(Finding("dns", "resolv.conf", Status.OK,
                                f"resolvers: {', '.join(servers)}" + (
                                    " (asked over TCP only: use-vc)" if config.tcp else ""),
                                data={"resolvers": servers, "timeout_s": config.timeout_s,
                                      "attempts": config.attempts, "use_vc": config.tcp}))
    if not ctx.probe:
        return findings
    wait = timeout * config.attempts
    tasks = [(server, _asker(server, name, timeout, config.attempts, config.tcp),
              wait + timeout + 2) for server in servers or []]
    tasks.append(("system", lambda: resolve.lookup(name, config), resolve.deadline_s(config)))
    results = run_concurrently(tasks)
    answers = {s: _as_answer(results[s], wait) for s in servers or []}
    working = [s for s, a in answers.items() if a.outcome in ("answer", "nxdomain")]
    for server in servers or []:
        findings.append(assess_resolver(server, name, answers[server], slow, working, wait))
    failing = {s: answers[s].outcome for s in servers or [] if s not in working}
    findings.append(assess_system(name, results["system"], slow, failing))
    return findings


def did(outcome: str) -> str:
    """What a resolver did, in words: each is named by its own outcome, never by another's."""
    if outcome in DID:
        return DID[outcome]
    return f"fails ({outcome[7:]})" if outcome.startswith("error: ") else f"answers {outcome}"


def _asker(server: str, name: str, timeout: float, attempts: int, tcp: bool):
    return lambda: dnswire.probe(server, name, timeout, attempts, tcp)


def _as_answer(result: object, wait: float) -> Answer:
    if isinstance(result, Answer):
        return result
    if isinstance(result, TimeoutError):
        return Answer("timeout", ms=wait * 1000)
    return Answer(f"error: {result}")


def assess_resolver(server: str, name: str, result: Answer, slow_s: float = SLOW_S,
                    working: list[str] | None = None, wait_s: float = 2.0) -> Finding:
    data = {"server": server, "name": name, "outcome": result.outcome,
            "addresses": result.addresses, "ms": round(result.ms, 1)}
    subject = f"resolver {server}"
    if result.outcome == "answer":
        found = ', '.join(result.addresses) or 'no IPv4 address'
        if result.tcp:
            found += " over TCP"
        if result.ms > slow_s * 1000:
            return Finding("dns", subject, Status.WARN, f"{server} resolves {name} -> {found}, "
                           f"but slowly ({result.ms / 1000:.1f} s)",
                           SLOW_HINT.format(server=server, ms=result.ms), data)
        return Finding("dns", subject, Status.OK, f"{server} resolves {name} -> {found} "
                       f"({result.ms:.0f} ms)", data=data)
    summary, hint = RESOLVER_VERDICTS.get(result.outcome, RESOLVER_FAILING)
    fill = {"server": server, "name": name, "outcome": result.outcome, "rcode": result.outcome,
            "ms": result.ms, "wait": wait_s, "failed": TRANSPORT_FAILURES.get(result.failed, ""),
            "did": did(result.outcome)}
    if result.failed:
        data["failed"] = result.failed
    others = [s for s in working or [] if s != server]
    if result.outcome != "nxdomain" and others:
        waits = (result.failed or result.outcome) == "timeout"
        return Finding("dns", subject, Status.WARN, summary.format(**fill) + f"; {others[0]} "
                       "answers", (DEAD_BESIDE_HINT if waits else USELESS_BESIDE_HINT).format(
                           good=others[0], **fill), data)
    return Finding("dns", subject, Status.FAIL, summary.format(**fill), hint.format(**fill), data)


def assess_system(name: str, result: object, slow_s: float = SLOW_S,
                  failing: dict[str, str] | None = None) -> Finding:
    """``failing``: each resolver that did not work, with its own outcome."""
    failing = failing or {}
    kinds = set(failing.values())
    kind = kinds.pop() if len(kinds) == 1 else ""
    if not isinstance(result, resolve.Resolution):
        result = resolve.Resolution(name, "no-answer")
    outcome = "timeout" if result.outcome == "no-answer" else result.outcome
    addresses = [a for _f, a in result.addresses]
    data = {"name": name, "outcome": outcome, "addresses": addresses, "ms": round(result.ms, 1)}
    if result.ok:
        if result.ms > slow_s * 1000:
            why = f" ({', '.join(f'{s} {did(o)}' for s, o in failing.items())})" \
                if failing else ""
            return Finding("dns", name, Status.WARN, f"{name} resolves to {', '.join(addresses)}"
                           f", but the lookup took {result.ms / 1000:.1f} s",
                           SYSTEM_SLOW_HINT.format(s=result.ms / 1000, why=why), data)
        return Finding("dns", name, Status.OK, f"{name} resolves to {', '.join(addresses)}",
                       data=data)
    if result.outcome == "nxdomain":
        return Finding("dns", name, Status.FAIL, f"{name} does not exist (name not found)",
                       NXDOMAIN_HINT.format(name=name), data)
    if result.outcome in ("no-answer", "dns-port-closed") and failing and kind in (
            "tcp-only", "udp-only"):
        over = "UDP" if kind == "tcp-only" else "TCP (use-vc)"
        return Finding("dns", name, Status.FAIL, f"looking up {name} failed: the DNS server "
                       f"does not answer over {over}, which this machine uses",
                       RESOLVER_VERDICTS[kind][1].format(server=next(iter(failing))), data)
    if result.outcome in SYSTEM_FAILURES:
        summary, hint = SYSTEM_FAILURES[result.outcome]
        said = SYSTEM_TO_RESOLVER.get(result.outcome, result.outcome)
        server = next((s for s, o in failing.items() if o == said), next(iter(failing),
                                                                         "the DNS server"))
        return Finding("dns", name, Status.FAIL, summary.format(name=name, ms=result.ms),
                       hint.format(server=server, rcode=result.outcome), data)
    return Finding("dns", name, Status.FAIL,
                   f"looking up {name} failed: {result.detail or outcome}",
                   "Name lookups fail: check the dns findings above, then escalate.", data)
