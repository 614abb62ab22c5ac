"""SMTP, IMAP and POP3 dialogues through the standard library, to check a server, never to send.

smtplib, imaplib and poplib handle what hand-written dialogues get wrong (continuation lines,
IMAP literals, AUTH mechanism negotiation: a LOGIN-only server gets LOGIN, not PLAIN). fieldkit
hands each library a socket it connected itself (to the address ``reach`` probed) and records
every step the dialogue reaches - connect, banner, EHLO/CAPABILITY/CAPA, STARTTLS accepted,
handshake, login - so a failure says how far it got. No MAIL FROM, no DATA: nothing is
delivered.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldkit.diagnostics.net import tls

if TYPE_CHECKING:  # imported where a dialogue runs: plain `fieldkit diag` never loads them
    import imaplib
    import poplib
    import smtplib

# servers delay answers to failed logins on purpose (dovecot: 2 s, growing per failure)
AUTH_TIMEOUT_S = 20.0
# smtplib.SMTP.login's own order; we loop ourselves only to report which one worked
SMTP_AUTH_PREFERENCE = ("CRAM-MD5", "PLAIN", "LOGIN")
STEP_WORDS = {"connect": "connect", "banner": "banner", "ehlo": "EHLO", "capability":
              "CAPABILITY", "capa": "CAPA", "starttls": "STARTTLS accepted", "handshake":
              "TLS handshake", "login": "login"}


class ProtocolError(Exception):
    """The server answered, but not the way a mail server of that kind should."""


class Refused(ProtocolError):
    """The server understood the command and said no (SMTP 4xx/5xx, IMAP NO/BAD, POP3 -ERR):
    at STARTTLS that is the server's own TLS trouble, not a wrong port."""


@dataclass
class Plan:
    protocol: str  # smtp, imap, pop3
    host: str
    implicit_tls: bool
    context: ssl.SSLContext
    verify_label: str  # what a successful handshake with this context means: ok / not-verified
    credentials: tuple[str, str] | None = None


@dataclass
class Session:
    banner: str = ""
    capabilities: list[str] = field(default_factory=list)
    capabilities_tls: list[str] = field(default_factory=list)
    starttls: bool | None = None
    plaintext_login: bool = False
    tls: dict[str, Any] | None = None
    auth: str | None = None
    steps: list[str] = field(default_factory=list)  # reached, in order
    current: str = ""  # the step under way (the one that failed, if the dialogue broke)

    def begin(self, step: str) -> None:
        if self.current:
            self.steps.append(self.current)
        self.current = step


class DialogueError(Exception):
    """The dialogue broke at ``session.current``; ``session.steps`` is what worked before."""

    def __init__(self, session: Session, cause: BaseException) -> None:
        super().__init__(f"{session.current}: {cause}")
        self.session, self.cause = session, cause


class _Recorder:
    """Stands in for the SSL context: the libraries call ``wrap_socket`` only once the server
    has accepted STARTTLS, so that call marks the step, and its return the handshake."""

    def __init__(self, plan: Plan, session: Session) -> None:
        self.plan, self.session = plan, session

    def wrap_socket(self, sock: socket.socket, **kwargs: Any) -> ssl.SSLSocket:
        self.session.begin("handshake")
        wrapped = self.plan.context.wrap_socket(sock, **kwargs)
        self.session.tls = tls.describe(wrapped, self.plan.verify_label)
        return wrapped


def converse(address: str, port: int, plan: Plan, timeout_s: float) -> Session:
    import imaplib
    import poplib
    import smtplib

    session = Session()
    try:
        session.begin("connect")
        sock = socket.create_connection((address, port), timeout=timeout_s)
        if plan.implicit_tls:
            sock = _Recorder(plan, session).wrap_socket(sock, server_hostname=plan.host)
        {"smtp": _smtp, "imap": _imap, "pop3": _pop3}[plan.protocol](
            sock, port, plan, session, timeout_s)
        session.begin("")
        return session
    except ssl.SSLCertVerificationError:
        raise  # mail.py looks again without verification, to say why
    except (smtplib.SMTPResponseException, poplib.error_proto) as exc:
        text = _text(exc)  # poplib says "-ERR EOF" for a connection closed mid-reply
        refused = isinstance(exc, smtplib.SMTPResponseException) or (
            text.startswith("-ERR") and text != "-ERR EOF")
        raise DialogueError(session, (Refused if refused else ProtocolError)(text)) from exc
    except imaplib.IMAP4.abort as exc:  # the connection broke, nothing was refused
        raise DialogueError(session, ProtocolError(_text(exc))) from exc
    except imaplib.IMAP4.error as exc:
        raise DialogueError(session, Refused(_text(exc))) from exc
    except smtplib.SMTPException as exc:
        raise DialogueError(session, ProtocolError(_text(exc))) from exc
    except (OSError, ProtocolError, EOFError) as exc:
        raise DialogueError(session, exc) from exc


