"""Mail server checks: reachability, greeting, capabilities, STARTTLS, certificate, login.

"I can't send mail" is a reachability, TLS or login problem far more often than a client one;
this module tells which, per port. Targets are URLs (``submission://mail.example.com``,
``imaps://[2001:db8::1]:993``) or a bare host meaning all seven standard ports.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fieldkit.diagnostics import tls
from fieldkit.diagnostics.mailproto import AUTH_TIMEOUT_S, Plan, ProtocolError, Session, converse
from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.reach import (
    HINTS,
    HOSTNAME_RE,
    SUMMARIES,
    Probe,
    Target,
    sweep,
)
from fieldkit.diagnostics.runner import run_concurrently
from fieldkit.errors import InputError

# scheme -> (protocol, default port, TLS from the first byte)
SCHEMES = {
    "smtp": ("smtp", 25, False), "submission": ("smtp", 587, False),
    "smtps": ("smtp", 465, True), "imap": ("imap", 143, False), "imaps": ("imap", 993, True),
    "pop3": ("pop3", 110, False), "pop3s": ("pop3", 995, True),
}

NO_STARTTLS_HINT = ("The server offers no STARTTLS: mail (and any password) travels unencrypted. "
                    "Use the TLS port ({alt}) in the client, or escalate to the mail admin.")
PLAINTEXT_HINT = ("The server accepts a login before encryption is on: a misconfigured client "
                  "may send the password in clear. Configure clients for STARTTLS/SSL; tell "
                  "the mail admin (disable plaintext auth).")
EXPIRY_HINT = "The certificate expires in {days} days: tell the mail admin to renew it now."
AUTH_HINT = ("The server refused the login: check user name and password (caps lock, "
             "recently changed?), whether the account is locked, or escalate.")
PROTOCOL_HINT = ("Port {port} answers, but not as a {protocol} server should: wrong port for "
                 "this service, or something in between (proxy, firewall) interferes. Escalate.")
TLS_FAIL_HINT = ("The encrypted connection could not be set up ({detail}): the server or this "
                 "client may only support old/new TLS versions. Escalate to the mail admin.")
CERT_WORDS = {"self-signed": "self-signed certificate", "expired": "certificate expired",
              "hostname-mismatch": "certificate is for another name",
              "untrusted": "certificate from an unknown issuer",
              "error": "certificate cannot be verified"}
_ALT_PORT = {"smtp": "465 or 587", "imap": "993", "pop3": "995"}


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
    if "://" not in raw:
        _check_host(raw, text)
        return [MailTarget(f"{scheme}://{raw}", scheme, raw.strip("[]"), port)
                for scheme, (_p, port, _t) in SCHEMES.items()]
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InputError(f"mail target {text!r}: unknown scheme {parts.scheme!r} "
                         f"(use {', '.join(SCHEMES)})")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InputError(f"mail target {text!r}: give only scheme://host[:port]")
    try:
        port = parts.port or SCHEMES[scheme][1]
    except ValueError:
        raise InputError(f"mail target {text!r}: port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise InputError(f"mail target {text!r} has no host")
    _check_host(parts.hostname, text)
    return [MailTarget(raw, scheme, parts.hostname, port)]


def _check_host(host: str, text: str) -> None:
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
        return
    except ValueError:
        pass
    if ":" in host:
        raise InputError(f"mail target {text!r}: for a non-standard port give a URL, e.g. "
                         "smtp://host:2525")
    if not HOSTNAME_RE.match(host):
        raise InputError(f"mail target {text!r}: {host!r} is not a valid host name")


def check_mail(targets: list[MailTarget], timeout_s: float, cafile: str | None = None,
               credentials: tuple[str, str] | None = None) -> list[Finding]:
    probes = sweep([Target(t.text, t.host, t.port) for t in targets], timeout_s)
    budget = timeout_s * 8 + (AUTH_TIMEOUT_S if credentials else 0)
    tasks = [(str(i), _examiner(t, p, timeout_s, cafile, credentials), budget)
             for i, (t, p) in enumerate(zip(targets, probes, strict=True)) if p.state == "open"]
    results = run_concurrently(tasks)
    findings = []
    for i, (target, probe) in enumerate(zip(targets, probes, strict=True)):
        outcome = results.get(str(i))
        if probe.state != "open":
            findings.append(_unreachable(target, probe))
        elif isinstance(outcome, Finding):
            findings.append(outcome)
        else:  # an exception, or the examination outlived its budget (TimeoutError)
            findings.append(_broken(target, probe, outcome or TimeoutError()))
    return findings


def _examiner(target: MailTarget, probe: Probe, timeout_s: float, cafile: str | None,
              credentials: tuple[str, str] | None):
    def examine() -> Finding:
        plan = Plan(target.protocol, target.host, target.implicit_tls,
                    tls.verifying_context(cafile), "ok", credentials)
        try:
            session = _dialogue(probe.address, target.port, plan, timeout_s)
        except ssl.SSLCertVerificationError as exc:
            # look again to read the certificate, never with the password
            plan = Plan(target.protocol, target.host, target.implicit_tls,
                        tls.inspection_context(), tls.verdict_of(exc))
            session = _dialogue(probe.address, target.port, plan, timeout_s)
            if session.tls is not None:
                session.tls["verify_detail"] = exc.verify_message
            if credentials:
                session.auth = "skipped: certificate not verified, no password sent"
        return assess(target, probe, session, credentials is not None)

    return examine


def _dialogue(address: str, port: int, plan: Plan, timeout_s: float) -> Session:
    with socket.create_connection((address, port), timeout=timeout_s) as sock:
        return converse(sock, plan)


def _base_data(target: MailTarget, probe: Probe) -> dict[str, Any]:
    return {"state": probe.state, "reason": probe.reason, "latency_ms": probe.latency_ms,
            "scheme": target.scheme, "host": target.host, "port": target.port,
            "address": probe.address}


def _unreachable(target: MailTarget, probe: Probe) -> Finding:
    hint = HINTS.get((probe.state, probe.reason), "Unexpected network error; escalate.")
    return Finding("mail", target.text, Status.FAIL,
                   SUMMARIES[probe.state].format(host=target.host, port=target.port),
                   hint.format(host=target.host, port=target.port), _base_data(target, probe))


def _broken(target: MailTarget, probe: Probe, exc: BaseException) -> Finding:
    data = _base_data(target, probe)
    if isinstance(exc, ProtocolError):
        return Finding("mail", target.text, Status.FAIL, str(exc),
                       PROTOCOL_HINT.format(port=target.port, protocol=target.protocol.upper()),
                       data)
    if isinstance(exc, ssl.SSLError):
        detail = exc.reason or str(exc)
        data["tls"] = {"verify": "error", "verify_detail": detail}
        return Finding("mail", target.text, Status.FAIL, f"TLS handshake failed ({detail})",
                       TLS_FAIL_HINT.format(detail=detail), data)
    what = "timed out" if isinstance(exc, TimeoutError) else f"failed: {exc}"
    return Finding("mail", target.text, Status.FAIL, f"the mail dialogue {what}",
                   PROTOCOL_HINT.format(port=target.port, protocol=target.protocol.upper()), data)


def assess(target: MailTarget, probe: Probe, session: Session, auth_asked: bool) -> Finding:
    data = _base_data(target, probe)
    data.update(banner=session.banner, capabilities=session.capabilities_tls or
                session.capabilities, plaintext_login=session.plaintext_login, tls=session.tls)
    if not target.implicit_tls:
        data["starttls"] = bool(session.starttls)
    if auth_asked:
        data["auth"] = session.auth or "skipped: no TLS, fieldkit never sends a password in clear"
    problems: list[tuple[Status, str, str]] = []
    notes = []
    if not target.implicit_tls and not session.starttls:
        problems.append((Status.WARN, "no STARTTLS",
                         NO_STARTTLS_HINT.format(alt=_ALT_PORT[target.protocol])))
    if session.plaintext_login:
        problems.append((Status.WARN, "login offered without TLS", PLAINTEXT_HINT))
    if session.tls:
        info = session.tls
        if info["verify"] != "ok":
            words = f"{CERT_WORDS[info['verify']]} ({info.get('version')})"
            problems.append((Status.FAIL, words,
                             tls.VERIFY_HINTS[info["verify"]].format(
                                 host=target.host, detail=info.get("verify_detail", ""))))
        elif info.get("days_left") is not None and info["days_left"] < tls.EXPIRY_WARN_DAYS:
            problems.append((Status.WARN, f"certificate expires in {info['days_left']} days",
                             EXPIRY_HINT.format(days=info["days_left"])))
        else:
            notes.append(f"{info.get('version')}, certificate valid for {info.get('days_left')} "
                         "more days")
    if data.get("auth", "").startswith("rejected"):
        problems.append((Status.FAIL, "login rejected", AUTH_HINT))
    elif data.get("auth") == "ok":
        notes.append("login ok")
    status = Status.OK
    for level in (Status.FAIL, Status.WARN):
        if any(p[0] == level for p in problems):
            status = level
            break
    summary = "; ".join([p[1] for p in problems] + notes) or "answers, no TLS details"
    hint = " ".join(p[2] for p in problems if p[0] in (Status.FAIL, Status.WARN))
    return Finding("mail", target.text, status, summary, hint, data)
