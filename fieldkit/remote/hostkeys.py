"""Which SSH host keys fieldkit trusts, and the only way it ever writes one down.

The decision is OpenSSH's (``ssh -o StrictHostKeyChecking=yes``, 9.2; hostfile.c and
sshconnect.c), checked against the real client by tests/remote/test_hostkeys_oracle.py.
Read, **read only**: the user's files (``UserKnownHostsFile``, by default ``~/.ssh/known_hosts``
and ``~/.ssh/known_hosts2``), fieldkit's own ``<home>/known_hosts``, and the system's
(``GlobalKnownHostsFile``, by default ``/etc/ssh/ssh_known_hosts`` and ``ssh_known_hosts2``).
Every matching line of every file counts: a key ``@revoked`` for the name is refused, a name
known with other keys in any file is "changed" (of any type, as OpenSSH); keys are compared
parsed (:func:`same_key`), and a ``RevokedHostKeys`` key list is read by
:func:`revoked_in_list`. Written: fieldkit's
own file only, and only by appending one line (0600 on POSIX). paramiko's own host-key saving
is never used: it rewrites the whole file from what it parsed, dropping comments, markers and
every line it did not understand.

Matching follows OpenSSH: comma-separated patterns with ``*`` and ``?``, ``!`` negation,
case-insensitive; ``[host]:port`` for ports other than 22, then the plain host; hashed entries
(``|1|salt|hmac``) only as the exact string; a key whose blob is not a whole key of the type
the line names is a bad line, skipped. ``@cert-authority`` lines vouch for host certificates,
which fieldkit does not take: for a plain key they count for nothing, as in OpenSSH.

Plain standard library, so the verdicts are tested without a server and without paramiko.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

OK, UNKNOWN, CHANGED, REVOKED = "ok", "unknown", "changed", "revoked"
# a known "ssh-rsa" key is offered under these signature algorithms (paramiko's key_types)
ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


@dataclass(frozen=True)
class KnownKey:
    key_type: str
    blob: bytes
    path: Path
    line: int
    revoked: bool = False

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def own_file(home: Path) -> Path:
    """fieldkit's own known_hosts (appended to only), in the fieldkit home: one place for
    ``--host`` and the SFTP sync backend."""
    return home / "known_hosts"


def fingerprint(blob: bytes) -> str:
    """OpenSSH's ``SHA256:...`` form (base64 of the key blob's SHA-256, no padding)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def blob_type(blob: bytes) -> str:
    """The key type written inside a public key blob (``ssh-ed25519``, ``ssh-rsa``, ...)."""
    (length,) = struct.unpack(">I", blob[:4])
    return blob[4:4 + length].decode("ascii", "replace")


def lookup(files: list[Path], name: str) -> list[KnownKey]:
    """Every key the files hold for ``name`` (``host``, ``[host]:port`` or a HostKeyAlias), in
    file order. A line OpenSSH cannot parse is skipped, as OpenSSH skips it: it is no key."""
    found: list[KnownKey] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # missing or unreadable: nothing known from it
            continue
        for number, line in enumerate(text.split("\n"), 1):
            entry = _parse(line, path, number, name)
            if entry is not None:
                found.append(entry)
    return found


