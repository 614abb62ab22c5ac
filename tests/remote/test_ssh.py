"""SSH against a real OpenSSH server: host keys (unknown, trusted, changed, revoked, hashed, key
type order), logins (wrong key, password prompt), ~/.ssh/config, and every failure as exit 7."""

import base64
import os
import subprocess
import time

import pytest

from fieldkit.errors import RemoteError
from fieldkit.remote import hostkeys
from tests.conftest import need_tool
from tests.peers.sshd import BARE, BARE_ALT, PASSWORD, public_line
from tests.remote.conftest import DROPPED, SILENT, remote_config

pytestmark = pytest.mark.integration


def fingerprint(pub_path) -> str:
    return hostkeys.fingerprint(base64.b64decode(public_line(pub_path).split()[1]))


def diag(proc, sshd, *extra, port=BARE_ALT, key=None):
    return proc("diag", "--host", sshd.url(port), "-i", str(key or sshd.user_key),
                "--check", "system.os", "--json", *extra)


def one_line(r) -> str:
    lines = [line for line in r.err.splitlines() if line.startswith("fieldkit: error:")]
    assert len(lines) == 1 and "Traceback" not in r.err, r.err
    return lines[0]


def test_unknown_host_is_refused_then_trusted(proc, sshd, home, user_home):
    r = diag(proc, sshd)
    assert r.code == 7 and r.out == ""
    error = one_line(r)
    assert "unknown host key" in error and "--trust-new-host" in error
    assert f"ssh-ed25519 {fingerprint(sshd.host_ed25519)}" in error
    assert not (home / "known_hosts").exists(), "nothing may be saved without the flag"

    r = diag(proc, sshd, "--trust-new-host")
    assert r.code == 0, r.err
    assert r.json()["host"] == "fk-remote"
    saved = (home / "known_hosts").read_text()
    assert saved.startswith(f"[{sshd.address}]:{BARE_ALT} {public_line(sshd.host_ed25519)} ")
    assert (home / "known_hosts").stat().st_mode & 0o777 == 0o600
    assert "saved the host key" in r.err

    r = diag(proc, sshd)
    assert r.code == 0, r.err
    assert (home / "known_hosts").read_text() == saved
    assert not (user_home / ".ssh" / "known_hosts").exists(), "the user's file is never written"


def test_port_22_is_written_as_the_bare_host_and_appended(proc, sshd, home, user_home):
    home.mkdir(parents=True)
    other = "other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx"
    (home / "known_hosts").write_text(f"# my notes\n{other}")  # no newline at the end
    assert diag(proc, sshd, "--trust-new-host", port=BARE).code == 0
    lines = (home / "known_hosts").read_text().splitlines()
    assert lines[:2] == ["# my notes", other]
    assert lines[2].startswith(f"{sshd.address} ssh-ed25519 ")


def test_changed_host_key_is_refused_even_with_the_trust_flag(proc, sshd, home, user_home):
    home.mkdir(parents=True)
    impostor = f"[{sshd.address}]:{BARE_ALT} {public_line(sshd.stranger_key)}\n"
    (home / "known_hosts").write_text(impostor)
    for extra in ((), ("--trust-new-host",)):
        r = diag(proc, sshd, *extra)
        assert r.code == 7 and r.out == ""
        assert "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in r.err
        error = one_line(r)
        assert "host key has CHANGED" in error and f"{home / 'known_hosts'}:1" in error
        assert fingerprint(sshd.host_ed25519) in error and fingerprint(sshd.stranger_key) in error
        assert (home / "known_hosts").read_text() == impostor


def test_a_known_host_offering_a_new_key_type_is_refused_even_with_the_flag(
        proc, sshd, home, user_home, tmp_path):
    """Known only by an RSA key (this sshd has none): the ed25519 key it offers is not simply
    "new" (OpenSSH calls it changed), and --trust-new-host must not add it beside the old one."""
    from tests.peers.sshd import keygen

    home.mkdir(parents=True)
    known = f"[{sshd.address}]:{BARE_ALT} {public_line(keygen(tmp_path / 'old_rsa', 'rsa', 'x'))}\n"
    (home / "known_hosts").write_text(known)
    r = diag(proc, sshd, "--trust-new-host")
    assert r.code == 7 and "host key has CHANGED: " in one_line(r) and "has ssh-rsa" in one_line(r)
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in r.err
    assert fingerprint(sshd.host_ed25519) in one_line(r)
    assert (home / "known_hosts").read_text() == known


def test_hashed_entry_in_the_users_file_is_used_and_never_written(proc, sshd, home, user_home):
    path = user_home / ".ssh" / "known_hosts"
    path.write_text(f"# kept as it is\n{sshd.known_hosts_line(BARE_ALT)}")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(path)], check=True,
                   capture_output=True)  # OpenSSH's own hashing: |1|salt|hmac
    assert "|1|" in path.read_text() and sshd.address not in path.read_text()
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    r = diag(proc, sshd)
    assert r.code == 0, r.err
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert not (home / "known_hosts").exists()


def test_changed_key_in_the_users_file_is_refused_too(proc, sshd, home, user_home):
    path = user_home / ".ssh" / "known_hosts"
    path.write_text(f"[{sshd.address}]:{BARE_ALT} {public_line(sshd.stranger_key)}\n")
    before = path.read_bytes()
    r = diag(proc, sshd, "--trust-new-host")
    assert r.code == 7 and "CHANGED" in one_line(r) and f"{path}:1" in one_line(r)
    assert path.read_bytes() == before and not (home / "known_hosts").exists()


