"""Login edge cases a real sshd will not produce on demand (a server that stalls mid-login, one
that accepts only passwords), with a stand-in transport; the real logins are in test_ssh.py."""

import subprocess

import paramiko
import pytest

from fieldkit.errors import RemoteError
from fieldkit.remote.auth import authenticate
from fieldkit.remote.ssh import SshOptions
from fieldkit.remote.target import Target


class Transport:
    def __init__(self, publickey=None, password=None):
        self.publickey, self.password, self.calls = publickey, password, []

    def auth_publickey(self, user, key):
        self.calls.append(("publickey", user))
        raise self.publickey

    def auth_password(self, user, secret):
        self.calls.append(("password", user))
        if self.password:
            raise self.password


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def target():
    return Target("pc", "pc", 22, "ann")


def test_a_server_that_stalls_during_login_is_an_auth_timeout(tmp_path, key):
    transport = Transport(publickey=paramiko.SSHException("Authentication timeout."))
    options = SshOptions(known_hosts=tmp_path / "kh", identity=str(key), auth_timeout_s=2,
                         use_agent=False, ssh_dir=tmp_path)
    with pytest.raises(RemoteError) as caught:
        authenticate(transport, target(), options)
    assert caught.value.kind == "timeout" and "within 2 s" in str(caught.value)


def test_password_only_server_asks_once_and_says_what_was_tried(tmp_path, key):
    transport = Transport(publickey=paramiko.BadAuthenticationType("no", ["password"]),
                          password=paramiko.AuthenticationException("no"))
    asked = []
    options = SshOptions(known_hosts=tmp_path / "kh", identity=str(key), use_agent=False,
                         ssh_dir=tmp_path, ask_password=lambda p: asked.append(p) or "pw")
    with pytest.raises(RemoteError) as caught:
        authenticate(transport, target(), options)
    assert asked == ["Password for ann@pc"] and caught.value.kind == "auth"
    assert "tried: a password" in str(caught.value)
    assert [c[0] for c in transport.calls] == ["publickey", "password"]


def test_a_key_only_server_never_asks_for_a_password(tmp_path, key):
    transport = Transport(publickey=paramiko.BadAuthenticationType("no", ["publickey"]))
    options = SshOptions(known_hosts=tmp_path / "kh", identity=str(key), use_agent=False,
                         ssh_dir=tmp_path, ask_password=pytest.fail)
    with pytest.raises(RemoteError, match="the server accepts only publickey"):
        authenticate(transport, target(), options)
