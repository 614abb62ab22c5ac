"""known_hosts matching and verdicts, without a server: OpenSSH's patterns, hashed names,
@revoked, the key-type order, and the append-only file."""

import base64
import hashlib
import hmac
import os
import struct
import subprocess
from pathlib import Path

import pytest

from fieldkit.remote import hostkeys


def _s(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def blob(key_type: str, seed: bytes = b"k") -> bytes:
    """A structurally whole public key blob of that type (its bytes derived from ``seed``)."""
    fill = hashlib.sha512(seed).digest()
    if key_type == "ssh-ed25519":
        return _s(b"ssh-ed25519") + _s(fill[:32])
    if key_type == "ecdsa-sha2-nistp256":
        return _s(b"ecdsa-sha2-nistp256") + _s(b"nistp256") + _s(b"\x04" + fill[:64])
    assert key_type == "ssh-rsa"
    return _s(b"ssh-rsa") + _s(b"\x01\x00\x01") + _s(b"\x00\xc0" + fill * 2)


def line(names: str, data: bytes, prefix: str = "") -> str:
    return f"{prefix}{names} {hostkeys.blob_type(data)} {base64.b64encode(data).decode()}\n"


def hashed(name: str, salt: bytes = b"s" * 20) -> str:
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"


@pytest.mark.parametrize(("patterns", "name", "expected"), [
    ("pc-042", "pc-042", True),
    ("PC-042", "pc-042", True),
    ("a,pc-042,b", "pc-042", True),
    ("*.acme.local", "pc-042.acme.local", True),
    ("*.acme.local,!db.acme.local", "db.acme.local", False),
    ("pc-04?", "pc-042", True),
    ("[10.0.0.5]:2222", "[10.0.0.5]:2222", True),  # brackets are literal, not a class
    ("[10.0.0.5]:2222", "10.0.0.5", False),
    ("10.0.0.5", "[10.0.0.5]:2222", False),
    (hashed("[10.0.0.5]:2222"), "[10.0.0.5]:2222", True),
    (hashed("[10.0.0.5]:2222"), "[10.0.0.5]:22", False),
    ("|1|garbage", "x", False),
])
def test_host_patterns(patterns, name, expected):
    assert hostkeys.host_matches(patterns, name) is expected


def test_lookup_and_verdicts(tmp_path):
    ed, ed2, ec = blob("ssh-ed25519", b"1"), blob("ssh-ed25519", b"2"), blob("ecdsa-sha2-nistp256")
    path = tmp_path / "known_hosts"
    path.write_text("# comment\n\n" + line("other", ed2) + line("pc", ed)
                    + line("pc", ed2, "@cert-authority ") + "pc ssh-ed25519 %%%notbase64\n"
                    + line("pc", ec))
    known = hostkeys.lookup([tmp_path / "missing", path], "pc")
    assert [(k.key_type, k.line) for k in known] == [("ssh-ed25519", 4), ("ecdsa-sha2-nistp256", 7)]
    assert hostkeys.judge(known, ed)[0] == hostkeys.OK
    assert hostkeys.judge(known, ed2)[0] == hostkeys.CHANGED
    # known only with a key of another type: OpenSSH 9.2 calls that changed too
    assert hostkeys.judge(known[:1], ec)[0] == hostkeys.CHANGED
    assert hostkeys.judge([], ed)[0] == hostkeys.UNKNOWN


def test_revoked_wins(tmp_path):
    ed = blob("ssh-ed25519")
    path = tmp_path / "known_hosts"
    path.write_text(line("pc", ed) + line("*", ed, "@revoked "))
    verdict, entries = hostkeys.judge(hostkeys.lookup([path], "pc"), ed)
    assert verdict == hostkeys.REVOKED and entries[0].line == 2


def test_known_types_are_asked_for_first(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text(line("pc", blob("ecdsa-sha2-nistp256")) + line("pc", blob("ssh-rsa")))
    available = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"]
    order = hostkeys.preferred_algorithms(hostkeys.lookup([path], "pc"), available)
    assert order == ["ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519"]
    assert hostkeys.preferred_algorithms([], available) == available
    # known by ecdsa, then by an ed25519 key: the client's order among them, as ssh keeps it
    path.write_text(line("pc", blob("ecdsa-sha2-nistp256")) + line("pc", blob("ssh-ed25519")))
    order = hostkeys.preferred_algorithms(hostkeys.lookup([path], "pc"), available)
    assert order == available


def test_append_only_adds_a_line(tmp_path):
    path = tmp_path / "home" / "known_hosts"
    hostkeys.append(path, "[pc]:2222", blob("ssh-ed25519", b"1"))
    assert path.stat().st_mode & 0o777 == 0o600
    os.chmod(path, 0o600)
    path.write_text(path.read_text() + "# a comment someone added, no newline at the end")
    before = path.read_text()
    hostkeys.append(path, "pc", blob("ssh-ed25519", b"2"))
    after = path.read_text()
    assert after.startswith(before + "\n") and after.endswith("\n")
    assert [k.line for k in hostkeys.lookup([path], "pc")] == [3]


def test_fingerprint_is_openssh_sha256():
    data = blob("ssh-ed25519", b"x" * 32)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    assert hostkeys.fingerprint(data) == f"SHA256:{digest}"


def test_no_auto_accepting_policy_anywhere():
    """The package never lets paramiko decide about host keys, and never saves its files."""
    from pathlib import Path

    import fieldkit

    root = Path(fieldkit.__file__).parent
    source = "\n".join(p.read_text() for p in root.rglob("*.py"))
    for forbidden in ("AutoAddPolicy", "WarningPolicy", "save_host_keys",
                      "set_missing_host_key_policy", "load_system_host_keys", "shell=True"):
        assert forbidden not in source, forbidden


def test_append_without_fchmod(tmp_path, monkeypatch):
    """Windows has no os.fchmod: --trust-new-host crashed there; the line is still written."""
    monkeypatch.delattr(os, "fchmod")
    path = tmp_path / "home" / "known_hosts"
    hostkeys.append(path, "pc", blob("ssh-ed25519"))
    assert [k.line for k in hostkeys.lookup([path], "pc")] == [1]


@pytest.mark.parametrize(("text", "valid"), [
    ("{ed}", True),
    ("ssh-rsa {ed_b64}", False),  # the type named is not the blob's
    ("ecdsa-sha2-nistp384 {ec_b64}", False),  # nor the curve
    ("ssh-ed25519 {ed_b64}=", False),  # junk padding
    ("ssh-ed25519 " + base64.b64encode(blob("ssh-ed25519") + b"x").decode(), False),  # trailing
    ("ssh-ed25519 " + base64.b64encode(b"\0\0\0\x0bssh-ed25519\0\0\0\x10" + b"k" * 16).decode(),
     False),  # a 16-byte ed25519 key
    ("{rsa}", True),
    ("rsa-sha2-512 {rsa_b64}", True),  # a name OpenSSH also reads RSA keys under
])
def test_key_field_is_parsed_as_sshkey_read(tmp_path, text, valid):
    ed, ec, rsa = blob("ssh-ed25519"), blob("ecdsa-sha2-nistp256"), blob("ssh-rsa")
    b64 = {"ed_b64": base64.b64encode(ed).decode(), "ec_b64": base64.b64encode(ec).decode(),
           "rsa_b64": base64.b64encode(rsa).decode()}
    fields = {"ed": line("", ed).strip(), "rsa": line("", rsa).strip(), **b64}
    path = tmp_path / "known_hosts"
    path.write_text(f"pc {text.format(**fields)}\n")
    assert bool(hostkeys.lookup([path], "pc")) is valid


@pytest.mark.parametrize(("entry", "expected"), [
    (hashed("pc"), True),
    (hashed("pc") + ",other", False),  # OpenSSH compares the whole field
    (hashed("PC"), False),  # the name is lowercased before hashing, not the entry
    ("|1|c2FsdA==|" + hashed("pc").split("|")[3], False),  # a salt that is not 20 bytes
    ("|2|" + hashed("pc")[3:], False),
])
def test_hashed_entries_are_exact(entry, expected):
    assert hostkeys.host_matches(entry, "pc") is expected


def test_a_new_port_falls_back_to_the_plain_name(tmp_path):
    ed, other = blob("ssh-ed25519", b"1"), blob("ssh-ed25519", b"2")
    path = tmp_path / "known_hosts"
    path.write_text(line("pc", ed))
    decision = hostkeys.decide([], ed, "[pc]:2222", [path], "pc")
    assert (decision.verdict, decision.name) == (hostkeys.OK, "pc")
    decision = hostkeys.decide([], other, "[pc]:2222", [path], "pc")
    assert decision.verdict == hostkeys.UNKNOWN and decision.conflicts[0].line == 1
    assert hostkeys.decide([], ed, "[pc]:2222", [path]).verdict == hostkeys.UNKNOWN  # alias


def _padded_rsa(data: bytes) -> bytes:
    """The same RSA key with a zero byte more in front of e and n (still positive mpints)."""
    kind, e, n = hostkeys._fields(data)[0]
    return _s(kind) + _s(b"\x00" + e) + _s(b"\x00" + n)


def test_rsa_keys_are_compared_by_their_numbers(tmp_path):
    """OpenSSH trims leading zeros of an mpint: the padded blob is the same key, so an
    @revoked line with it revokes the key (byte-wise it did not)."""
    rsa = blob("ssh-rsa")
    padded = _padded_rsa(rsa)
    assert padded != rsa and hostkeys.same_key(padded, rsa)
    assert not hostkeys.same_key(blob("ssh-rsa", b"other"), rsa)
    path = tmp_path / "known_hosts"
    path.write_text(line("pc", rsa) + line("*", padded, "@revoked "))
    verdict, _ = hostkeys.judge(hostkeys.lookup([path], "pc"), rsa)
    assert verdict == hostkeys.REVOKED
    path.write_text(line("pc", padded))
    assert hostkeys.judge(hostkeys.lookup([path], "pc"), rsa)[0] == hostkeys.OK


def test_negative_rsa_numbers_are_no_key():
    kind, e, n = hostkeys._fields(blob("ssh-rsa"))[0]
    negative = _s(kind) + _s(e) + _s(n.lstrip(b"\x00"))  # n's top bit set, no zero in front
    assert hostkeys.parse_key("ssh-rsa", base64.b64encode(negative).decode()) is None


def test_revoked_list_file(tmp_path):
    ed, rsa = blob("ssh-ed25519"), blob("ssh-rsa")
    path = tmp_path / "revoked"
    path.write_text("# retired\n\n" + line("", _padded_rsa(rsa)).lstrip())
    assert hostkeys.revoked_in_list(path, rsa) and not hostkeys.revoked_in_list(path, ed)
    path.write_text("")
    assert not hostkeys.revoked_in_list(path, ed)
    path.write_text("ssh-ed25519 ???\n")
    with pytest.raises(hostkeys.RevokedListError, match="line 1 is not a public key"):
        hostkeys.revoked_in_list(path, ed)
    with pytest.raises(hostkeys.RevokedListError, match="cannot be read"):
        hostkeys.revoked_in_list(tmp_path / "missing", ed)


def test_a_krl_is_refused_in_words(tmp_path):
    """A real KRL from ssh-keygen: fieldkit cannot read it, and says so (never "not listed")."""
    from tests.conftest import need_tool
    from tests.peers.sshd import keygen

    need_tool("ssh-keygen")
    key = keygen(tmp_path / "k")
    krl = tmp_path / "krl"
    subprocess.run(["ssh-keygen", "-q", "-k", "-f", str(krl), f"{key}.pub"], check=True,
                   capture_output=True)
    data = base64.b64decode(Path(f"{key}.pub").read_text().split()[1])
    with pytest.raises(hostkeys.RevokedListError, match="KRL"):
        hostkeys.revoked_in_list(krl, data)
