"""fieldkit's host-key decision against OpenSSH's own, case by case, on one real sshd.

Each case is a set of files (the user's known_hosts and known_hosts2, ~/.ssh/config, the
system's ssh_known_hosts, ssh_known_hosts2 and ssh_config, anything they name). The real
``ssh -o StrictHostKeyChecking=yes -o BatchMode=yes`` and fieldkit face the same sshd with
the same files, put in place by a private mount namespace (``hostkey_oracle.py``); the test
asserts fieldkit accepts exactly where ssh does, and refuses for the same reason (unknown,
changed, revoked). ``expect`` is what ssh answered when the case
was written: it only catches an oracle that changed (another OpenSSH); the comparison that
matters is with the answer ssh gives now.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tests.peers.sshd import keygen, public_line

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
NAME = "srv.acme.test"  # /etc/hosts in the namespace: the sshd's address


@dataclass
class Case:
    name: str
    expect: str  # "accept" or "refuse": ssh's answer when the case was written
    user: str = ""  # ~/.ssh/known_hosts
    user2: str = ""  # ~/.ssh/known_hosts2
    system: str = ""  # /etc/ssh/ssh_known_hosts
    system2: str = ""  # /etc/ssh/ssh_known_hosts2
    config: str = ""  # ~/.ssh/config
    sysconfig: str = ""  # /etc/ssh/ssh_config
    url: str = "ssh://root@{addr}:2222"
    files: dict[str, str] = field(default_factory=dict)  # "etc/..." or "home/..." -> text


P = "[{addr}]:2222"  # the sshd on port 2222, by address
N = "[" + NAME + "]:2222"  # the same, by name
BY_NAME = "ssh://root@" + NAME + ":2222"
CHECK_IP = "CheckHostIP yes\n"
ALIAS = "Host srvalias\n  HostName {addr}\n  Port 2222\n  HostKeyAlias {alias}\n"
CASES = [
    # the basics
    Case("exact key, user file", "accept", user=P + " {ed}\n"),
    Case("nothing known", "refuse"),
    Case("another key of the same type", "refuse", user=P + " {other}\n"),
    Case("known by its ecdsa key only", "accept", user=P + " {ec}\n"),
    Case("known only with a key of another type", "refuse", user=P + " {rsa}\n"),
    Case("one of two known keys matches", "accept", user=P + " {other}\n" + P + " {ed}\n"),
    Case("port 22: plain name", "accept", url="ssh://root@{addr}", user="{addr} {ed}\n"),
    Case("port 22: [host]:22 is not the name", "refuse", url="ssh://root@{addr}",
         user="[{addr}]:22 {ed}\n"),
    # patterns
    Case("wildcard *", "accept", user="[10.210.0.*]:2222 {ed}\n"),
    Case("wildcard ?", "accept", user="[10.210.0.?]:2222 {ed}\n"),
    Case("bare * matches [host]:port", "accept", user="* {ed}\n"),
    Case("comma list", "accept", user="foo,[{addr}]:2222,bar {ed}\n"),
    Case("negation wins over *", "refuse", user="*,![{addr}]:2222,!{addr} {ed}\n"),
    Case("negated [host]:port, plain name still matches", "accept",
         user="*,![{addr}]:2222 {ed}\n"),
    Case("negation alone matches nothing", "refuse", user="![other]:2222 {ed}\n"),
    Case("negation of another name", "accept", url="ssh://root@" + NAME + ":2222",
         user="*,!other.acme.test {ed}\n"),
    Case("pattern case-insensitive", "accept", url="ssh://root@" + NAME + ":2222",
         user="[SRV.ACME.TEST]:2222 {ed}\n"),
    Case("host name typed in capitals", "accept", url="ssh://root@SRV.Acme.Test:2222",
         user="[" + NAME + "]:2222 {ed}\n"),
    Case("name: the address entry does not count", "refuse",
         url="ssh://root@" + NAME + ":2222", user=P + " {ed}\n"),
    Case("domain wildcard", "accept", url="ssh://root@" + NAME + ":2222",
         user="[*.acme.test]:2222 {ed}\n"),
    Case("domain wildcard, changed", "refuse", url="ssh://root@" + NAME + ":2222",
         user="[*.acme.test]:2222 {other}\n"),
    # hashed names
    Case("hashed [host]:port", "accept", user="{hash_port} {ed}\n"),
    Case("hashed, another name", "refuse", user="{hash_other} {ed}\n"),
    Case("hashed followed by ,other", "refuse", user="{hash_port},other {ed}\n"),
    Case("hashed with a bad salt is a bad line", "accept",
         user="|1|@@notbase64@@|AAAA {other}\n" + P + " {ed}\n"),
    Case("hashed, changed key", "refuse", user="{hash_port} {other}\n"),
    Case("hashed name typed in capitals", "accept", url="ssh://root@SRV.ACME.test:2222",
         user="{hash_name} {ed}\n"),
    # ports
    Case("non-standard port known by plain name", "accept", user="{addr} {ed}\n"),
    Case("plain name with another key", "refuse", user="{addr} {other}\n"),
    Case("plain name, key revoked there", "refuse",
         user="{addr} {ed}\n@revoked {addr} {ed}\n"),
    Case("plain name known by ecdsa only", "refuse", user="{addr} {ec}\n"),
    Case("[host]:port wins over the plain name", "accept",
         user=P + " {ed}\n{addr} {other}\n"),
    Case("changed on the port, plain name matches", "refuse",
         user=P + " {other}\n{addr} {ed}\n"),
    Case("only another port known", "refuse", user="[{addr}]:2200 {ed}\n"),
    # HostKeyAlias
    Case("alias verbatim", "accept", url="ssh://root@srvalias", config=ALIAS,
         user="myalias {ed}\n"),
    Case("alias is not [alias]:port", "refuse", url="ssh://root@srvalias", config=ALIAS,
         user="[myalias]:2222 {ed}\n"),
    Case("alias changed, address known", "refuse", url="ssh://root@srvalias", config=ALIAS,
         user="myalias {other}\n" + P + " {ed}\n"),
    Case("alias: no plain-name fallback", "refuse", url="ssh://root@srvalias", config=ALIAS,
         user="{addr} {ed}\n"),
    Case("alias in capitals, hashed entry", "accept", url="ssh://root@srvalias",
         config=ALIAS.replace("{alias}", "MyAlias"), user="{hash_alias} {ed}\n"),
    Case("config HostName and Port", "accept", url="ssh://root@pc",
         config="Host pc\n  HostName " + NAME + "\n  Port 2222\n",
         user="[" + NAME + "]:2222 {ed}\n"),
    # revocations
    Case("revoked in the user file", "refuse", user=P + " {ed}\n@revoked * {ed}\n"),
    Case("revoked in the system file", "refuse", user=P + " {ed}\n",
         system="@revoked * {ed}\n"),
    Case("revoked in known_hosts2", "refuse", user=P + " {ed}\n", user2="@revoked * {ed}\n"),
    Case("another key revoked", "accept", user="@revoked * {other}\n" + P + " {ed}\n"),
    Case("only the ecdsa key, revoked", "refuse", user="@revoked " + P + " {ec}\n"),
    Case("revoked for another host", "accept",
         user="@revoked other.acme.test {ed}\n" + P + " {ed}\n"),
    Case("ecdsa revoked, ed25519 known", "accept", user=P + " {ed}\n@revoked * {ec}\n"),
    Case("@revoked and a tab: a bad line for ssh", "accept",
         user="@revoked\t* {ed}\n" + P + " {ed}\n"),
    Case("@revoked and a tab, no space after", "refuse",
         user="@revoked\t*\tssh-ed25519\t{ed_blob}\n" + P + " {ed}\n"),
    Case("a bad @revoked line counts for nothing", "accept",
         user="@revoked * ssh-rsa {ed_blob}\n" + P + " {ed}\n"),
    # @cert-authority
    Case("cert-authority line only", "refuse", user="@cert-authority * {ed}\n"),
    Case("cert-authority key is not a changed key", "accept",
         user="@cert-authority * {other}\n" + P + " {ed}\n"),
    Case("cert-authority with the host key, plain other key", "refuse",
         user="@cert-authority " + P + " {ed}\n" + P + " {other}\n"),
    # system and user files
    Case("system file", "accept", system=P + " {ed}\n"),
    Case("system known_hosts2", "accept", system2=P + " {ed}\n"),
    Case("changed in the system file", "refuse", system=P + " {other}\n"),
    Case("user other, system matches", "accept", user=P + " {other}\n",
         system=P + " {ed}\n"),
    Case("ecdsa known, another ed25519 in the system file", "refuse", user=P + " {ec}\n",
         system=P + " {other}\n"),
    Case("user known_hosts2", "accept", user2=P + " {ed}\n"),
    Case("changed in known_hosts2", "refuse", user2=P + " {other}\n"),
    # files named by a config
    Case("GlobalKnownHostsFile from ~/.ssh/config", "accept",
         config="GlobalKnownHostsFile /etc/ssh/extra_known\n",
         files={"etc/extra_known": P + " {ed}\n"}),
    Case("GlobalKnownHostsFile from ssh_config", "accept",
         sysconfig="GlobalKnownHostsFile /etc/ssh/extra_known\n",
         files={"etc/extra_known": P + " {ed}\n"}),
    Case("GlobalKnownHostsFile replaces the default", "refuse",
         sysconfig="GlobalKnownHostsFile /etc/ssh/extra_known\n", system=P + " {ed}\n"),
    Case("changed in a GlobalKnownHostsFile", "refuse",
         sysconfig="Host *\n  GlobalKnownHostsFile /etc/ssh/extra_known\n",
         files={"etc/extra_known": P + " {other}\n"}),
    Case("UserKnownHostsFile replaces known_hosts", "accept",
         config="UserKnownHostsFile ~/.ssh/custom\n", user="@revoked * {ed}\n",
         files={"home/.ssh/custom": P + " {ed}\n"}),
    Case("the user's config wins over ssh_config", "accept",
         config="UserKnownHostsFile ~/.ssh/a\n", sysconfig="UserKnownHostsFile ~/.ssh/b\n",
         files={"home/.ssh/a": P + " {ed}\n", "home/.ssh/b": "@revoked * {ed}\n"}),
    Case("ssh_config Host block", "accept", url="ssh://root@" + NAME + ":2222",
         sysconfig="Host other\n  GlobalKnownHostsFile /dev/null\n"
                   "Host " + NAME + "\n  GlobalKnownHostsFile /etc/ssh/srv_known\n",
         files={"etc/srv_known": "[" + NAME + "]:2222 {ed}\n"}),
    Case("ssh_config Host block for another host", "refuse",
         sysconfig="Host other\n  GlobalKnownHostsFile /etc/ssh/srv_known\n",
         files={"etc/srv_known": P + " {ed}\n"}),
    Case("Match host block", "accept", config="Match host {addr}\n  UserKnownHostsFile "
         "~/.ssh/matched\n", files={"home/.ssh/matched": P + " {ed}\n"}),
    Case("Include in ssh_config", "accept", sysconfig="Include /etc/ssh/ssh_config.d/*.conf\n",
         files={"etc/ssh_config.d/10-fk.conf": "GlobalKnownHostsFile /etc/ssh/inc_known\n",
                "etc/inc_known": P + " {ed}\n"}),
    Case("Match final all, as Fedora ships it", "accept",
         sysconfig="Include /etc/ssh/ssh_config.d/*.conf\n",
         files={"etc/ssh_config.d/50-redhat.conf": "Match final all\n"
                "  GlobalKnownHostsFile /etc/ssh/extra_known\n",
                "etc/extra_known": P + " {ed}\n"}),
    Case("Include relative to ~/.ssh", "accept", config="Include extra.conf\n",
         files={"home/.ssh/extra.conf": "UserKnownHostsFile ~/.ssh/inc\n",
                "home/.ssh/inc": P + " {ed}\n"}),
    Case("UserKnownHostsFile with tokens", "accept",
         config="UserKnownHostsFile %d/.ssh/kh-%h-%p\n",
         files={"home/.ssh/kh-{addr}-2222": P + " {ed}\n"}),
    Case("UserKnownHostsFile /dev/null, system file knows", "accept",
         config="UserKnownHostsFile /dev/null\n", user="@revoked * {ed}\n",
         system=P + " {ed}\n"),
    Case("two GlobalKnownHostsFiles, revoked in the second", "refuse",
         sysconfig="GlobalKnownHostsFile /etc/ssh/g1 /etc/ssh/g2\n",
         files={"etc/g1": P + " {ed}\n", "etc/g2": "@revoked * {ed}\n"}),
    Case("config Host negation", "refuse", url="ssh://root@" + NAME + ":2222",
         config="Host * !" + NAME + "\n  UserKnownHostsFile ~/.ssh/wrong\n"
                "Host *\n  UserKnownHostsFile ~/.ssh/right\n",
         files={"home/.ssh/wrong": "[" + NAME + "]:2222 {ed}\n",
                "home/.ssh/right": "[" + NAME + "]:2222 {other}\n"}),
    Case("Include inside a Host block", "accept", config="Host {addr}\n  Include inc.conf\n",
         files={"home/.ssh/inc.conf": "UserKnownHostsFile ~/.ssh/inc\n",
                "home/.ssh/inc": P + " {ed}\n"}),
    Case("Include inside a block for another host", "refuse",
         config="Host other\n  Include inc.conf\n",
         files={"home/.ssh/inc.conf": "UserKnownHostsFile ~/.ssh/inc\n",
                "home/.ssh/inc": P + " {ed}\n"}, user=P + " {other}\n"),
    Case("HostName in capitals", "accept", url="ssh://root@pc",
         config="Host pc\n  HostName SRV.ACME.TEST\n  Port 2222\n",
         user="[" + NAME + "]:2222 {ed}\n"),
    Case("HostKeyAlias on port 22", "accept", url="ssh://root@srvalias",
         config="Host srvalias\n  HostName {addr}\n  HostKeyAlias myalias\n",
         user="myalias {ed}\n"),
    Case("empty pattern in a list", "accept", user="foo,,[{addr}]:2222 {ed}\n"),
    Case("hashed plain name, new port", "accept", user="{hash_plain} {ed}\n"),
    Case("revoked under a hashed name", "refuse", user=P + " {ed}\n@revoked {hash_port} {ed}\n"),
    Case("cert-authority for the plain name, new port", "refuse",
         user="@cert-authority {addr} {ed}\n"),
    Case("marker in capitals is a bad line", "accept",
         user="@REVOKED * {ed}\n" + P + " {ed}\n"),
    Case("host:port without brackets is no name", "refuse", user="{addr}:2222 {ed}\n"),
    Case("[host]:* matches every port", "accept", user="[{addr}]:* {ed}\n"),
    Case("hashed with a 16-byte salt is a bad line", "accept",
         user="|1|AAAAAAAAAAAAAAAAAAAAAA==|AAAA {other}\n" + P + " {ed}\n"),
    Case("HostKeyAlias from ssh_config", "accept",
         sysconfig="Host {addr}\n  HostKeyAlias myalias\n", user="myalias {ed}\n"),
    Case("HostName with %h", "accept", url="ssh://root@srv",
         config="Host srv\n  HostName %h.acme.test\n  Port 2222\n", user=N + " {ed}\n"),
    Case("Port from ssh_config", "accept", url="ssh://root@{addr}",
         sysconfig="Host *\n  Port 2222\n", user=P + " {ed}\n{addr} {other}\n"),
    Case("Match originalhost", "accept", url="ssh://root@pc",
         config="Match originalhost pc\n  UserKnownHostsFile ~/.ssh/m\n"
                "Host pc\n  HostName {addr}\n  Port 2222\n",
         files={"home/.ssh/m": P + " {ed}\n"}, user=P + " {other}\n"),
    # UserKnownHostsFile tokens, as ssh 9.2 expands them
    Case("UserKnownHostsFile %k is the HostKeyAlias", "accept", url="ssh://root@srvalias",
         config=ALIAS + "  UserKnownHostsFile ~/.ssh/kh.d/%k\n", user="myalias {other}\n",
         files={"home/.ssh/kh.d/myalias": "myalias {ed}\n"}),
    Case("UserKnownHostsFile %k without an alias: the host as typed", "accept",
         url="ssh://root@SRV.Acme.Test:2222", config="UserKnownHostsFile ~/.ssh/kh-%k\n",
         files={"home/.ssh/kh-SRV.Acme.Test": N + " {ed}\n"}),
    Case("UserKnownHostsFile %%h is a literal %h", "accept",
         config="UserKnownHostsFile ~/.ssh/kh-%%h\n", user=P + " {other}\n",
         files={"home/.ssh/kh-%h": P + " {ed}\n"}),
    Case("UserKnownHostsFile %C", "accept", config="UserKnownHostsFile ~/.ssh/kh-%C\n",
         files={"home/.ssh/kh-{hash_c}": P + " {ed}\n"}),
    Case("UserKnownHostsFile %l %L %i %u %n %r", "accept",
         config="UserKnownHostsFile ~/.ssh/kh-%l-%L-%i-%u-%n-%r\n",
         files={"home/.ssh/kh-{local}-{short}-{uid}-{me}-{addr}-root": P + " {ed}\n"}),
    Case("UserKnownHostsFile ${HOME}", "accept", config="UserKnownHostsFile ${{HOME}}/kh\n",
         files={"home/kh": P + " {ed}\n"}),
    Case("GlobalKnownHostsFile takes no tokens", "accept",
         sysconfig="GlobalKnownHostsFile /etc/ssh/g%%h\n", files={"etc/g%%h": P + " {ed}\n"}),
    # RevokedHostKeys: a plain list of public keys
    Case("RevokedHostKeys lists the key", "refuse", config="RevokedHostKeys /etc/ssh/rev\n",
         user=P + " {ed}\n", files={"etc/rev": "# gone\n\n{ed}\n"}),
    Case("RevokedHostKeys lists another key", "accept",
         config="RevokedHostKeys /etc/ssh/rev\n", user=P + " {ed}\n",
         files={"etc/rev": "# gone\n\n  {other}\n"}),
    Case("RevokedHostKeys lists an unknown host's key", "refuse",
         sysconfig="RevokedHostKeys /etc/ssh/rev\n", files={"etc/rev": "{ed}\n"}),
    Case("RevokedHostKeys takes no tokens", "refuse", config="RevokedHostKeys /etc/ssh/r%%h\n",
         user=P + " {ed}\n", files={"etc/r%%h": "{ed}\n"}),
    Case("RevokedHostKeys ~ is not expanded: every key refused", "refuse",
         config="RevokedHostKeys ~/.ssh/rev\n", user=P + " {ed}\n",
         files={"home/.ssh/rev": "{other}\n"}),
    Case("RevokedHostKeys missing: ssh refuses every key", "refuse",
         config="RevokedHostKeys /etc/ssh/nothing\n", user=P + " {ed}\n"),
    Case("RevokedHostKeys with a bad line", "refuse", config="RevokedHostKeys /etc/ssh/rev\n",
         user=P + " {ed}\n", files={"etc/rev": "{other}\nnot a key\n"}),
    Case("RevokedHostKeys none", "accept", config="RevokedHostKeys none\n",
         user=P + " {ed}\n"),
    # CheckHostIP yes: the address's entries count too
    Case("CheckHostIP from ssh_config", "refuse", url=BY_NAME, sysconfig=CHECK_IP,
         user=N + " {ed}\n" + P + " {other}\n"),
    Case("CheckHostIP: address known with another key", "refuse", url=BY_NAME, config=CHECK_IP,
         user=N + " {ed}\n" + P + " {other}\n"),
    Case("CheckHostIP: address known with the same key", "accept", url=BY_NAME,
         config=CHECK_IP, user=N + " {ed}\n" + P + " {ed}\n"),
    Case("CheckHostIP: address unknown", "accept", url=BY_NAME, config=CHECK_IP,
         user=N + " {ed}\n"),
    Case("CheckHostIP off: the address does not count", "accept", url=BY_NAME,
         user=N + " {ed}\n" + P + " {other}\n"),
    Case("CheckHostIP: plain names, plain address conflicts", "refuse", url=BY_NAME,
         config=CHECK_IP, user=NAME + " {ed}\n{addr} {other}\n"),
    Case("CheckHostIP: address key revoked", "accept", url=BY_NAME, config=CHECK_IP,
         user=N + " {ed}\n@revoked " + P + " {ed}\n"),
    Case("CheckHostIP by address", "accept", config=CHECK_IP, user=P + " {ed}\n"),
    Case("CheckHostIP with an alias", "refuse", url="ssh://root@srvalias",
         config="CheckHostIP yes\n" + ALIAS.replace("{addr}", NAME),
         user="myalias {ed}\n" + P + " {other}\n"),
    # key types and malformed lines
    Case("rsa-sha2-512 names an RSA key", "refuse", user=P + " rsa-sha2-512 {rsa_blob}\n"),
    Case("key type in capitals", "refuse", user=P + " SSH-ED25519 {ed_blob}\n"),
    Case("garbage after the key", "accept", user=P + " {ed} # ! @ | , [x]:1\n"),
    Case("key type does not match the blob", "refuse", user=P + " ssh-rsa {ed_blob}\n"),
    Case("mismatched line is no changed key", "accept",
         user=P + " ecdsa-sha2-nistp256 {other_blob}\n", system=P + " {ed}\n"),
    Case("ecdsa curve mismatch", "refuse", user=P + " ecdsa-sha2-nistp384 {ec_blob}\n"),
    Case("truncated base64", "refuse", user=P + " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA\n"),
    Case("base64 with junk padding", "refuse", user=P + " ssh-ed25519 {ed_blob}=\n"),
    Case("unknown marker", "refuse", user="@trusted " + P + " {ed}\n"),
    Case("two markers: a bad line", "accept",
         user="@revoked @cert-authority * {ed}\n" + P + " {ed}\n"),
    Case("leading blanks, tabs, comment", "accept", user="  \t" + P + "\t{ed}  a comment\n"),
    Case("CRLF line ends", "accept", user="# notes\r\n" + P + " {ed}\r\n"),
    Case("line without a key", "refuse", user=P + "\n" + P + " ssh-ed25519\n"),
]


def hashed(name: str, salt: bytes) -> str:
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"


@pytest.fixture(scope="module")
def keys(sshd, tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("oracle-keys")
    ed, ec = public_line(sshd.host_ed25519), public_line(sshd.host_ecdsa)
    other = public_line(sshd.stranger_key)
    rsa = public_line(keygen(root / "rsa", "rsa"))
    salt = hashlib.sha1(b"fk").digest()
    local = socket.gethostname()
    return {"local": local, "short": local.split(".")[0], "uid": str(os.getuid()),
            "me": getpass.getuser(),
            "hash_c": hashlib.sha1(f"{local}{sshd.address}2222root".encode()).hexdigest(),
            "addr": sshd.address, "alias": "myalias", "ed": ed, "ec": ec, "other": other,
            "rsa": rsa, "ed_blob": ed.split()[1], "ec_blob": ec.split()[1],
            "other_blob": other.split()[1], "rsa_blob": rsa.split()[1],
            "hash_plain": hashed(sshd.address, salt),
            "hash_port": hashed(f"[{sshd.address}]:2222", salt),
            "hash_other": hashed(f"[{sshd.address}]:2223", salt),
            "hash_name": hashed(f"[{NAME}]:2222", salt), "hash_alias": hashed("myalias", salt)}


def build(case: Case, where: Path, keys: dict[str, str]) -> None:
    """The case's files, as the namespace will show them (``etc`` is /etc/ssh, ``home`` ~)."""
    texts = {"home/.ssh/known_hosts": case.user, "home/.ssh/known_hosts2": case.user2,
             "home/.ssh/config": case.config, "etc/ssh_known_hosts": case.system,
             "etc/ssh_known_hosts2": case.system2, "etc/ssh_config": case.sysconfig,
             **case.files}
    for folder in ("etc", "home/.ssh", "fieldkit"):
        (where / folder).mkdir(parents=True, mode=0o700)
    for name, text in texts.items():
        if text:
            path = where / name.format(**keys)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.format(**keys).encode())
    (where / "url").write_text(case.url.format(**keys))


