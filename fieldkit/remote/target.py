"""Where ``--host`` points: ``ssh://[user@]host[:port]``, resolved through ``~/.ssh/config``.

OpenSSH's rules, as far as fieldkit needs them: the URL's own user and port win over the
config's (``~/.ssh/config``, then ``/etc/ssh/ssh_config``: see ``sshconfig``), the config's over
the defaults (the local user name, port 22); ``HostName``, ``IdentityFile``, ``IdentitiesOnly``,
``HostKeyAlias``, ``UserKnownHostsFile`` (with ssh's tokens), ``GlobalKnownHostsFile`` and
``RevokedHostKeys`` are honoured; ``KnownHostsCommand`` is refused in words (fieldkit cannot
know what it would answer).
A jump host (``ProxyJump``/``ProxyCommand``) is refused in words: silently connecting straight
to the host instead would be a surprise.
"""

from __future__ import annotations

import getpass
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fieldkit.errors import InputError, RemoteError
from fieldkit.remote import sshconfig

SYNTAX = "ssh://[user@]host[:port]"


@dataclass(frozen=True)
class Target:
    alias: str  # the host as typed (maybe a ~/.ssh/config Host alias)
    hostname: str  # what to connect to
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    host_key_alias: str = ""
    known_hosts_files: tuple[Path, ...] = ()  # the user's, read only
    system_known_hosts_files: tuple[Path, ...] = ()  # GlobalKnownHostsFile, read only
    check_host_ip: bool = False  # CheckHostIP yes: the address's entries must not contradict
    revoked_host_keys: Path | None = None  # RevokedHostKeys: a key listed there is refused

    @property
    def known_hosts_name(self) -> str:
        """The name known_hosts files hold for it, as ssh looks it up: the ``HostKeyAlias``
        as it is (lowercased), else ``host`` on port 22 and ``[host]:port`` off it."""
        if self.host_key_alias:
            return self.host_key_alias.lower()
        name = lookup_name(self.hostname)
        return name if self.port == 22 else f"[{name}]:{self.port}"

    @property
    def plain_known_hosts_name(self) -> str:
        """The plain ``host`` ssh tries next for a ``[host]:port`` it does not know ("" when it
        does not: on port 22 or with a HostKeyAlias)."""
        return "" if self.host_key_alias or self.port == 22 else lookup_name(self.hostname)

    @property
    def url(self) -> str:
        host = f"[{self.alias}]" if ":" in self.alias else self.alias
        return f"ssh://{self.user}@{host}:{self.port}"