def _leave(say_goodbye: Any, hang_up: Any) -> None:
    """End a dialogue without hiding why it ended: after a failed TLS handshake the socket is
    already closed, and a goodbye on it fails again; that must not replace the real error."""
    import imaplib
    import poplib
    import smtplib

    try:
        say_goodbye()
    except (smtplib.SMTPException, imaplib.IMAP4.error, poplib.error_proto, OSError, EOFError):
        try:
            hang_up()
        except OSError:
            pass


def _text(exc: BaseException) -> str:
    import smtplib

    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_decode(exc.smtp_error)}"
    if len(exc.args) == 1 and isinstance(exc.args[0], bytes):  # poplib hands over the reply
        return _decode(exc.args[0])
    return str(exc) or exc.__class__.__name__


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# -- SMTP ---------------------------------------------------------------------------------------


def _smtp(sock: socket.socket, port: int, plan: Plan, session: Session, timeout_s: float) -> None:
    import smtplib

    class Client(smtplib.SMTP):
        def __init__(self, sock: socket.socket, host: str, timeout_s: float) -> None:
            self._ready = sock
            super().__init__(local_hostname="fieldkit.invalid", timeout=timeout_s)
            # the name STARTTLS verifies; smtplib keeps it only when its constructor connects,
            # and we connect ourselves to read the banner as a step of its own
            self._host = host

        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            return self._ready

    smtp = Client(sock, plan.host, timeout_s)
    try:
        session.begin("banner")
        code, message = smtp.connect(plan.host, port)
        session.banner = f"{code} {_decode(message).splitlines()[0] if message else ''}"
        if code == -1:  # smtplib's mark for a reply that does not start with a code
            raise ProtocolError(f"not an SMTP greeting: {session.banner[3:80]!r}")
        if code != 220:
            raise ProtocolError(f"the server refuses connections: {session.banner}")
        session.capabilities = _ehlo(smtp, session, "ehlo")
        if plan.implicit_tls:
            session.capabilities_tls = session.capabilities
        else:
            session.starttls = smtp.has_extn("starttls")
            session.plaintext_login = smtp.has_extn("auth")
            if session.starttls:
                session.begin("starttls")
                smtp.starttls(context=_Recorder(plan, session))  # type: ignore[call-overload]
                session.capabilities_tls = _ehlo(smtp, session, "ehlo")
        if plan.credentials and session.tls:
            session.begin("login")
            session.auth = _smtp_login(smtp, *plan.credentials)
    finally:
        _leave(smtp.quit, smtp.close)


def _ehlo(smtp: smtplib.SMTP, session: Session, step: str) -> list[str]:
    session.begin(step)
    code, message = smtp.ehlo()
    if code != 250:
        raise ProtocolError(f"EHLO refused: {code} {_decode(message)}")
    return [line.upper() for line in _decode(message).splitlines()[1:]]


def _smtp_login(smtp: smtplib.SMTP, user: str, password: str) -> str:
    """smtplib's own negotiation (CRAM-MD5, PLAIN, LOGIN - whatever the server offers)."""
    import smtplib

    if not smtp.has_extn("auth"):
        return "not offered: the server offers no login (AUTH) on this port"
    smtp.sock.settimeout(max(smtp.sock.gettimeout() or 0, AUTH_TIMEOUT_S))  # type: ignore[union-attr]
    offered = smtp.esmtp_features["auth"].upper().split()
    mechanisms = [m for m in SMTP_AUTH_PREFERENCE if m in offered]
    if not mechanisms:
        return f"not possible: the server offers only {', '.join(offered)}"
    smtp.user, smtp.password = user, password
    last = ""
    for mechanism in mechanisms:
        handler = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
        try:
            smtp.auth(mechanism, handler, initial_response_ok=True)
            return f"ok ({mechanism})"
        except smtplib.SMTPAuthenticationError as exc:
            last = f"rejected: {exc.smtp_code} {_decode(exc.smtp_error)} ({mechanism})"
    return last