@pytest.fixture(scope="module")
def answers(sshd, keys, tmp_path_factory) -> dict[str, dict]:
    """Every case through ssh and fieldkit, in one namespace and one process."""
    need_tool("ssh", "unshare", "mount")
    root = tmp_path_factory.mktemp("oracle")
    cases = {}
    for number, case in enumerate(CASES):
        build(case, root / f"case{number}", keys)
        cases[case.name] = str(root / f"case{number}")
    (root / "hosts").write_text(f"127.0.0.1 localhost\n{sshd.address} {NAME} srv\n")
    job = {"cases": cases, "hosts": str(root / "hosts"), "key": str(sshd.user_key)}
    (root / "job.json").write_text(json.dumps(job))
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", sys.executable,
         str(Path(__file__).with_name("hostkey_oracle.py")), str(root / "job.json")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_there_are_enough_cases():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fieldkit_decides_as_openssh(answers, case):
    ssh, ours = answers[case.name]["ssh"], answers[case.name]["fieldkit"]
    assert ssh["answer"] in ("accept", "refuse"), f"ssh itself failed: {ssh['why']}"
    assert ours["answer"] == ssh["answer"], f"ssh: {ssh}, fieldkit: {ours}"
    assert ssh["answer"] == case.expect, f"OpenSSH now answers otherwise: {ssh}"
    # and for the same reason: ssh's "No ... host key is known", "HAS CHANGED" or "REVOKED"
    assert ours["why"] == ssh["why"], f"ssh: {ssh}, fieldkit: {ours}"
