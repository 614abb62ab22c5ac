"""``--host`` parsing and ~/.ssh/config, without a server."""

import getpass
from pathlib import Path

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


def test_system_config_comes_after_the_users(tmp_path, monkeypatch):
    """As ssh: ~/.ssh/config first, /etc/ssh/ssh_config after it, the first value wins; an
    Include is followed (relative to /etc/ssh there)."""
    from fieldkit.remote import sshconfig

    etc = tmp_path / "etc"
    (etc / "ssh_config.d").mkdir(parents=True)
    monkeypatch.setattr(sshconfig, "SYSTEM_DIR", etc)
    (tmp_path / "config").write_text("Host pc\n  User ann\n")
    (etc / "ssh_config").write_text("Include ssh_config.d/*.conf\nHost *\n  User root\n"
                                    "  GlobalKnownHostsFile /site/known\n")
    (etc / "ssh_config.d" / "10.conf").write_text("Host pc\n  Port 2200\n  HostName 10.0.0.5\n")
    t = parse_host("ssh://pc", tmp_path)
    assert (t.user, t.port, t.hostname) == ("ann", 2200, "10.0.0.5")
    assert t.system_known_hosts_files == (Path("/site/known"),)
    assert t.known_hosts_name == "[10.0.0.5]:2200" and t.plain_known_hosts_name == "10.0.0.5"
    assert parse_host("ssh://other", tmp_path).system_known_hosts_files == (Path("/site/known"),)


def test_default_system_files(tmp_path, monkeypatch):
    from fieldkit.remote import sshconfig

    monkeypatch.setattr(sshconfig, "SYSTEM_DIR", tmp_path / "etc")
    t = parse_host("ssh://PC.Acme.Local", tmp_path)
    assert t.system_known_hosts_files == (tmp_path / "etc" / "ssh_known_hosts",
                                          tmp_path / "etc" / "ssh_known_hosts2")
    assert t.known_hosts_name == "pc.acme.local"  # ssh lowercases the name it looks up


@pytest.mark.parametrize(("config", "words"), [
    ("Match localnetwork 10.0.0.0/8\n  Port 2\n", "cannot evaluate Match localnetwork"),
    ("Host pc\n  Include inc.conf\n", "move the Include out of the block"),
])
def test_config_fieldkit_cannot_follow_is_refused_in_words(tmp_path, monkeypatch, config, words):
    from fieldkit.remote import sshconfig

    monkeypatch.setattr(sshconfig, "SYSTEM_DIR", tmp_path / "etc")
    (tmp_path / "config").write_text(config)
    (tmp_path / "inc.conf").write_text("Host other\n  Port 3\n")
    with pytest.raises(RemoteError, match=words):
        parse_host("ssh://pc", tmp_path)


def test_include_inside_a_block_without_blocks_is_conditional(tmp_path, monkeypatch):
    from fieldkit.remote import sshconfig

    monkeypatch.setattr(sshconfig, "SYSTEM_DIR", tmp_path / "etc")
    (tmp_path / "config").write_text("Host pc\n  Include inc.conf\n  User ann\n")
    (tmp_path / "inc.conf").write_text("Port 2200\n")
    assert (parse_host("ssh://pc", tmp_path).port, parse_host("ssh://x", tmp_path).port) == \
        (2200, 22)
    assert parse_host("ssh://pc", tmp_path).user == "ann"


def test_fedora_match_final_all_is_read(tmp_path, monkeypatch):
    """Fedora's /etc/ssh/ssh_config.d/50-redhat.conf opens with 'Match final all', which
    paramiko rejects: as ssh, fieldkit reads it as 'Match final' instead of failing."""
    from fieldkit.remote import sshconfig

    etc = tmp_path / "etc"
    (etc / "ssh_config.d").mkdir(parents=True)
    monkeypatch.setattr(sshconfig, "SYSTEM_DIR", etc)
    (etc / "ssh_config").write_text("Include /etc/nothing/*.conf\n"
                                    f"Include {etc}/ssh_config.d/*.conf\n")
    (etc / "ssh_config.d" / "50-redhat.conf").write_text(
        "Match final all\n\tInclude /etc/crypto-policies/back-ends/openssh.config\n"
        "\tGSSAPIAuthentication yes\n\tGlobalKnownHostsFile /site/known\n")
    assert parse_host("ssh://pc", tmp_path).system_known_hosts_files == (Path("/site/known"),)


@pytest.mark.parametrize(("value", "words"), [
    ("~/.ssh/kh-%j", "cannot expand '%j'"), ("~/.ssh/kh-%", "cannot expand '%'"),
    ("~/.ssh/kh-%H", "cannot expand '%H'"),
    ("${FK_SURELY_UNSET}/kh", "FK_SURELY_UNSET is not set")])
def test_a_token_ssh_does_not_expand_is_refused(tmp_path, monkeypatch, value, words):
    """ssh stops at a token it does not know; fieldkit must not read some literal file."""
    monkeypatch.delenv("FK_SURELY_UNSET", raising=False)
    (tmp_path / "config").write_text(f"UserKnownHostsFile {value}\n")
    with pytest.raises(RemoteError, match=words) as caught:
        parse_host("ssh://pc", tmp_path)
    assert caught.value.kind == "config" and caught.value.exit_code == 7


def test_known_hosts_tokens(tmp_path):
    (tmp_path / "config").write_text(
        "Host office\n  HostName PC.acme.local\n  Port 2200\n  User ann\n"
        f"  UserKnownHostsFile {tmp_path}/%%h-%h-%p-%r-%n-%k\n"
        "  GlobalKnownHostsFile /etc/x%%h\n")
    t = parse_host("ssh://Office", tmp_path)
    assert t.known_hosts_files == (tmp_path / "%h-pc.acme.local-2200-ann-Office-Office",)
    assert t.system_known_hosts_files == (Path("/etc/x%%h"),)  # ssh expands no token there


def test_known_hosts_command_is_refused_in_words(tmp_path):
    (tmp_path / "config").write_text("KnownHostsCommand /usr/local/bin/kh %H\n")
    with pytest.raises(RemoteError, match="KnownHostsCommand") as caught:
        parse_host("ssh://pc", tmp_path)
    assert caught.value.kind == "config" and caught.value.exit_code == 7


def test_revoked_host_keys_is_taken_as_written(tmp_path):
    (tmp_path / "config").write_text("Host a\n  RevokedHostKeys /etc/ssh/rev%h\n"
                                     "Host b\n  RevokedHostKeys none\n")
    assert parse_host("ssh://a", tmp_path).revoked_host_keys == Path("/etc/ssh/rev%h")
    assert parse_host("ssh://b", tmp_path).revoked_host_keys is None
