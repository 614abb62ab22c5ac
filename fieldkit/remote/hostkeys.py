"""Which SSH host keys fieldkit trusts, and the only way it ever writes one down.

Read: the user's ``~/.ssh/known_hosts`` (or the config's ``UserKnownHostsFile``), **read only**,
plus fieldkit's own ``<home>/known_hosts``. Written: fieldkit's own file only, and only by
appending one line (file 0600). paramiko's own host-key saving is never used: it rewrites the
whole file from what it parsed, dropping comments, markers and every line it did not understand.

Matching follows OpenSSH: comma-separated patterns with ``*`` and ``?``, ``!`` negation,
``[host]:port`` for ports other than 22, hashed entries (``|1|salt|hmac``, what
``HashKnownHosts yes`` writes), and ``@revoked`` lines (such a key is refused outright).
``@cert-authority`` lines are skipped: fieldkit does not verify host certificates.

Plain standard library, so the verdicts are tested without a server and without paramiko.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
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
    """Every key the files hold for ``name`` (``host`` or ``[host]:port``), in file order."""
    found: list[KnownKey] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:  # missing or unreadable: nothing known from it
            continue
        for number, line in enumerate(text.splitlines(), 1):
            entry = _parse(line, path, number, name)
            if entry is not None:
                found.append(entry)
    return found


def judge(known: list[KnownKey], blob: bytes) -> tuple[str, list[KnownKey]]:
    """The verdict on an offered key, with the entries it rests on.

    ``changed``: a key of the same type is known and this is not it. A host known only with
    keys of *other* types that offers a new type is ``unknown`` (as OpenSSH says it): with
    :func:`preferred_algorithms` a server offers a known type whenever it still has one.
    """
    key_type = blob_type(blob)
    revoked = [k for k in known if k.revoked and k.blob == blob]
    if revoked:
        return REVOKED, revoked
    valid = [k for k in known if not k.revoked]
    same = [k for k in valid if k.blob == blob]
    if same:
        return OK, same
    same_type = [k for k in valid if k.key_type == key_type]
    if same_type:
        return CHANGED, same_type
    return UNKNOWN, valid


def preferred_algorithms(known: list[KnownKey], available: list[str]) -> list[str]:
    """``available`` host key algorithms reordered: the types already known for the host first.

    A server picks the first algorithm in the client's list that it has. Without this, a host
    known by its ed25519 key would be asked for ecdsa first if the client happened to prefer it,
    and then look "unknown".
    """
    first: list[str] = []
    for entry in known:
        if not entry.revoked:
            for algorithm in ALGORITHMS.get(entry.key_type, (entry.key_type,)):
                if algorithm in available and algorithm not in first:
                    first.append(algorithm)
    return first + [a for a in available if a not in first]


def append(path: Path, name: str, blob: bytes) -> None:
    """Add one line to fieldkit's own known_hosts (created 0600; nothing else is rewritten)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    line = (f"{name} {blob_type(blob)} {base64.b64encode(blob).decode()} "
            f"added-by-fieldkit-{stamp}\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
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
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    revoked = False
    if fields[0].startswith("@"):
        if fields[0] != "@revoked":  # @cert-authority: host certificates are not supported
            return None
        revoked, fields = True, fields[1:]
    if len(fields) < 3 or not host_matches(fields[0], name):
        return None
    try:
        blob = base64.b64decode(fields[2], validate=True)
        key_type = blob_type(blob)
    except (binascii.Error, struct.error, ValueError):
        return None
    return KnownKey(key_type, blob, path, number, revoked)


def host_matches(patterns: str, name: str) -> bool:
    """OpenSSH's host pattern list: any positive match, and no negated one."""
    name = name.lower()
    if patterns.startswith("|1|"):
        return _hashed_match(patterns, name)
    matched = False
    for pattern in patterns.lower().split(","):
        negated = pattern.startswith("!")
        if _glob(pattern[1:] if negated else pattern).fullmatch(name):
            if negated:
                return False
            matched = True
    return matched


def _glob(pattern: str) -> re.Pattern[str]:
    # only * and ? are special (not fnmatch's [...]: "[host]:port" is literal)
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern))


def _hashed_match(entry: str, name: str) -> bool:
    try:
        _empty, _one, salt, digest = entry.split("|")
        expected = base64.b64decode(digest)
        mac = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(mac, expected)