def judge(known: list[KnownKey], blob: bytes) -> tuple[str, list[KnownKey]]:
    """The verdict on an offered key, with the entries it rests on (OpenSSH's
    ``check_key_in_hostkeys``).

    ``revoked``: the key is marked ``@revoked`` for the name, whatever else is known.
    ``changed``: the name is known with other keys and none is this one, of any type: OpenSSH
    says "REMOTE HOST IDENTIFICATION HAS CHANGED" also for a known host that now offers a new
    type (with :func:`preferred_algorithms` a server offers a known type whenever it has one).
    """
    revoked = [k for k in known if k.revoked and same_key(k.blob, blob)]
    if revoked:
        return REVOKED, revoked
    valid = [k for k in known if not k.revoked]
    same = [k for k in valid if same_key(k.blob, blob)]
    if same:
        return OK, same
    if valid:
        return CHANGED, valid
    return UNKNOWN, []


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` concluded, for the caller to act on and to word."""

    verdict: str  # OK, UNKNOWN, CHANGED or REVOKED
    entries: tuple[KnownKey, ...]  # the lines it rests on
    name: str  # the name those lines were found under
    # UNKNOWN only: keys the plain host name holds that are not this one (a host on another
    # port that is known on its plain name): --trust-new-host does not save over them
    conflicts: tuple[KnownKey, ...] = ()


def decide(known: list[KnownKey], blob: bytes, name: str, files: list[Path],
           plain_name: str = "") -> Decision:
    """OpenSSH's decision (``check_host_key``) on ``blob`` offered by ``name``, whose entries
    are ``known``. A ``[host]:port`` that is new is looked up again as the plain ``host``
    ("checking without port identifier"): a match there is accepted, as OpenSSH does; a key
    revoked there is refused."""
    verdict, entries = judge(known, blob)
    if verdict != UNKNOWN or not plain_name:
        return Decision(verdict, tuple(entries), name)
    plain_verdict, plain_entries = judge(lookup(files, plain_name), blob)
    if plain_verdict in (OK, REVOKED):
        return Decision(plain_verdict, tuple(plain_entries), plain_name)
    return Decision(UNKNOWN, (), name, tuple(plain_entries))


def address_conflict(files: list[Path], blob: bytes, hostname: str, address: str, port: int,
                     via_plain: bool) -> tuple[KnownKey, str] | None:
    """``CheckHostIP yes``: an entry for the server's address that holds another key (and not
    this one) makes ssh refuse a host it otherwise accepts. Checked under ``[address]:port``,
    and under the plain address too when the key was accepted under the plain host name; not
    for a loopback address or when the host name is that very name, as ssh skips it then.
    Returns the entry and the name it was found under."""
    if ipaddress.ip_address(address.split("%")[0]).is_loopback:
        return None
    for number in (port, 22) if via_plain else (port,):
        name = address if number == 22 else f"[{address}]:{number}"
        if name == hostname:
            continue
        verdict, entries = judge(lookup(files, name), blob)
        if verdict == CHANGED:
            return entries[0], name
    return None


def preferred_algorithms(known: list[KnownKey], available: list[str]) -> list[str]:
    """``available`` host key algorithms reordered as ssh's ``order_hostkeyalgs`` does: those
    of a type known for the name first, each group in the client's own order.

    A server picks the first algorithm in the client's list that it has. Without this, a host
    known by its ecdsa key would be asked for ed25519 first and then look changed. The order
    within the known types matters too: known by ecdsa in one file and by another ed25519 key in
    another, ssh is offered the ed25519 key, and calls it changed.
    """
    types = {entry.key_type for entry in known if not entry.revoked}
    first = [a for a in available if _plain_type(a) in types]
    return first + [a for a in available if a not in first]


def _plain_type(algorithm: str) -> str:
    return next((t for t, names in ALGORITHMS.items() if algorithm in names), algorithm)


def append(path: Path, name: str, blob: bytes) -> None:
    """Add one line to fieldkit's own known_hosts (created 0600; nothing else is rewritten)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    line = (f"{name} {blob_type(blob)} {base64.b64encode(blob).decode()} "
            f"added-by-fieldkit-{stamp}\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if hasattr(os, "fchmod"):  # POSIX; Windows has no modes (the home is the user's own)
            os.fchmod(fd, 0o600)  # a file someone made by hand may be looser; it is ours
        if os.fstat(fd).st_size and not _ends_with_newline(path):
            line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _parse(line: str, path: Path, number: int, name: str) -> KnownKey | None:
    """One line as OpenSSH's ``hostkeys_foreach_file`` reads it: fields split at spaces and
    tabs only, one optional marker, the host field matched first, then the key parsed strictly
    (a bad line is skipped, never half-used)."""
    fields = [f for f in re.split(r"[ \t]+", line.rstrip("\r")) if f]
    if not fields or fields[0].startswith("#"):
        return None
    marker = ""
    if fields[0].startswith("@"):
        marker, fields = fields[0], fields[1:]
        # ssh ends a marker at the line's first space, a tab only where there is no space:
        # "@revoked<tab>host key" is a bad line for it, so it is one here
        text = line.lstrip(" \t")
        if (" " in text and "\t" in text[:text.index(" ")]):
            return None
        if marker not in ("@revoked", "@cert-authority") or (fields and fields[0][:1] == "@"):
            return None  # an unknown marker, or two: a bad line
    if not fields or not host_matches(fields[0], name):
        return None
    if marker == "@cert-authority":
        return None  # it vouches for host certificates only, never for a plain key
    if len(fields) < 3 or fields[2].startswith("#"):
        return None
    blob = parse_key(fields[1], fields[2])
    if blob is None:
        return None
    return KnownKey(blob_type(blob), blob, path, number, marker == "@revoked")


# the names a known_hosts line may give a key type under, and the type inside its blob
_TYPE_NAMES = {"rsa-sha2-256": "ssh-rsa", "rsa-sha2-512": "ssh-rsa"}
_EC_POINT = {"nistp256": 65, "nistp384": 97, "nistp521": 133}


def parse_key(type_name: str, text: str) -> bytes | None:
    """The key blob of ``TYPE BASE64``, or None where OpenSSH's ``sshkey_read`` fails: bad
    base64, a blob that is not a whole key of its type, or a blob of another type than the
    line names (``ssh-rsa`` in front of an ed25519 key)."""
    text = re.sub(r"\s", "", text)  # b64_pton skips white space, and nothing else
    try:
        blob = base64.b64decode(text, validate=True)
        fields, rest = _fields(blob)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(blob).decode() != text:  # extra "=", bits after the end: not OpenSSH's
        return None
    kind = fields[0].decode("ascii", "replace") if fields else ""
    if kind != _TYPE_NAMES.get(type_name, type_name):
        return None
    body = fields[1:]
    if kind == "ssh-ed25519":
        ok = len(body) == 1 and len(body[0]) == 32
    elif kind.startswith("ecdsa-sha2-"):
        curve = kind.removeprefix("ecdsa-sha2-")
        ok = len(body) == 2 and body[0] == curve.encode() \
            and len(body[1]) == _EC_POINT.get(curve, -1) and body[1][:1] == b"\x04"
    elif kind == "ssh-rsa":
        ok = len(body) == 2 and int.from_bytes(body[1], "big").bit_length() >= 1024 \
            and not any(x[:1] >= b"\x80" for x in body)  # a negative mpint: no key
    elif kind == "ssh-dss":
        ok = len(body) == 4
    elif kind == "sk-ssh-ed25519@openssh.com":
        ok = len(body) == 2 and len(body[0]) == 32
    elif kind == "sk-ecdsa-sha2-nistp256@openssh.com":
        ok = len(body) == 3 and body[0] == b"nistp256" and len(body[1]) == 65
    else:  # certificates and types OpenSSH 9 does not know
        ok = False
    return blob if ok and not rest else None


def same_key(a: bytes, b: bytes) -> bool:
    """OpenSSH's ``sshkey_equal``: the same public key, compared parsed. For RSA that is
    (e, n) as numbers: a blob whose mpints carry extra leading zero bytes is the same key."""
    if a == b:
        return True
    try:
        (kind_a, *body_a), (kind_b, *body_b) = _fields(a)[0], _fields(b)[0]
    except ValueError:
        return False
    if kind_a != kind_b or kind_a != b"ssh-rsa" or len(body_a) != 2 or len(body_b) != 2:
        return False
    return [int.from_bytes(x, "big") for x in body_a] == \
        [int.from_bytes(x, "big") for x in body_b]


class RevokedListError(Exception):
    """A RevokedHostKeys file fieldkit cannot judge (a KRL, unreadable, a bad line)."""


def revoked_in_list(path: Path, blob: bytes) -> bool:
    """Whether ``RevokedHostKeys`` lists ``blob``, as ssh's ``sshkey_check_revoked`` reads a
    plain file: one public key a line (``TYPE BASE64 [comment]``), ``#`` comments and blank
    lines skipped. ssh refuses every key when the file cannot be read or a line is no key;
    RevokedListError says why. A KRL (binary, ``ssh-keygen -k``) fieldkit cannot read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RevokedListError(f"it cannot be read ({exc.strerror or exc})") from None
    if data.startswith(b"SSHKRL\n\0"):
        raise RevokedListError("it is a KRL (key revocation list), which fieldkit cannot read")
    for number, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        fields = line.strip(" \t\r").split()
        if not fields or fields[0].startswith("#"):
            continue
        listed = parse_key(fields[0], fields[1]) if len(fields) >= 2 else None
        if listed is None:
            raise RevokedListError(f"line {number} is not a public key")
        if same_key(listed, blob):
            return True
    return False


def _fields(blob: bytes) -> tuple[list[bytes], bytes]:
    """The length-prefixed strings of a blob, and what trails them (should be nothing)."""
    fields: list[bytes] = []
    pos = 0
    while pos + 4 <= len(blob):
        (length,) = struct.unpack(">I", blob[pos:pos + 4])
        if pos + 4 + length > len(blob):
            raise ValueError("truncated")
        fields.append(blob[pos + 4:pos + 4 + length])
        pos += 4 + length
    return fields, blob[pos:]


def host_matches(patterns: str, name: str) -> bool:
    """OpenSSH's host field: a hashed name, or a pattern list (any positive match, no negated
    one; ``*`` and ``?``; case-insensitive)."""
    if patterns.startswith("|"):
        return _hashed_match(patterns, name)
    name = name.lower()
    matched = False
    for pattern in patterns.lower().split(","):
        negated = pattern.startswith("!")
        if negated:
            pattern = pattern[1:]
        if len(pattern) >= 1023:  # OpenSSH gives up on the whole list
            return False
        if _glob(pattern).fullmatch(name):
            if negated:
                return False
            matched = True
    return matched


def _glob(pattern: str) -> re.Pattern[str]:
    # only * and ? are special (not fnmatch's [...]: "[host]:port" is literal)
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern), re.DOTALL)


def _hashed_match(entry: str, name: str) -> bool:
    """``|1|salt|hmac`` (what ``HashKnownHosts yes`` writes) matches only as the exact string
    OpenSSH computes for ``name``: ``|1|...|...,other`` or a digest with junk is no match, and a
    salt that is not 20 bytes of base64 makes the line a bad one."""
    parts = entry.split("|", 3)
    if len(parts) < 4 or parts[1] != "1":
        return False
    try:
        salt = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        return False
    if len(salt) != 20:
        return False
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    expected = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"
    return hmac.compare_digest(expected.encode(), entry.encode())
