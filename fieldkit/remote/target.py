"""Where ``--host`` points: ``ssh://[user@]host[:port]``, resolved through ``~/.ssh/config``.

OpenSSH's rules, as far as fieldkit needs them: the URL's own user and port win over the
config's (``~/.ssh/config``, then ``/etc/ssh/ssh_config``: see ``sshconfig``), the config's over
the defaults (the local user name, port 22); ``HostName``, ``IdentityFile``, ``IdentitiesOnly``,
``HostKeyAlias``, ``UserKnownHostsFile`` and ``GlobalKnownHostsFile`` are honoured.
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
    from fieldkit.diagnostics._targets import ascii_host, host_problem

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
    tokens = {"%d": str(Path.home()), "%u": getpass.getuser(), "%h": hostname,
              "%n": parts.hostname, "%p": str(port), "%r": user}
    files = _files(config.get("userknownhostsfile"), tokens) or \
        (ssh_dir / "known_hosts", ssh_dir / "known_hosts2")
    system = _files(config.get("globalknownhostsfile"), {}) or \
        (sshconfig.SYSTEM_DIR / "ssh_known_hosts", sshconfig.SYSTEM_DIR / "ssh_known_hosts2")
    return Target(
        alias=parts.hostname, hostname=hostname, port=port, user=user,
        identity_files=tuple(str(Path(p).expanduser()) for p in config.get("identityfile", [])),
        identities_only=config.get("identitiesonly", "no").lower() == "yes",
        host_key_alias=config.get("hostkeyalias", ""),
        check_host_ip=config.get("checkhostip", "no").lower() == "yes",
        known_hosts_files=tuple(p for p in files if str(p) != "/dev/null"),
        system_known_hosts_files=tuple(p for p in system if str(p) != "/dev/null"))


def _files(value: str | None, tokens: dict[str, str]) -> tuple[Path, ...]:
    """A ``UserKnownHostsFile``/``GlobalKnownHostsFile`` value: space-separated paths, ``~``
    and (where ssh expands them) ``%d %u %h %n %p %r %%``."""
    if not value:
        return ()
    paths = []
    for word in value.split():
        for token, text in tokens.items():
            word = word.replace(token, text)
        paths.append(Path(word.replace("%%", "%")).expanduser())
    return tuple(paths)


def lookup_name(hostname: str) -> str:
    """ssh lowercases a host name (not an address) before it looks it up."""
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return hostname.lower()
    return hostname
