"""``--host`` parsing and ~/.ssh/config, without a server."""

import getpass

import pytest

from fieldkit.errors import InputError, RemoteError
from fieldkit.remote.target import parse_host


def test_url_parts_and_defaults(tmp_path):
    t = parse_host("ssh://ann@pc-042.acme.local:2222", tmp_path)
    assert (t.user, t.hostname, t.port) == ("ann", "pc-042.acme.local", 2222)
    assert t.known_hosts_name == "[pc-042.acme.local]:2222"
    assert t.known_hosts_files == (tmp_path / "known_hosts", tmp_path / "known_hosts2")
    assert t.plain_known_hosts_name == "pc-042.acme.local"  # ssh's second try off port 22
    t = parse_host("ssh://10.0.0.5", tmp_path)
    assert (t.user, t.port, t.known_hosts_name) == (getpass.getuser(), 22, "10.0.0.5")
    t = parse_host("ssh://[fd00::5]:2200", tmp_path)
    assert t.known_hosts_name == "[fd00::5]:2200" and t.url.endswith("@[fd00::5]:2200")


@pytest.mark.parametrize("text", ["pc-042", "ann@pc-042", "sftp://pc-042", "ssh://pc-042/x",
                                  "ssh://pc:99999", "ssh://ann:secret@pc", "ssh://"])
def test_anything_else_is_bad_input(tmp_path, text):
    with pytest.raises(InputError):
        parse_host(text, tmp_path)


def test_ssh_config_is_honoured(tmp_path):
    (tmp_path / "config").write_text(
        "Host office-pc\n  HostName 10.0.0.5\n  Port 2200\n  User ann\n"
        "  IdentityFile ~/keys/office\n  IdentitiesOnly yes\n  HostKeyAlias office\n"
        f"  UserKnownHostsFile {tmp_path}/kh1 {tmp_path}/kh2\n")
    t = parse_host("ssh://office-pc", tmp_path)
    assert (t.hostname, t.port, t.user) == ("10.0.0.5", 2200, "ann")
    assert t.identity_files[0].endswith("/keys/office") and t.identities_only
    assert t.known_hosts_name == "office" and not t.plain_known_hosts_name  # as it is
    assert t.known_hosts_files == (tmp_path / "kh1", tmp_path / "kh2")
    t = parse_host("ssh://bob@office-pc:22", tmp_path)  # the URL wins over the config
    assert (t.user, t.port) == ("bob", 22)


def test_jump_hosts_are_refused(tmp_path):
    (tmp_path / "config").write_text("Host *\n  ProxyCommand nc %h %p\n")
    with pytest.raises(RemoteError, match="jump host"):
        parse_host("ssh://pc", tmp_path)
