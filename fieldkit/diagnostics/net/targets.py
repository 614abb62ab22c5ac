"""Target parsing for ``reach`` and ``mail``: one linear pass, no regular expressions.

A target list comes from a technician's typing or a profile someone else wrote, so the parser
must refuse bad input at once and in time proportional to its length: the old regex validator
backtracked catastrophically (``a-b-c...,.acme.local`` ran for over a minute). Host names follow
the DNS limits (a label is 1-63 characters, a name at most 253); ports are ASCII digits only, so
``host:٣`` (an Arabic-Indic three) is refused instead of silently becoming port 3. International
names are encoded as a browser does (:func:`ascii_host`, UTS-46 + IDNA), here for every parser
of a host (reach, mail, printers, ``--host``, checklist answers).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from fieldkit.errors import InputError

MAX_NAME = 253
MAX_LABEL = 63
MAX_TARGET_TEXT = 1100  # a 253-character name, brackets, a port: anything longer is not a target
_ASCII_DIGITS = frozenset("0123456789")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True)
class Target:
    text: str  # as the user wrote it: the finding's subject
    host: str
    port: int

    @property
    def key(self) -> tuple[str, int]:
        """Two targets with the same key are the same probe (names are case-insensitive)."""
        return self.host.lower().rstrip("."), self.port


def ascii_host(host: str) -> str:
    """The name as a browser sends it: an international one (``drucker-büro.acme.local``)
    mapped by UTS-46 (non-transitional: ``ß`` stays ``ß``) and IDNA-encoded label by label
    (``xn--drucker-bro-1hb.acme.local``); ASCII names and addresses unchanged, ``_`` kept.
    ValueError with the reason when it cannot be encoded.

    Uses the ``idna`` package (what httpx uses); a bare python3 without it (the remote probe,
    which gets names already encoded) falls back to the standard library's IDNA 2003 codec."""
    if host.isascii():
        return host
    try:
        import idna
    except ImportError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"not a valid international name ({exc})") from None
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        return ".".join(label if label.isascii() else idna.alabel(label).decode("ascii")
                        for label in mapped.split("."))
    except idna.IDNAError as exc:
        raise ValueError(f"not a valid international name ({exc})") from None


def host_problem(host: str) -> str:
    """Why ``host`` is not a usable host name or IP address; empty when it is fine. An
    international name is judged in its encoded form (:func:`ascii_host`)."""
    if not host:
        return "empty host"
    if not host.isascii():
        try:
            host = ascii_host(host)
        except ValueError as exc:
            return str(exc)
    try:
        ipaddress.ip_address(host)
        return ""
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if len(name) > MAX_NAME:
        return f"a DNS name has at most {MAX_NAME} characters (this one has {len(name)})"
    for label in name.split("."):
        if not label:
            return "empty label (two dots in a row, or a leading dot)"
        if len(label) > MAX_LABEL:
            return (f"a DNS label has at most {MAX_LABEL} characters ({label[:20]}... has "
                    f"{len(label)})")
        if label[0] == "-" or label[-1] == "-":
            return f"label {label!r} starts or ends with '-'"
        bad = next((c for c in label if c not in _LABEL_CHARS), None)
        if bad is not None:
            return f"{bad!r} is not allowed in a host name"
    return ""


def parse_port(text: str, where: str) -> int:
    """ASCII digits only, 1..65535: ``str.isdigit`` would accept any Unicode digit."""
    if not text or len(text) > 5 or not set(text) <= _ASCII_DIGITS or not 1 <= int(text) <= 65535:
        raise InputError(f"{where}: port must be a number from 1 to 65535")
    return int(text)


def parse_target(text: str) -> Target:
    """``host:port`` or ``[v6]:port``; anything else is a clear :class:`InputError`."""
    raw = text.strip()
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    if not raw:
        raise InputError("empty target: give host:port, e.g. mail.example.com:587")
    if len(raw) > MAX_TARGET_TEXT:
        raise InputError(f"target {shown!r} is too long to be host:port")
    if "://" in raw or "/" in raw:
        raise InputError(f"target {shown!r}: give host:port, not a URL")
    host, port = split_host_port(raw, f"target {shown!r}", hint=": give host:port")
    return Target(raw, ascii_host(host), port)


def split_host_port(netloc: str, what: str, default_port: int | None = None,
                    hint: str = "") -> tuple[str, int]:
    """``host[:port]`` or ``[v6][:port]`` of a reach target or a URL, checked; the port is
    required when there is no ``default_port``. ``what`` names the input in the errors
    ("target 'x'"), ``hint`` follows "has no host"."""
    port_text: str | None
    if netloc.startswith("["):
        host, sep, after = netloc[1:].partition("]")
        if not sep or (after and not after.startswith(":")) or (default_port is None
                                                                and not after):
            raise InputError(f"{what}: write IPv6 as [address]:port")
        port_text = after[1:] if after else None
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InputError(f"{what}: {host!r} is not an IPv6 address") from None
    else:
        host, sep, port_text = netloc.rpartition(":") if ":" in netloc else (netloc, "", None)
        if not sep and default_port is None:
            raise InputError(f"{what} has no port: give host:port")
        if ":" in host:
            raise InputError(f"{what}: write IPv6 as [address]:port")
        if not host:
            raise InputError(f"{what} has no host{hint}")
        problem = host_problem(host)
        if problem:
            raise InputError(f"{what}: not a valid host name or address ({problem})")
    if port_text is None:
        assert default_port is not None  # refused above when there is none
        return host, default_port
    return host, parse_port(port_text, what)


def merge_duplicates(targets: list[Target]) -> tuple[list[Target], dict[tuple[str, int], int]]:
    """Keep the first of each (host, port); the count says how often it was given."""
    unique: dict[tuple[str, int], Target] = {}
    counts: dict[tuple[str, int], int] = {}
    for target in targets:
        unique.setdefault(target.key, target)
        counts[target.key] = counts.get(target.key, 0) + 1
    return list(unique.values()), counts