def test_revoked_key_is_refused(proc, sshd, home, user_home):
    (user_home / ".ssh" / "known_hosts").write_text(
        f"@revoked * {public_line(sshd.host_ed25519)}\n")
    r = diag(proc, sshd, "--trust-new-host")
    assert r.code == 7 and "REVOKED" in one_line(r)


def test_a_known_ecdsa_key_is_asked_for_first(sshd, home, user_home):
    """The server has ed25519 and ecdsa keys; paramiko prefers ed25519. Knowing only the
    ecdsa key must still connect, with the ecdsa key, instead of calling the host unknown."""
    from fieldkit.remote.ssh import SshOptions, connect
    from fieldkit.remote.target import parse_host

    (user_home / ".ssh" / "known_hosts").write_text(
        f"[{sshd.address}]:{BARE_ALT} {public_line(sshd.host_ecdsa)}\n")
    options = SshOptions(known_hosts=home / "known_hosts", identity=str(sshd.user_key),
                         ssh_dir=user_home / ".ssh")
    with connect(parse_host(sshd.url(BARE_ALT), user_home / ".ssh"), options) as connection:
        assert connection.transport.get_remote_server_key().get_name().startswith("ecdsa")
        assert connection.run("echo hi").stdout == b"hi\n"


def test_wrong_key_is_an_authentication_failure(proc, sshd, trusted):
    r = diag(proc, sshd, key=sshd.stranger_key)
    assert r.code == 7
    error = one_line(r)
    assert "authentication failed for user root" in error and str(sshd.stranger_key) in error


def test_password_comes_only_from_the_hidden_prompt(sshd, home, user_home, trusted):
    from fieldkit.remote.ssh import SshOptions, connect
    from fieldkit.remote.target import parse_host

    asked = []

    def prompt(text):
        asked.append(text)
        return "not-the-password-4711"

    options = SshOptions(known_hosts=trusted, ask_password=prompt, ssh_dir=user_home / ".ssh")
    with pytest.raises(RemoteError) as caught:
        connect(parse_host(sshd.url(PASSWORD), user_home / ".ssh"), options)
    assert caught.value.kind == "auth" and asked == [f"Password for root@{sshd.address}"]
    assert "not-the-password-4711" not in str(caught.value)
    assert "not-the-password-4711" not in sshd.log_text()


def test_no_terminal_no_password_prompt(proc, sshd, trusted):
    r = proc("diag", "--host", sshd.url(PASSWORD), "--check", "system.os")
    assert r.code == 7 and "no key found, and no terminal to ask for a password" in r.err


def test_ssh_config_alias_is_honoured(proc, sshd, trusted, user_home):
    (user_home / ".ssh" / "config").write_text(
        f"Host office-pc\n  HostName {sshd.address}\n  Port {BARE_ALT}\n  User root\n"
        f"  IdentityFile {sshd.user_key}\n")
    r = proc("diag", "--host", "ssh://office-pc", "--check", "system.os", "--json")
    assert r.code == 0, r.err
    assert r.json()["host"] == "fk-remote"


def test_a_jump_host_in_the_config_is_refused_in_words(proc, sshd, trusted, user_home):
    (user_home / ".ssh" / "config").write_text("Host office-pc\n  ProxyJump bastion\n")
    r = proc("diag", "--host", "ssh://office-pc", "--check", "system.os")
    assert r.code == 7 and "jump host" in one_line(r)


@pytest.mark.parametrize(("port", "words", "kind_seconds"), [
    (2299, "connection refused on port 2299", 1.0),
    (DROPPED, "no answer within 1 s", 4.0),
    (SILENT, "no SSH server spoke within 1 s", 4.0),
])
def test_connection_failures_are_exit_7_within_the_timeout(proc, sshd, trusted, home, port,
                                                           words, kind_seconds):
    remote_config(home, connect_timeout_s=1)
    t0 = time.monotonic()
    r = proc("diag", "--host", sshd.url(port), "--check", "system.os")
    assert r.code == 7 and words in one_line(r), r.err
    assert time.monotonic() - t0 < kind_seconds + 2  # the process itself needs ~1 s


def test_command_timeout(sshd, trusted, user_home):
    from fieldkit.remote.ssh import SshOptions, connect
    from fieldkit.remote.target import parse_host

    options = SshOptions(known_hosts=trusted, identity=str(sshd.user_key),
                         ssh_dir=user_home / ".ssh")
    with connect(parse_host(sshd.url(), user_home / ".ssh"), options) as connection:
        t0 = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            connection.run("sleep 5", timeout=0.5)
        assert caught.value.kind == "timeout" and time.monotonic() - t0 < 2
        assert connection.run("echo still usable").status == 0


@pytest.mark.parametrize("host", ["pc-042", "http://pc-042", "ssh://pc-042/path", "ssh://:22"])
def test_bad_host_syntax_is_bad_input(cli, host):
    r = cli("diag", "--host", host)
    assert r.code == 2 and "ssh://[user@]host[:port]" in r.err


def test_missing_key_file_is_bad_input(cli, sshd, trusted):
    r = cli("diag", "--host", sshd.url(), "-i", "/no/such/key")
    assert r.code == 2 and "-i /no/such/key: no such file" in r.err


def test_a_key_in_ssh_agent_logs_in(proc, sshd, trusted, tmp_path, monkeypatch):
    need_tool("ssh-agent", "ssh-add")
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.run(["ssh-agent", "-s", "-a", str(socket_path)],
                           capture_output=True, text=True, check=True)
    pid = int(agent.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))
        subprocess.run(["ssh-add", str(sshd.user_key)], check=True, capture_output=True)
        r = proc("diag", "--host", sshd.url(), "--check", "system.os", "--json")  # no -i
        assert r.code == 0, r.err
    finally:
        os.kill(pid, 15)
