"""A throwaway OpenSSH server for the remote and SFTP tests, in namespaces of its own.

``sshd -D -f CONFIG`` runs inside a network namespace reached over a veth pair (so the remote's
network checks meet only that namespace) and a UTS namespace with its own host name (so a run
that claims to come from the remote provably does). Throwaway ed25519 and ecdsa host keys, an
authorized user key and an unauthorized one. One server, several personalities by port
(``Match LocalPort``): what the remote's PATH holds decides what fieldkit finds there.

- ``BARE`` (22) and ``BARE_ALT`` (2222): python3 without site-packages (no psutil, netifaces),
  no fieldkit. The python3 on PATH is a shim that logs the mode of the probe's directory.
- ``INSTALLED`` (2223): a fieldkit on PATH (this venv's, behind a wrapper that logs its calls).
- ``NO_PYTHON`` (2224): a PATH with a shell and coreutils but no python3.
- ``PASSWORD`` (2225): like BARE, but password logins allowed (root has none that works).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.peers.netns import Netns, veth

BARE, BARE_ALT, INSTALLED, NO_PYTHON, PASSWORD = 22, 2222, 2223, 2224, 2225
PORTS = (BARE, BARE_ALT, INSTALLED, NO_PYTHON, PASSWORD)
HOST_NAME = "fk-remote"
SSHD = "/usr/sbin/sshd"
NO_PYTHON_TOOLS = ("sh", "mktemp", "rm", "cat", "env", "stat", "dirname")


def available() -> bool:
    return Path(SSHD).exists() and shutil.which("ssh-keygen") is not None


def keygen(path: Path, kind: str = "ed25519", comment: str = "fk") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(path)],
                   check=True)
    return path


def public_line(path: Path) -> str:
    """``TYPE BASE64`` of a .pub file (no comment)."""
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


class SshServer:
    def __init__(self, root: Path, subnet: int) -> None:
        self.root = root
        self.address = f"10.{subnet}.0.2"
        self.gateway = f"10.{subnet}.0.1"
        self.subnet = subnet
        self.ns: Netns | None = None
        self.link = ""
        self.user = "root"
        self.log = root / "sshd.log"
        self.tmp = root / "remote-tmp"  # TMPDIR of every session: leftovers are visible here

    # -- set-up ------------------------------------------------------------------------------

    def start(self) -> SshServer:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.tmp.mkdir(mode=0o1777, exist_ok=True)
        self.host_ed25519 = keygen(self.root / "host_ed25519", "ed25519", "fk-host")
        self.host_ecdsa = keygen(self.root / "host_ecdsa", "ecdsa", "fk-host")
        self.user_key = keygen(self.root / "user_ed25519", "ed25519", "fk-user")
        self.stranger_key = keygen(self.root / "stranger_ed25519", "ed25519", "fk-stranger")
        (self.root / "authorized_keys").write_text(Path(f"{self.user_key}.pub").read_text())
        os.chmod(self.root / "authorized_keys", 0o600)
        (self.root / "home").mkdir(mode=0o700)
        bins = self._bins()
        (self.root / "sshd_config").write_text(self._config(bins))
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation dir; sshd insists
        subprocess.run([SSHD, "-t", "-f", str(self.root / "sshd_config")], check=True)
        self.ns = Netns("fkssh")
        self.link, _peer = veth(None, f"{self.gateway}/24", self.ns, f"{self.address}/24")
        self.ns.resolv_conf(f"nameserver {self.address}\noptions timeout:1 attempts:1\n")
        proc = subprocess.Popen(
            self.ns.exec_cmd("unshare", "--uts", "sh", "-c",
                             f"hostname {HOST_NAME} && exec {SSHD} -D -f "
                             f"{self.root / 'sshd_config'} -E {self.log}"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.ns.processes.append(proc)
        deadline = time.monotonic() + 10
        while self.log_text().count("Server listening") < len(PORTS):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {self.log_text()[-2000:]}")
            time.sleep(0.02)
        return self

    def _bins(self) -> dict[int, str]:
        probe_bin = self.root / "bin-bare"
        probe_bin.mkdir()
        _script(probe_bin / "python3", f"""#!/bin/sh
# a fresh machine's python3: no site-packages, so no psutil or netifaces
stat -c '%a %U' "$(dirname "$1")" >> {self.root}/probe-dirs.log
exec /usr/bin/python3 -S "$@"
""")
        fk_bin = self.root / "bin-fieldkit"
        fk_bin.mkdir()
        (self.root / "remote-home").mkdir()
        _script(fk_bin / "fieldkit", f"""#!/bin/sh
echo "$*" >> {self.root}/fieldkit-calls.log
FIELDKIT_HOME={self.root}/remote-home exec {sys.executable} -m fieldkit "$@"
""")
        bare_tools = self.root / "bin-nopython"
        bare_tools.mkdir()
        for tool in NO_PYTHON_TOOLS:
            found = shutil.which(tool)
            if found:
                (bare_tools / tool).symlink_to(found)
        system = "/usr/bin:/bin"
        return {BARE: f"{probe_bin}:{system}", BARE_ALT: f"{probe_bin}:{system}",
                INSTALLED: f"{fk_bin}:{system}", NO_PYTHON: str(bare_tools),
                PASSWORD: f"{probe_bin}:{system}"}

    def _config(self, bins: dict[int, str]) -> str:
        lines = [*(f"Port {p}" for p in PORTS), f"ListenAddress {self.address}",
                 f"HostKey {self.host_ed25519}", f"HostKey {self.host_ecdsa}",
                 f"PidFile {self.root / 'sshd.pid'}",
                 f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
                 "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                 "PubkeyAuthentication yes", "PermitRootLogin yes", f"AllowUsers {self.user}",
                 "UsePAM no", "StrictModes no", "LogLevel VERBOSE",
                 "Subsystem sftp internal-sftp"]
        for port, path in bins.items():
            # HOME too: the login shell reads $HOME/.bashrc, and root's own must not add to PATH
            lines += [f"Match LocalPort {port}",
                      f"    SetEnv PATH={path} TMPDIR={self.tmp} HOME={self.root / 'home'}"]
            if port == PASSWORD:
                lines.append("    PasswordAuthentication yes")
        return "\n".join(lines) + "\n"

    # -- what tests use ----------------------------------------------------------------------

    def url(self, port: int = BARE_ALT) -> str:
        return f"ssh://{self.user}@{self.address}:{port}"

    def known_name(self, port: int = BARE_ALT) -> str:
        return self.address if port == 22 else f"[{self.address}]:{port}"

    def known_hosts_line(self, port: int = BARE_ALT, key: Path | None = None) -> str:
        return f"{self.known_name(port)} {public_line(key or self.host_ed25519)}\n"

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def calls(self) -> list[str]:
        path = self.root / "fieldkit-calls.log"
        return path.read_text().splitlines() if path.exists() else []

    def probe_dirs(self) -> list[str]:
        path = self.root / "probe-dirs.log"
        return path.read_text().splitlines() if path.exists() else []

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.tmp.iterdir())

    def stop(self) -> None:
        if self.ns is not None:
            self.ns.close()
            self.ns = None
            # a deleted namespace dies asynchronously, and its veth with it: our end would
            # linger with the same address and steal the next server's traffic
            subprocess.run(["ip", "link", "del", self.link], capture_output=True)


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)
