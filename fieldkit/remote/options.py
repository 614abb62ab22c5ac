"""What an SSH connection is asked to do (:class:`SshOptions`) and how its failures are worded.

Below both ``ssh`` (connecting, the host key) and ``auth`` (logging in): each needs the options
and the one-line wording of an exception, and neither may import the other at load time. No
paramiko here, so reading the options costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Prompt = Callable[[str], "str | None"]  # a hidden prompt; returns None when nobody can answer


@dataclass
class SshOptions:
    """How to connect: timeouts, credentials, and where fieldkit keeps the keys it trusts."""

    known_hosts: Path  # fieldkit's own file (<home>/known_hosts): the only one ever written
    connect_timeout_s: float = 10.0  # TCP connect, SSH banner and key exchange, each
    auth_timeout_s: float = 30.0  # each login attempt's answer
    command_timeout_s: float = 120.0  # a remote command, start to exit
    identity: str | None = None  # -i KEY
    trust_new_host: bool = False  # --trust-new-host: save an unknown (never a changed) key
    ask_password: Prompt | None = None  # password and passphrase prompt (None: no terminal)
    use_agent: bool = True
    ssh_dir: Path = field(default_factory=lambda: Path.home() / ".ssh")


def why(exc: BaseException) -> str:
    """An exception as one line of text (paramiko's messages span lines or are empty)."""
    text = str(exc).strip() or exc.__class__.__name__
    return " ".join(text.split())
