"""``--trust-new-host`` never saves a key for a host that any known_hosts file knows with
another key or has revoked: the user's known_hosts and known_hosts2, the system's
ssh_known_hosts, a GlobalKnownHostsFile from either config, a HostKeyAlias, the plain
host name of a [host]:port, and (CheckHostIP yes) the server's address. The fieldkit CLI
runs as a process in a private mount namespace whose /etc/ssh holds the case's system files
(``hostkey_oracle.py --etc``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fieldkit_cmd, need_tool
from tests.peers.sshd import keygen, public_line

pytestmark = pytest.mark.integration
ORACLE = Path(__file__).with_name("hostkey_oracle.py")
P = "[{addr}]:2222"
ALIAS = "Host srvalias\n  HostName {addr}\n  Port 2222\n  HostKeyAlias myalias\n"

# name, {file: text} ("etc/..." is /etc/ssh, "ssh/..." is ~/.ssh), URL host, what refuses
CASES = [
    ("system file, another key", {"etc/ssh_known_hosts": P + " {other}\n"}, "", "CHANGED"),
    ("system known_hosts2, another key", {"etc/ssh_known_hosts2": P + " {other}\n"}, "",
     "CHANGED"),
    ("system file, another type", {"etc/ssh_known_hosts": P + " {rsa}\n"}, "", "CHANGED"),
    ("GlobalKnownHostsFile of ~/.ssh/config", {
        "ssh/config": "GlobalKnownHostsFile /etc/ssh/site_hosts\n",
        "etc/site_hosts": "* {other}\n"}, "", "CHANGED"),
    ("GlobalKnownHostsFile of ssh_config", {
        "etc/ssh_config": "Host *\n  GlobalKnownHostsFile /etc/ssh/site_hosts\n",
        "etc/site_hosts": P + " {other}\n"}, "", "CHANGED"),
    ("user known_hosts2, another key", {"ssh/known_hosts2": P + " {other}\n"}, "", "CHANGED"),
    ("revoked in the system file", {"etc/ssh_known_hosts": "@revoked * {ed}\n"}, "",
     "REVOKED"),
    ("revoked in known_hosts2", {"ssh/known_hosts2": "@revoked * {ed}\n"}, "", "REVOKED"),
    ("HostKeyAlias known with another key", {
        "ssh/config": ALIAS, "ssh/known_hosts": "myalias {other}\n"}, "srvalias", "CHANGED"),
    ("plain host name known with another key", {"etc/ssh_known_hosts": "{addr} {other}\n"},
     "", "itself is known with another key"),
    ("CheckHostIP, the address known with another key", {
        "ssh/config": "CheckHostIP yes\n", "ssh/known_hosts": P + " {other}\n"},
     "srv.acme.test:2222", "differs from the key known for its address"),
    ("plain host name, key revoked there", {"etc/ssh_known_hosts": "@revoked {addr} {ed}\n"},
     "", "REVOKED"),
    ("UserKnownHostsFile with %k, another key there", {
        "ssh/config": ALIAS + "  UserKnownHostsFile ~/.ssh/kh-%k\n",
        "ssh/kh-myalias": "myalias {other}\n"}, "srvalias", "CHANGED"),
    ("RevokedHostKeys lists the key of a new host", {
        "ssh/config": "RevokedHostKeys /etc/ssh/revoked\n", "etc/revoked": "{ed}\n"}, "",
     "REVOKED"),
    ("KnownHostsCommand is set", {"ssh/config": "KnownHostsCommand /bin/echo %H\n"}, "",
     "has KnownHostsCommand"),
]


@pytest.fixture(scope="module")
def keys(sshd, tmp_path_factory) -> dict[str, str]:
    need_tool("unshare", "mount")
    rsa = keygen(tmp_path_factory.mktemp("trust-keys") / "rsa", "rsa")
    return {"addr": sshd.address, "ed": public_line(sshd.host_ed25519),
            "other": public_line(sshd.stranger_key), "rsa": public_line(rsa)}


def write(files: dict[str, str], keys: dict[str, str], user_home: Path, etc: Path) -> None:
    etc.mkdir()
    for name, text in files.items():
        folder, _, rest = name.partition("/")
        path = (etc if folder == "etc" else user_home / ".ssh") / rest
        path.write_text(text.format(**keys))


def trust(sshd, home: Path, user_home: Path, host: str, etc: Path
          ) -> subprocess.CompletedProcess:
    url = f"ssh://root@{host}" if host else sshd.url()
    hosts = etc.parent / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n{sshd.address} srv.acme.test\n")
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", sys.executable, str(ORACLE), "--etc",
         str(etc), str(hosts), *fieldkit_cmd(), "diag", "--host", url, "-i", str(sshd.user_key),
         "--check", "system.os", "--json", "--trust-new-host"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "FIELDKIT_HOME": str(home), "HOME": str(user_home)})


@pytest.mark.parametrize(("files", "host", "refusal"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_never_saves_over_a_known_or_revoked_key(sshd, keys, home, user_home, tmp_path, files,
                                                 host, refusal):
    write(files, keys, user_home, tmp_path / "etc")
    before = {p: p.read_bytes() for p in (user_home / ".ssh").iterdir()}
    done = trust(sshd, home, user_home, host, tmp_path / "etc")
    assert done.returncode == 7, done.stderr
    assert refusal in done.stderr and "saved the host key" not in done.stderr
    assert not (home / "known_hosts").exists(), "nothing may be saved"
    assert {p: p.read_bytes() for p in (user_home / ".ssh").iterdir()} == before
    if refusal == "CHANGED" and "etc/ssh_known_hosts" in files:
        assert "ssh_known_hosts (a system file: an administrator of this PC)" in done.stderr


def test_a_host_no_file_knows_is_saved(sshd, keys, home, user_home, tmp_path):
    """The control: the same path saves a key when no file contradicts it (an unrelated
    host's key and another host's revocation in the system file)."""
    files = {"etc/ssh_known_hosts": "other.example {other}\n@revoked other.example {ed}\n"}
    write(files, keys, user_home, tmp_path / "etc")
    done = trust(sshd, home, user_home, "", tmp_path / "etc")
    assert done.returncode == 0, done.stderr
    assert "saved the host key" in done.stderr
    assert (home / "known_hosts").read_text().startswith(f"[{sshd.address}]:2222 ssh-ed25519 ")