def parse_host(text: str, ssh_dir: Path | None = None) -> Target:
    """The target of ``--host TEXT``; InputError for anything but ``ssh://[user@]host[:port]``."""
    parts = urlsplit(text.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "ssh" or not parts.hostname or port == -1 or parts.password \
            or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(f"--host {text!r}: give {SYNTAX}, e.g. ssh://ann@pc-042.acme.local")
    from fieldkit.diagnostics.net.targets import ascii_host, host_problem

    problem = host_problem(parts.hostname)  # an international name is encoded (IDNA), as
    if problem:                             # reach, mail and printer targets are
        raise InputError(f"--host {text!r}: {parts.hostname!r} is not a valid host name "
                         f"({problem})")
    ssh_dir = ssh_dir or Path.home() / ".ssh"
    config = sshconfig.lookup(parts.hostname, ssh_dir)
    for jump in ("proxyjump", "proxycommand"):
        if config.get(jump, "none").lower() != "none":
            raise RemoteError(f"{ssh_dir / 'config'} sends {parts.hostname} through a jump host "
                              f"({jump}); fieldkit cannot do that yet: give the machine's own "
                              "address", kind="config")
    try:
        config_port = int(config.get("port", 22))
    except ValueError:
        raise RemoteError(f"{ssh_dir / 'config'}: Port for {parts.hostname} is not a number",
                          kind="config") from None
    hostname = config.get("hostname", parts.hostname)
    try:  # HostName from ssh_config too: the resolver needs the encoded name either way
        hostname = ascii_host(hostname)
    except ValueError as exc:
        raise InputError(f"--host {text!r}: {hostname!r} is not a valid host name ({exc})") \
            from None
    port = port or config_port
    user = parts.username or config.get("user") or getpass.getuser()
    alias = config.get("hostkeyalias", "")
    typed = parts.netloc.rpartition("@")[2]  # %n and %k keep the case it was typed in
    typed = typed[1:typed.find("]")] if typed.startswith("[") else typed.partition(":")[0]
    tokens = _tokens(typed, hostname, port, user, alias)
    if config.get("knownhostscommand", "none").lower() != "none":
        raise RemoteError(f"{ssh_dir / 'config'} or {sshconfig.SYSTEM_DIR / 'ssh_config'} "
                          f"has KnownHostsCommand for {parts.hostname}; fieldkit cannot "
                          "run it, so it cannot know which host keys ssh would trust: "
                          "remove the option for this host or use ssh itself",
                          kind="config")
    files = _files(config.get("userknownhostsfile"), tokens, "UserKnownHostsFile") or \
        (ssh_dir / "known_hosts", ssh_dir / "known_hosts2")
    # GlobalKnownHostsFile: ssh expands ``~`` only, no tokens and no %%
    system = tuple(Path(p).expanduser() for p in config.get("globalknownhostsfile", "").split()) \
        or (sshconfig.SYSTEM_DIR / "ssh_known_hosts", sshconfig.SYSTEM_DIR / "ssh_known_hosts2")
    revoked = config.get("revokedhostkeys", "none")  # ssh 9.2 reads it as written: no ~, no %
    return Target(
        alias=parts.hostname, hostname=hostname, port=port, user=user,
        identity_files=tuple(str(Path(p).expanduser()) for p in config.get("identityfile", [])),
        identities_only=config.get("identitiesonly", "no").lower() == "yes",
        host_key_alias=alias,
        revoked_host_keys=None if revoked.lower() == "none" else Path(revoked),
        check_host_ip=config.get("checkhostip", "no").lower() == "yes",
        known_hosts_files=tuple(p for p in files if str(p) != "/dev/null"),
        system_known_hosts_files=tuple(p for p in system if str(p) != "/dev/null"))


def _tokens(typed: str, hostname: str, port: int, user: str, alias: str) -> dict[str, str]:
    """The tokens ssh 9.2 expands in UserKnownHostsFile and RevokedHostKeys (ssh_config(5)
    TOKENS): ``%k`` is the HostKeyAlias lowercased, else the host as typed; ``%C`` the SHA-1
    of ``%l%h%p%r``."""
    import hashlib
    import os
    import socket

    local, host = socket.gethostname(), hostname.lower()
    return {"%C": hashlib.sha1(f"{local}{host}{port}{user}".encode()).hexdigest(),
            "%d": str(Path.home()), "%h": host, "%i": str(os.getuid()) if hasattr(os, "getuid")
            else "", "%k": alias.lower() or typed, "%L": local.split(".")[0], "%l": local,
            "%n": typed, "%p": str(port), "%r": user, "%u": getpass.getuser()}


def _files(value: str | None, tokens: dict[str, str], what: str) -> tuple[Path, ...]:
    """A ``UserKnownHostsFile``/``RevokedHostKeys`` value: space-separated paths, ``~`` and
    ssh's ``${VAR}`` and ``%`` tokens expanded (see :func:`sshconfig.expand`)."""
    if not value:
        return ()
    return tuple(Path(sshconfig.expand(str(Path(word).expanduser()), tokens, what))
                 for word in value.split())


def lookup_name(hostname: str) -> str:
    """ssh lowercases a host name (not an address) before it looks it up."""
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return hostname.lower()
    return hostname
