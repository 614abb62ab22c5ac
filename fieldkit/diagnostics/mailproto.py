"""Just enough SMTP, IMAP and POP3 to check a mail server, and never to send mail.

Each dialogue reads the greeting, asks for capabilities, upgrades with STARTTLS/STLS where the
protocol has it (or starts in TLS for smtps/imaps/pop3s), asks again, optionally tests a login,
and says goodbye. No MAIL FROM, no DATA: nothing is ever delivered.
"""

from __future__ import annotations

import base64
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

from fieldkit.diagnostics import tls

MAX_LINE = 8192
# servers delay answers to failed logins on purpose (dovecot: 2 s, growing per failure)
AUTH_TIMEOUT_S = 20.0


class ProtocolError(Exception):
    """The server answered, but not the way a mail server of that kind should."""


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


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def readline(self) -> str:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE:
                raise ProtocolError("reply line too long")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ProtocolError("the server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def allow_slow_auth(self) -> None:
        self.sock.settimeout(max(self.sock.gettimeout() or 0, AUTH_TIMEOUT_S))

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def start_tls(self, plan: Plan) -> dict[str, Any]:
        self.buffer = b""
        self.sock = plan.context.wrap_socket(self.sock, server_hostname=plan.host)
        return tls.describe(self.sock, plan.verify_label)


def converse(sock: socket.socket, plan: Plan) -> Session:
    channel, session = Channel(sock), Session()
    if plan.implicit_tls:
        session.tls = channel.start_tls(plan)
    {"smtp": _smtp, "imap": _imap, "pop3": _pop3}[plan.protocol](channel, plan, session)
    return session


# -- SMTP ---------------------------------------------------------------------------------------


def _smtp_reply(channel: Channel) -> tuple[int, list[str]]:
    lines = []
    while True:
        line = channel.readline()
        if len(line) < 3 or not line[:3].isdigit():
            raise ProtocolError(f"not an SMTP reply: {line[:80]!r}")
        lines.append(line[4:])
        if line[3:4] != "-":
            return int(line[:3]), lines


def _smtp(channel: Channel, plan: Plan, session: Session) -> None:
    code, lines = _smtp_reply(channel)
    session.banner = f"{code} {lines[0]}"
    if code != 220:
        raise ProtocolError(f"the server refuses connections: {session.banner}")
    session.capabilities = _ehlo(channel)
    if plan.implicit_tls:
        session.capabilities_tls = session.capabilities
    else:
        session.starttls = "STARTTLS" in session.capabilities
        session.plaintext_login = any(c.startswith("AUTH") for c in session.capabilities)
        if session.starttls:
            channel.send("STARTTLS")
            code, lines = _smtp_reply(channel)
            if code != 220:
                raise ProtocolError(f"STARTTLS refused: {code} {lines[0]}")
            session.tls = channel.start_tls(plan)
            session.capabilities_tls = _ehlo(channel)
    if plan.credentials and session.tls:
        user, password = plan.credentials
        channel.allow_slow_auth()
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        channel.send(f"AUTH PLAIN {token}")
        code, lines = _smtp_reply(channel)
        session.auth = "ok" if code == 235 else f"rejected: {code} {lines[0]}"
    channel.send("QUIT")


def _ehlo(channel: Channel) -> list[str]:
    channel.send("EHLO fieldkit.invalid")
    code, lines = _smtp_reply(channel)
    if code != 250:
        raise ProtocolError(f"EHLO refused: {code} {lines[0]}")
    return [line.upper() for line in lines[1:]]


# -- IMAP ---------------------------------------------------------------------------------------


def _imap_command(channel: Channel, tag: str, command: str) -> tuple[str, list[str]]:
    channel.send(f"{tag} {command}")
    untagged: list[str] = []
    while True:
        line = channel.readline()
        if line.startswith(f"{tag} "):
            return line[len(tag) + 1:], untagged
        untagged.append(line)


def _imap_capabilities(channel: Channel, tag: str) -> list[str]:
    status, untagged = _imap_command(channel, tag, "CAPABILITY")
    if not status.upper().startswith("OK"):
        raise ProtocolError(f"CAPABILITY refused: {status}")
    for line in untagged:
        if line.upper().startswith("* CAPABILITY"):
            return line.split()[2:]
    return []


def _imap(channel: Channel, plan: Plan, session: Session) -> None:
    session.banner = channel.readline()
    if not session.banner.upper().startswith(("* OK", "* PREAUTH")):
        raise ProtocolError(f"no IMAP greeting: {session.banner[:80]!r}")
    caps = [c.upper() for c in _imap_capabilities(channel, "f1")]
    session.capabilities = caps
    if plan.implicit_tls:
        session.capabilities_tls = caps
    else:
        session.starttls = "STARTTLS" in caps
        session.plaintext_login = "LOGINDISABLED" not in caps
        if session.starttls:
            status, _ = _imap_command(channel, "f2", "STARTTLS")
            if not status.upper().startswith("OK"):
                raise ProtocolError(f"STARTTLS refused: {status}")
            session.tls = channel.start_tls(plan)
            session.capabilities_tls = [c.upper() for c in _imap_capabilities(channel, "f3")]
    if plan.credentials and session.tls:
        channel.allow_slow_auth()
        user, password = (_imap_quote(v) for v in plan.credentials)
        status, _ = _imap_command(channel, "f4", f"LOGIN {user} {password}")
        session.auth = "ok" if status.upper().startswith("OK") else f"rejected: {status}"
    channel.send("f5 LOGOUT")


def _imap_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- POP3 ---------------------------------------------------------------------------------------


def _pop3_capa(channel: Channel) -> list[str]:
    channel.send("CAPA")
    if not channel.readline().startswith("+OK"):
        return []
    caps = []
    while (line := channel.readline()) != ".":
        caps.append(line.upper())
    return caps


def _pop3(channel: Channel, plan: Plan, session: Session) -> None:
    session.banner = channel.readline()
    if not session.banner.startswith("+OK"):
        raise ProtocolError(f"no POP3 greeting: {session.banner[:80]!r}")
    session.capabilities = _pop3_capa(channel)
    if plan.implicit_tls:
        session.capabilities_tls = session.capabilities
    else:
        session.starttls = "STLS" in session.capabilities
        session.plaintext_login = "USER" in session.capabilities or any(
            c.startswith("SASL") for c in session.capabilities)
        if session.starttls:
            channel.send("STLS")
            reply = channel.readline()
            if not reply.startswith("+OK"):
                raise ProtocolError(f"STLS refused: {reply}")
            session.tls = channel.start_tls(plan)
            session.capabilities_tls = _pop3_capa(channel)
    if plan.credentials and session.tls:
        channel.allow_slow_auth()
        user, password = plan.credentials
        channel.send(f"USER {user}")
        reply = channel.readline()
        if reply.startswith("+OK"):
            channel.send(f"PASS {password}")
            reply = channel.readline()
        session.auth = "ok" if reply.startswith("+OK") else f"rejected: {reply}"
    channel.send("QUIT")
