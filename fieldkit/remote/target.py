"""Where ``--host`` points: ``ssh://[user@]host[:port]``, resolved through ``~/.ssh/config``.

OpenSSH's rules, as far as fieldkit needs them: the URL's own user and port win over the
config's, the config's over the defaults (the local user name, port 22); ``HostName``,
``IdentityFile``, ``IdentitiesOnly``, ``HostKeyAlias`` and ``UserKnownHostsFile`` are honoured.
A jump host (``ProxyJump``/``ProxyCommand``) is refused in words: silently connecting straight
to the host instead would be a surprise.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fieldkit.errors import InputError, RemoteError

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

    @property
    def known_hosts_name(self) -> str:
        """The name known_hosts files hold for it: ``host``, or ``[host]:port`` off port 22."""
        name = self.host_key_alias or self.hostname
        return name if self.port == 22 else f"[{name}]:{self.port}"

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
    config = _ssh_config(parts.hostname, ssh_dir)
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
    known = config.get("userknownhostsfile")
    files = tuple(Path(p).expanduser() for p in known.split()) if known else \
        (ssh_dir / "known_hosts",)
    return Target(
        alias=parts.hostname, hostname=config.get("hostname", ascii_host(parts.hostname)),
        port=port or config_port, user=parts.username or config.get("user") or getpass.getuser(),
        identity_files=tuple(str(Path(p).expanduser()) for p in config.get("identityfile", [])),
        identities_only=config.get("identitiesonly", "no").lower() == "yes",
        host_key_alias=config.get("hostkeyalias", ""),
        known_hosts_files=tuple(p for p in files if str(p) != "/dev/null"))


def _ssh_config(alias: str, ssh_dir: Path) -> dict:
    path = ssh_dir / "config"
    if not path.is_file():
        return {}
    import paramiko

    try:
        return dict(paramiko.SSHConfig.from_path(str(path)).lookup(alias))
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise RemoteError(f"{path} cannot be read: {exc}", kind="config") from None