# -- IMAP ---------------------------------------------------------------------------------------


def _imap(sock: socket.socket, port: int, plan: Plan, session: Session, timeout_s: float) -> None:
    import imaplib

    class Client(imaplib.IMAP4):
        def __init__(self, sock: socket.socket, host: str, port: int, timeout_s: float) -> None:
            self._ready = sock
            super().__init__(host, port, timeout_s)

        def _create_socket(self, timeout: float | None) -> socket.socket:
            return self._ready

    session.begin("banner")  # imaplib reads the greeting, then asks for CAPABILITY itself
    imap = Client(sock, plan.host, port, timeout_s)
    try:
        session.banner = _decode(imap.welcome)
        caps = [c.upper() for c in imap.capabilities]
        session.begin("capability")
        session.capabilities = caps
        if plan.implicit_tls:
            session.capabilities_tls = caps
        else:
            session.starttls = "STARTTLS" in caps
            session.plaintext_login = "LOGINDISABLED" not in caps
            if session.starttls:
                session.begin("starttls")
                imap.starttls(_Recorder(plan, session))  # type: ignore[arg-type]
                session.begin("capability")
                session.capabilities_tls = [c.upper() for c in imap.capabilities]
        if plan.credentials and session.tls:
            session.begin("login")
            session.auth = _imap_login(imap, *plan.credentials)
    finally:
        _leave(imap.logout, imap.shutdown)


def _imap_login(imap: imaplib.IMAP4, user: str, password: str) -> str:
    import imaplib

    imap.sock.settimeout(max(imap.sock.gettimeout() or 0, AUTH_TIMEOUT_S))
    caps = [c.upper() for c in imap.capabilities]
    try:
        if "LOGINDISABLED" in caps and "AUTH=PLAIN" in caps:
            imap.authenticate("PLAIN", lambda _challenge: f"\0{user}\0{password}".encode())
            return "ok (AUTHENTICATE PLAIN)"
        imap.login(user, password)
        return "ok (LOGIN)"
    except imaplib.IMAP4.error as exc:
        return f"rejected: {exc}"


# -- POP3 ---------------------------------------------------------------------------------------


def _pop3(sock: socket.socket, port: int, plan: Plan, session: Session, timeout_s: float) -> None:
    import poplib

    class Client(poplib.POP3):
        def __init__(self, sock: socket.socket, host: str, port: int, timeout_s: float) -> None:
            self._ready = sock
            super().__init__(host, port, timeout_s)

        def _create_socket(self, timeout: float) -> socket.socket:
            return self._ready

    session.begin("banner")
    pop = Client(sock, plan.host, port, timeout_s)
    try:
        session.banner = _decode(pop.getwelcome())
        session.capabilities = _capa(pop, session)
        if plan.implicit_tls:
            session.capabilities_tls = session.capabilities
        else:
            session.starttls = "STLS" in session.capabilities
            session.plaintext_login = "USER" in session.capabilities or any(
                c.startswith("SASL") for c in session.capabilities)
            if session.starttls:
                session.begin("starttls")
                pop.stls(_Recorder(plan, session))  # type: ignore[arg-type]
                session.capabilities_tls = _capa(pop, session)
        if plan.credentials and session.tls:
            session.begin("login")
            session.auth = _pop3_login(pop, session.capabilities_tls, *plan.credentials)
    finally:
        _leave(pop.quit, pop.close)


def _capa(pop: poplib.POP3, session: Session) -> list[str]:
    import poplib

    session.begin("capa")
    try:
        caps = pop.capa()
    except poplib.error_proto:
        return []  # CAPA is optional in POP3 (RFC 2449)
    return [" ".join([name, *args]).upper() for name, args in caps.items()]


def _pop3_login(pop: poplib.POP3, caps: list[str], user: str, password: str) -> str:
    import poplib

    pop.sock.settimeout(max(pop.sock.gettimeout() or 0, AUTH_TIMEOUT_S))
    if caps and "USER" not in caps:
        return "not possible: the server offers no USER/PASS login"
    try:
        pop.user(user)
        pop.pass_(password)
        return "ok (USER/PASS)"
    except poplib.error_proto as exc:
        return f"rejected: {_decode(exc.args[0]) if exc.args else exc}"
