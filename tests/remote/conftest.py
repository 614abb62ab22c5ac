"""A real OpenSSH server for the remote tests, and a HOME of each test's own.

HOME matters: fieldkit reads ``~/.ssh/known_hosts`` and ``~/.ssh/config``, and the machine's
own must neither help nor be touched. No ssh-agent either, unless a test starts one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import need, need_root
from tests.peers import sshd as sshd_peer

DROPPED, SILENT, LISTENING = 2226, 2227, 8080  # ports inside the server's namespace
# accepts connections and never says a word (a hung service where sshd should be)
SILENT_PEER = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16); print("ready", flush=True)
held = []
while True:
    held.append(s.accept()[0])
"""


@pytest.fixture(scope="module")  # its veth must be gone before test_isolation looks
def sshd(tmp_path_factory):
    need_root()
    need(sshd_peer.available(), "needs openssh-server (sshd) and ssh-keygen")
    server = sshd_peer.SshServer(tmp_path_factory.mktemp("sshd"), 210)
    try:
        server.start()
        assert server.ns is not None
        server.ns.nft("table inet fk {\n  chain input {\n    type filter hook input priority 0;\n"
                      f"    tcp dport {DROPPED} drop\n  }}\n}}\n")
        server.ns.start(sys.executable, "-c", SILENT_PEER, server.address, str(SILENT),
                        ready="ready")
        server.ns.listen("127.0.0.1", LISTENING)  # only the remote itself can reach this one
        yield server
    finally:
        server.stop()


@pytest.fixture
def user_home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "user"
    (path / ".ssh").mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return path


@pytest.fixture
def trusted(home, user_home, sshd) -> Path:
    """fieldkit's own known_hosts already holds the server's key for every port."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "known_hosts"
    path.write_text("".join(sshd.known_hosts_line(port) for port in sshd_peer.PORTS))
    os.chmod(path, 0o600)
    return path


def remote_config(home: Path, **values) -> None:
    home.mkdir(parents=True, exist_ok=True)
    lines = ["[remote]"] + [f"{k} = {str(v).lower() if isinstance(v, bool) else v}"
                            for k, v in values.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")
