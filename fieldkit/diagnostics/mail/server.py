"""Mail server checks: reachability, greeting, capabilities, STARTTLS, certificate, login.

"I can't send mail" is a reachability, TLS or login problem far more often than a client one;
this module tells which, per port, and how far the dialogue got (connect, banner, EHLO,
STARTTLS accepted, handshake, login). Before it blames a server for an expired certificate it
asks whether this machine's clock is the one that is wrong; in a network whose DNS is hijacked
(captive portal) it says so instead of blaming the service. Targets are URLs
(``submission://mail.example.com``, ``imaps://[2001:db8::1]:993``) or a bare host meaning all
seven standard ports.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fieldkit import RELEASE_DATE
from fieldkit.diagnostics.host import timesource
from fieldkit.diagnostics.mail import texts as words
from fieldkit.diagnostics.mail.proto import (
    AUTH_TIMEOUT_S,
    STEP_WORDS,
    DialogueError,
    Plan,
    Refused,
    Session,
    converse,
)
from fieldkit.diagnostics.model import Finding, ReachState, Status, worst
from fieldkit.diagnostics.net import tls
from fieldkit.diagnostics.net.reach import Probe, sweep
from fieldkit.diagnostics.net.reachtext import HINTS, SUMMARIES, hijack_note
from fieldkit.diagnostics.net.targets import Target, ascii_host, host_problem, parse_port
from fieldkit.diagnostics.runner import run_concurrently
from fieldkit.errors import InputError

if TYPE_CHECKING:
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.registry import CheckContext

# scheme -> (protocol, default port, TLS from the first byte)
SCHEMES = {
    "smtp": ("smtp", 25, False), "submission": ("smtp", 587, False),
    "smtps": ("smtp", 465, True), "imap": ("imap", 143, False), "imaps": ("imap", 993, True),
    "pop3": ("pop3", 110, False), "pop3s": ("pop3", 995, True),
}
WRONG_CLOCK_S = 300.0  # as system.clock: beyond this the clock is wrong, not merely imprecise
ClockAsk = Callable[[], "tuple[timesource.Reading | None, list[str]]"]


@dataclass(frozen=True)
class MailTarget:
    text: str
    scheme: str
    host: str
    port: int

    @property
    def protocol(self) -> str:
        return SCHEMES[self.scheme][0]

    @property
    def implicit_tls(self) -> bool:
        return SCHEMES[self.scheme][2]


def parse_mail_target(text: str) -> list[MailTarget]:
    raw = text.strip()
    if not raw:
        raise InputError("empty mail target: give a URL like submission://mail.example.com or "
                         "a host name")
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    if len(raw) > 1100:
        raise InputError(f"mail target {shown!r} is too long")
    if "://" not in raw:
        _check_host(raw, shown)
        return [MailTarget(f"{scheme}://{raw}", scheme, ascii_host(raw.strip("[]")), port)
                for scheme, (_p, port, _t) in SCHEMES.items()]
    scheme, _, rest = raw.partition("://")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise InputError(f"mail target {shown!r}: unknown scheme {scheme!r} "
                         f"(use {', '.join(SCHEMES)})")
    netloc, slash, path = rest.partition("/")
    if path or any(c in netloc for c in "?#@"):
        raise InputError(f"mail target {shown!r}: give only scheme://host[:port]")
    host, port = _split_netloc(netloc, shown, SCHEMES[scheme][1])
    _check_host(host, shown)
    return [MailTarget(raw, scheme, ascii_host(host.strip("[]")), port)]


def _split_netloc(netloc: str, shown: str, default: int) -> tuple[str, int]:
    if netloc.startswith("["):
        host, sep, after = netloc.partition("]")
        host += sep
        port_text = after[1:] if after.startswith(":") else None
        if after and port_text is None:
            raise InputError(f"mail target {shown!r}: write IPv6 as [address]:port")
    elif ":" in netloc:
        host, _, port_text = netloc.rpartition(":")
    else:
        host, port_text = netloc, None
    if not host:
        raise InputError(f"mail target {shown!r} has no host")
    port = parse_port(port_text, f"mail target {shown!r}") if port_text is not None else default
    return host, port


def _check_host(host: str, shown: str) -> None:
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return
    except ValueError:
        pass
    if ":" in host:
        raise InputError(f"mail target {shown!r}: for a non-standard port give a URL, e.g. "
                         "smtp://host:2525")
    problem = host_problem(host)
    if problem:
        raise InputError(f"mail target {shown!r}: {host[:60]!r} is not a valid host name "
                         f"({problem})")


def merge_mail_duplicates(targets: list[MailTarget]) -> list[MailTarget]:
    seen: dict[tuple[str, str, int], MailTarget] = {}
    for t in targets:
        seen.setdefault((t.scheme, t.host.lower().rstrip("."), t.port), t)
    return list(seen.values())


def skipped(target: MailTarget, why: str) -> Finding:
    return Finding("mail", target.text, Status.SKIP, f"not probed ({why})",
                   data={"scheme": target.scheme, "host": target.host, "port": target.port,
                         "state": ReachState.NOT_PROBED})


def check_mail(targets: list[MailTarget], timeout_s: float, cafile: str | None = None,
               credentials: tuple[str, str] | None = None,
               clock: ClockAsk | None = None) -> list[Finding]:
    probes = sweep([Target(t.text, t.host, t.port) for t in targets], timeout_s)
    budget = timeout_s * 14 + (AUTH_TIMEOUT_S if credentials else 0)
    tasks = [(str(i), _examiner(t, p, timeout_s, cafile, credentials), budget)
             for i, (t, p) in enumerate(zip(targets, probes, strict=True))
             if p.state == ReachState.OPEN]
    results = run_concurrently(tasks)
    findings = []
    for i, (target, probe) in enumerate(zip(targets, probes, strict=True)):
        outcome = results.get(str(i))
        if probe.state != ReachState.OPEN:
            finding = _unreachable(target, probe)
        elif isinstance(outcome, Session):
            finding = assess(target, probe, outcome, credentials is not None, clock)
        elif isinstance(outcome, DialogueError):
            finding = broken(target, probe, outcome)
        else:  # an unexpected exception, or the examination outlived its budget
            finding = Finding("mail", target.text, Status.ERROR, f"the mail check broke: "
                              f"{outcome!r}", data=_base_data(target, probe))
        findings.append(_portal_aware(finding, probe))
    return findings


def _examiner(target: MailTarget, probe: Probe, timeout_s: float, cafile: str | None,
              credentials: tuple[str, str] | None) -> Callable[[], Session | DialogueError]:
    def plan(context: ssl.SSLContext, label: str, creds: tuple[str, str] | None) -> Plan:
        return Plan(target.protocol, target.host, target.implicit_tls, context, label, creds)

    def examine() -> Session | DialogueError:
        try:
            try:
                return converse(probe.address, target.port,
                                plan(tls.verifying_context(cafile), "ok", credentials), timeout_s)
            except ssl.SSLCertVerificationError as exc:
                # look again to read the certificate, never with the password
                session = converse(probe.address, target.port,
                                   plan(tls.inspection_context(), tls.verdict_of(exc), None),
                                   timeout_s)
                if session.tls is not None:
                    session.tls["verify_detail"] = exc.verify_message
                    tls.refine(session.tls, cafile is not None)
                if credentials:
                    session.auth = "skipped: certificate not verified, no password sent"
                return session
        except DialogueError as err:
            if err.session.current == "handshake" and isinstance(err.cause, ssl.SSLError):
                err.session.tls = {"offered_versions": _offered_versions(plan, probe.address,
                                                                         target.port, timeout_s)}
            return err

    return examine


def _offered_versions(plan: Callable[..., Plan], address: str, port: int,
                      timeout_s: float) -> list[str]:
    """One handshake per version, without verification or credentials: detection only."""
    offered = []
    for version in ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"):
        try:
            session = converse(address, port, plan(tls.version_probe_context(version),
                                                   "not-verified", None), timeout_s)
        except (DialogueError, ssl.SSLError, OSError, ValueError, KeyError):
            continue
        if session.tls:
            offered.append(version)
    return offered


def _base_data(target: MailTarget, probe: Probe) -> dict[str, Any]:
    return {"state": probe.state, "reason": probe.reason, "latency_ms": probe.latency_ms,
            "scheme": target.scheme, "host": target.host, "port": target.port,
            "address": probe.address}


def _portal_aware(finding: Finding, probe: Probe) -> Finding:
    if not probe.hijacked:
        return finding
    summary, hint = hijack_note(probe.target.host, probe.hijacked)
    finding.data["dns_hijacked"] = probe.hijacked
    return Finding("mail", finding.subject, Status.FAIL, f"{summary}; {finding.summary}", hint,
                   finding.data)


def _unreachable(target: MailTarget, probe: Probe) -> Finding:
    hint = HINTS.get((probe.state, probe.reason), "Unexpected network error; escalate.")
    fill = {"host": target.host, "port": target.port, "icmp_from": probe.icmp_from or "a router",
            "reason": probe.reason, "dns_s": f"{(probe.dns.ms if probe.dns else 0) / 1000:.1f}"}
    return Finding("mail", target.text, Status.FAIL, SUMMARIES[probe.state].format(**fill),
                   hint.format(**fill), _base_data(target, probe))


def _reached(session: Session) -> str:
    return ", ".join(STEP_WORDS.get(s, s) for s in session.steps) or "nothing"


# OpenSSL's reasons that say the two sides share no TLS version: evidence, not a guess
VERSION_REASONS = frozenset({"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL",
                             "NO_PROTOCOLS_AVAILABLE", "VERSION_TOO_LOW", "VERSION_TOO_HIGH",
                             "WRONG_SSL_VERSION"})
# a capability line an SMTP-inspecting firewall overwrote (Cisco: STARTTLS -> XXXXXXXA)
MASKED = re.compile(r"X{4,}[A-Z]?")


def broken(target: MailTarget, probe: Probe, err: DialogueError) -> Finding:
    session, cause = err.session, err.cause
    data = _base_data(target, probe)
    data.update(steps=session.steps, failed_step=session.current, banner=session.banner)
    # the step under way is the command, not its acceptance ("STARTTLS accepted failed")
    step = "STARTTLS" if session.current == "starttls" else STEP_WORDS.get(session.current,
                                                                             session.current)
    reached = _reached(session)
    after = "after STARTTLS was accepted" if "starttls" in session.steps else "after connect"
    if session.current == "starttls" and isinstance(cause, Refused):
        return Finding("mail", target.text, Status.FAIL, f"the server refuses STARTTLS right "
                       f"now ({cause}; worked: {reached})",
                       words.TLS_REFUSED_HINT.format(reply=cause), data)
    if session.current == "handshake" and isinstance(cause, TimeoutError):
        return Finding("mail", target.text, Status.FAIL, f"TLS handshake stalled {after} "
                       f"(worked: {reached})", words.STALL_HINT.format(reached=reached), data)
    offered = (session.tls or {}).get("offered_versions", [])
    detail = _detail(cause)
    if isinstance(cause, ssl.SSLError) or (session.current == "handshake" and _cut(cause)):
        data["tls"] = {"verify": "error", "verify_detail": detail, "offered_versions": offered}
    if isinstance(cause, ssl.SSLError) and offered and not set(offered) & set(
            tls.ACCEPTED_VERSIONS):  # evidence: the retries with other versions succeeded
        names = ", ".join(v.replace("TLSv", "TLS ") for v in offered)
        return Finding("mail", target.text, Status.FAIL, f"TLS handshake failed: the server "
                       f"offers only {names}, this machine requires TLS 1.2 or newer",
                       words.OLD_TLS_HINT.format(offered=names), data)
    if session.current == "handshake" and _cut(cause):
        return Finding("mail", target.text, Status.FAIL, f"the connection was cut {after}, "
                       f"before any TLS answer (worked: {reached})",
                       words.CUT_HINT.format(after=after, alt=_alt_port(target)), data)
    if isinstance(cause, ssl.SSLError):
        versions = f"; server offers {', '.join(offered)}" if offered else ""
        if cause.reason in VERSION_REASONS:  # evidence: the server's protocol_version alert
            return Finding("mail", target.text, Status.FAIL, f"TLS handshake failed: no TLS "
                           f"version in common ({detail}{versions})",
                           words.TLS_VERSION_HINT.format(detail=detail), data)
        return Finding("mail", target.text, Status.FAIL, f"TLS handshake failed ({detail}"
                       f"{versions})", words.TLS_FAIL_HINT.format(detail=detail), data)
    what = "timed out" if isinstance(cause, TimeoutError) else f"failed: {cause}"
    return Finding("mail", target.text, Status.FAIL, f"{step} {what} (worked: {reached})",
                   words.PROTOCOL_HINT.format(port=target.port,
                                              protocol=target.protocol.upper()), data)


def _cut(cause: BaseException) -> bool:
    """The peer hung up without a TLS word (no alert): EOF or reset, nothing to weigh."""
    if isinstance(cause, ssl.SSLError):
        return isinstance(cause, (ssl.SSLEOFError, ssl.SSLZeroReturnError)) or \
            cause.reason == "UNEXPECTED_EOF_WHILE_READING"
    return isinstance(cause, (ConnectionError, EOFError))


def _detail(cause: BaseException) -> str:
    return getattr(cause, "reason", None) or str(cause) or cause.__class__.__name__


def _alt_port(target: MailTarget) -> str:
    """The TLS port(s) to try instead; never the one just checked."""
    if target.protocol == "smtp":
        return {587: "465", 465: "587"}.get(target.port, words.ALT_PORT["smtp"])
    return words.ALT_PORT[target.protocol]


def assess(target: MailTarget, probe: Probe, session: Session, auth_asked: bool,
           clock: ClockAsk | None = None) -> Finding:
    data = _base_data(target, probe)
    data.update(banner=session.banner, capabilities=session.capabilities_tls or
                session.capabilities, plaintext_login=session.plaintext_login, tls=session.tls,
                steps=session.steps)
    if not target.implicit_tls:
        data["starttls"] = bool(session.starttls)
    if auth_asked:
        data["auth"] = session.auth or "skipped: no TLS, fieldkit never sends a password in clear"
    problems: list[tuple[Status, str, str]] = []
    notes: list[str] = []
    masked = [c for c in session.capabilities if MASKED.fullmatch(c.split(" ")[0])]
    if masked and not session.starttls and target.protocol == "smtp":
        data["masked_capabilities"] = masked
        problems.append((Status.FAIL, f"STARTTLS hidden by a firewall in between (the server's "
                         f"EHLO arrives as {', '.join(masked)}: SMTP inspection)",
                         words.MASKED_HINT.format(port=target.port)))
    elif not target.implicit_tls and not session.starttls:
        problems.append((Status.WARN, "no STARTTLS",
                         words.NO_STARTTLS_HINT.format(alt=_alt_port(target))))
    if session.plaintext_login:
        problems.append((Status.WARN, "login offered without TLS", words.PLAINTEXT_HINT))
    if session.tls:
        problems += _certificate(target, session.tls, clock, notes)
    auth = data.get("auth", "")
    if auth.startswith("rejected"):
        problems.append((Status.FAIL, "login rejected", words.AUTH_HINT))
    elif auth.startswith(("not offered", "not possible")):
        problems.append((Status.WARN, "no usable login", words.NO_AUTH_HINT.format(detail=auth)))
    elif auth.startswith("ok"):
        notes.append(f"login {auth}")
    status = worst((p[0] for p in problems), Status.OK)
    summary = "; ".join([p[1] for p in problems] + notes) or "answers, no TLS details"
    hint = " ".join(p[2] for p in problems if p[0] in (Status.FAIL, Status.WARN))
    return Finding("mail", target.text, status, summary, hint, data)


def _certificate(target: MailTarget, info: dict[str, Any], clock: ClockAsk | None,
                 notes: list[str]) -> list[tuple[Status, str, str]]:
    verify = info["verify"]
    if verify in ("expired", "not-yet-valid"):
        return [_dated(info, clock)]
    if verify != "ok":
        return [(Status.FAIL, f"{words.CERT_WORDS[verify]} ({info.get('version')})",
                 tls.VERIFY_HINTS[verify].format(host=target.host,
                                                 detail=info.get("verify_detail", "")))]
    if info.get("days_left") is not None and info["days_left"] < tls.EXPIRY_WARN_DAYS:
        return [(Status.WARN, f"certificate expires in {info['days_left']} days",
                 words.EXPIRY_HINT.format(days=info["days_left"]))]
    notes.append(f"{info.get('version')}, certificate valid for {info.get('days_left')} more days")
    return []


def _dated(info: dict[str, Any], clock: ClockAsk | None) -> tuple[Status, str, str]:
    """Expired or not yet valid: first ask whether our own clock is the one that is wrong."""
    reading, _reasons = clock() if clock else (None, [])
    now = datetime.now(UTC)
    shown = words.CERT_WORDS[info["verify"]]
    if reading is None and now < timesource.EARLIEST and info["verify"] == "not-yet-valid":
        # no source needed: the clock is impossible, and a clock in the past is exactly what
        # makes a certificate look not yet valid
        info.update(verify="clock", release_date=RELEASE_DATE)
        return (Status.FAIL, f"this machine's clock is certainly wrong: it says {now:%Y-%m-%d}, "
                f"before this fieldkit release was built ({RELEASE_DATE}); the certificate "
                "only looks not yet valid", words.CLOCK_IMPOSSIBLE_HINT.format(
                    now=f"{now:%Y-%m-%d}"))
    if reading is None:
        later = info["verify"] == "not-yet-valid"
        return (Status.FAIL, f"{shown} - or this machine's clock is wrong (no time source to "
                "compare)", (words.CLOCK_UNKNOWN_EARLY_HINT if later else
                             words.CLOCK_UNKNOWN_HINT).format(now=f"{now:%Y-%m-%d %H:%M} UTC"))
    real_now = now.timestamp() - reading.offset_s
    start = datetime.fromisoformat(info["not_before"]).timestamp()
    end = datetime.fromisoformat(info["not_after"]).timestamp()
    info["clock_offset_s"] = round(reading.offset_s, 1)
    if start <= real_now <= end:
        info["verify"] = "clock"
        offset = timesource.describe_offset(reading.offset_s)
        return (Status.FAIL, f"this machine's clock is {offset}: the certificate only looks "
                f"{'expired' if reading.offset_s > 0 else 'not yet valid'}",
                words.CLOCK_HINT.format(offset=offset, source=reading.source,
                                        not_after=info["not_after"]))
    clock_words = "this machine's clock is right"
    if abs(reading.offset_s) > WRONG_CLOCK_S:  # both are wrong: say both, fix the clock first
        clock_words = (f"for the real date too; this machine's clock is also "
                       f"{timesource.describe_offset(reading.offset_s)}")
    return (Status.FAIL, f"{shown} ({info.get('version')}; {clock_words})",
            tls.VERIFY_HINTS[info["verify"]])


def run(job: Job, context: CheckContext, password: str | None) -> list[Finding]:
    """``diag mail``: each server once; the clock asked before a certificate is blamed."""
    from fieldkit.diagnostics.host.clock import outside_time

    parsed = merge_mail_duplicates([t for text in job.targets for t in parse_mail_target(text)])
    if not context.probe:
        return [skipped(t, job.no_probe_reason) for t in parsed]
    user = job.options.get("user")
    credentials = (user, password or "") if user else None
    return check_mail(parsed, job.seconds(), job.options.get("ca_file"), credentials,
                      clock=lambda: outside_time(context))
