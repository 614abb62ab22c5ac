"""A small IPP codec (RFC 8010 messages) and one HTTP/1.1 channel to carry it.

Why our own and not pyipp: its high-level ``printer()`` model crashes on real devices (an
IndexError when marker lists differ in length, IEEE-1284 device-id parsing) and it drags in
aiohttp for what is one synchronous POST. Its low-level parser would do, but a status probe needs
only a few hundred lines of stdlib, and a decoder we own can be tested on captured bytes and be
strict where it matters: a truncated or malformed message is a :class:`DecodeError`, never a
half-filled answer. Values decode to plain Python (int, bool, str, bytes for octetString,
datetime, tuples for resolution and ranges, dicts for collections); out-of-band values (unknown,
no-value, unsupported) decode to ``None``.

The channel speaks to a printer over TCP or TLS, or to a CUPS scheduler over its Unix socket.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

# delimiter tags (attribute groups)
OPERATION, JOB, END, PRINTER, UNSUPPORTED_GROUP = 0x01, 0x02, 0x03, 0x04, 0x05
# value tags
UNSUPPORTED, UNKNOWN, NO_VALUE = 0x10, 0x12, 0x13
INTEGER, BOOLEAN, ENUM = 0x21, 0x22, 0x23
OCTET_STRING, DATETIME, RESOLUTION, RANGE = 0x30, 0x31, 0x32, 0x33
BEG_COLLECTION, TEXT_LANG, NAME_LANG, END_COLLECTION = 0x34, 0x35, 0x36, 0x37
TEXT, NAME, KEYWORD, URI, URI_SCHEME, CHARSET, LANGUAGE, MIME = (
    0x41, 0x42, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49)
MEMBER_NAME, EXTENSION = 0x4A, 0x7F

# operations
PRINT_JOB, GET_JOBS, GET_PRINTER_ATTRIBUTES = 0x0002, 0x000A, 0x000B
CUPS_GET_PRINTERS = 0x4002

STATUS_NAMES = {
    0x0000: "successful-ok", 0x0001: "successful-ok-ignored-or-substituted-attributes",
    0x0002: "successful-ok-conflicting-attributes", 0x0400: "client-error-bad-request",
    0x0401: "client-error-forbidden", 0x0402: "client-error-not-authenticated",
    0x0403: "client-error-not-authorized", 0x0404: "client-error-not-possible",
    0x0406: "client-error-not-found", 0x040B: "client-error-attributes-or-values-not-supported",
    0x0500: "server-error-internal-error", 0x0501: "server-error-operation-not-supported",
    0x0502: "server-error-service-unavailable", 0x0503: "server-error-version-not-supported",
    0x0507: "server-error-busy",
}
MAX_MESSAGE = 4 * 1024 * 1024  # far more than any status answer; a bound against a runaway peer
MAX_NESTING = 16  # real collections nest 2-3 deep; deeper is an attack on the recursion


class DecodeError(ValueError):
    """The bytes are not a well-formed IPP message."""


class HttpError(Exception):
    """The server answered HTTP, but not with an IPP message (status, content type)."""

    def __init__(self, status: int, content_type: str) -> None:
        super().__init__(f"HTTP {status} {content_type or 'without content type'}")
        self.status, self.content_type = status, content_type


@dataclass
class Attribute:
    name: str
    tag: int
    values: list[Any]


@dataclass
class Message:
    """A request (``code`` = operation-id) or a response (``code`` = status-code)."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: list[tuple[int, list[Attribute]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code < 0x0100

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.code, f"0x{self.code:04x}")

    def first(self, group_tag: int) -> dict[str, list[Any]]:
        """The first group with that tag as ``{name: values}`` (empty when absent)."""
        return next(iter(self.all(group_tag)), {})

    def all(self, group_tag: int) -> list[dict[str, list[Any]]]:
        return [{a.name: a.values for a in attrs} for tag, attrs in self.groups
                if tag == group_tag]


def request(code: int, request_id: int, attributes: list[Attribute],
            version: tuple[int, int] = (2, 0)) -> bytes:
    """An IPP request: charset and language first, as RFC 8011 requires, then ``attributes``."""
    head = [Attribute("attributes-charset", CHARSET, ["utf-8"]),
            Attribute("attributes-natural-language", LANGUAGE, ["en"])]
    return encode(Message(version, code, request_id, [(OPERATION, head + attributes)]))


def encode(message: Message) -> bytes:
    out = bytearray(struct.pack(">BBHI", *message.version, message.code, message.request_id))
    for group_tag, attributes in message.groups:
        out.append(group_tag)
        for attribute in attributes:
            _encode_attribute(out, attribute.name, attribute.tag, attribute.values)
    out.append(END)
    return bytes(out)


def _encode_attribute(out: bytearray, name: str, tag: int, values: list[Any]) -> None:
    for i, value in enumerate(values or [None]):
        label = (name if i == 0 else "").encode()
        if tag == BEG_COLLECTION:
            out += struct.pack(">BH", tag, len(label)) + label + b"\x00\x00"
            for member, member_values in value.items():
                m = member.encode()
                out += struct.pack(">BHH", MEMBER_NAME, 0, len(m)) + m
                _encode_attribute(out, "", _tag_of(member_values), member_values)
            out += struct.pack(">BHH", END_COLLECTION, 0, 0)
            continue
        raw = _encode_value(tag, value)
        out += struct.pack(">BH", tag, len(label)) + label + struct.pack(">H", len(raw)) + raw


def _tag_of(values: list[Any]) -> int:
    """The tag for a collection member written from plain values (encoder convenience)."""
    sample = values[0] if values else None
    if isinstance(sample, bool):
        return BOOLEAN
    if isinstance(sample, int):
        return INTEGER
    if isinstance(sample, dict):
        return BEG_COLLECTION
    if isinstance(sample, bytes):
        return OCTET_STRING
    return KEYWORD


def _encode_value(tag: int, value: Any) -> bytes:
    if 0x10 <= tag <= 0x1F:
        return b""
    if tag in (INTEGER, ENUM):
        return struct.pack(">i", value)
    if tag == BOOLEAN:
        return b"\x01" if value else b"\x00"
    if tag == DATETIME:
        offset = value.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        return struct.pack(">HBBBBBBcBB", value.year, value.month, value.day, value.hour,
                           value.minute, value.second, value.microsecond // 100000,
                           b"-" if minutes < 0 else b"+", abs(minutes) // 60, abs(minutes) % 60)
    if tag == RESOLUTION:
        return struct.pack(">iib", *value)
    if tag == RANGE:
        return struct.pack(">ii", *value)
    if tag in (TEXT_LANG, NAME_LANG):
        lang, text = value
        return struct.pack(">H", len(lang)) + lang.encode() + struct.pack(">H", len(
            text.encode())) + text.encode()
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def decode(data: bytes) -> Message:
    """Parse a whole IPP message; raises :class:`DecodeError` on anything malformed."""
    reader = _Reader(data)
    major, minor, code, request_id = struct.unpack(">BBHI", reader.take(8, "header"))
    message = Message((major, minor), code, request_id)
    tag = reader.byte("first group tag")
    while tag != END:
        if not 0x01 <= tag <= 0x0F:
            raise DecodeError(f"expected an attribute group at byte {reader.pos - 1}, "
                              f"got tag 0x{tag:02x}")
        attributes: list[Attribute] = []
        message.groups.append((tag, attributes))
        tag = reader.byte("attribute tag")
        while tag > 0x0F:
            name, value = reader.name_and_value(tag)
            if name:
                attributes.append(Attribute(name, tag, [value]))
            elif attributes:
                attributes[-1].values.append(value)
            else:
                raise DecodeError(f"additional value without an attribute at byte {reader.pos}")
            tag = reader.byte("attribute tag")
    return message


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.depth = data, 0, 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise DecodeError(f"truncated IPP message: {what} at byte {self.pos} needs {n} "
                              f"bytes, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def short(self, what: str) -> int:
        return int(struct.unpack(">H", self.take(2, what))[0])

    def name_and_value(self, tag: int) -> tuple[str, Any]:
        name = self.take(self.short("name length"), "name").decode("utf-8", "replace")
        if tag == EXTENSION:  # the real tag follows in the value: keep its bytes
            return name, self.take(self.short("value length"), "extension value")
        if tag == BEG_COLLECTION:
            self.take(self.short("value length"), "collection value")
            if self.depth >= MAX_NESTING:
                raise DecodeError(f"collections nested deeper than {MAX_NESTING}")
            self.depth += 1
            try:
                return name, self.collection()
            finally:
                self.depth -= 1
        raw = self.take(self.short("value length"), f"value of {name or 'additional value'}")
        try:
            return name, _decode_value(tag, raw)
        except (struct.error, ValueError) as exc:
            raise DecodeError(f"bad value for {name or 'additional value'} "
                              f"(tag 0x{tag:02x}): {exc}") from None

    def collection(self) -> dict[str, list[Any]]:
        members: dict[str, list[Any]] = {}
        current: str | None = None
        while True:
            tag = self.byte("collection member tag")
            if tag <= 0x0F:
                raise DecodeError(f"collection not closed before byte {self.pos - 1}")
            name, value = self.name_and_value(tag)
            if tag == END_COLLECTION:
                return members
            if tag == MEMBER_NAME:
                current = str(value)
                members[current] = []
            elif current is None:
                raise DecodeError(f"collection value without a member name at byte {self.pos}")
            else:
                members[current].append(value)


def _decode_value(tag: int, raw: bytes) -> Any:
    if 0x10 <= tag <= 0x1F or tag == END_COLLECTION:
        return None
    if tag in (INTEGER, ENUM):
        if len(raw) != 4:
            raise ValueError(f"an integer has 4 bytes, not {len(raw)}")
        return struct.unpack(">i", raw)[0]
    if tag == BOOLEAN:
        if len(raw) != 1:
            raise ValueError(f"a boolean has 1 byte, not {len(raw)}")
        return raw != b"\x00"
    if tag == DATETIME:
        year, month, day, hour, minute, second, decis, sign, oh, om = struct.unpack(
            ">HBBBBBBcBB", raw)
        offset = timedelta(hours=oh, minutes=om) * (-1 if sign == b"-" else 1)
        return datetime(year, month, day, hour, minute, second, decis * 100000,
                        tzinfo=timezone(offset) if offset else UTC)
    if tag == RESOLUTION:
        return struct.unpack(">iib", raw)
    if tag == RANGE:
        return struct.unpack(">ii", raw)
    if tag in (TEXT_LANG, NAME_LANG):
        n = struct.unpack(">H", raw[:2])[0]
        (m,) = struct.unpack(">H", raw[2 + n:4 + n])
        if 4 + n + m != len(raw):
            raise ValueError("inconsistent lengths in a value with language")
        return raw[4 + n:].decode("utf-8", "replace")
    if 0x40 <= tag <= 0x5F:
        return raw.decode("utf-8", "replace")
    return raw  # octetString and tags we do not interpret


class _Connection(http.client.HTTPConnection):
    """http.client, but connecting to a chosen address, a Unix socket, or through TLS."""

    def __init__(self, host: str, port: int, timeout: float, address: str | None,
                 unix_path: str | None, context: ssl.SSLContext | None) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address, self._unix_path, self._context = address, unix_path, context

    def connect(self) -> None:
        sock: socket.socket
        if self._unix_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self._unix_path)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((self._address or self.host, self.port),
                                            self.timeout)
        if self._context is not None:
            sock = self._context.wrap_socket(sock, server_hostname=self.host.strip("[]"))
        self.sock = sock


class Channel:
    """One keep-alive HTTP/1.1 connection that POSTs IPP messages; reconnects once if dropped."""

    def __init__(self, host: str, port: int, *, timeout: float, address: str | None = None,
                 unix_path: str | None = None, context: ssl.SSLContext | None = None) -> None:
        self._conn = _Connection(host, port, timeout, address, unix_path, context)
        self._next_id = 1

    def connect(self) -> None:
        """Connect now (to see TLS errors apart from IPP ones)."""
        self._conn.connect()

    @property
    def tls_socket(self) -> ssl.SSLSocket | None:
        sock = self._conn.sock
        return sock if isinstance(sock, ssl.SSLSocket) else None

    def call(self, path: str, code: int, attributes: list[Attribute],
             version: tuple[int, int] = (2, 0)) -> Message:
        body = request(code, self._next_id, attributes, version)
        self._next_id += 1
        for attempt in (1, 2):
            try:
                return decode(self._post(path, body))
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _post(self, path: str, body: bytes) -> bytes:
        self._conn.request("POST", path, body, {"Content-Type": "application/ipp"})
        response = self._conn.getresponse()
        data = response.read(MAX_MESSAGE + 1)
        content_type = response.getheader("Content-Type", "")
        if response.status != 200 or not content_type.startswith("application/ipp"):
            raise HttpError(response.status, content_type)
        if len(data) > MAX_MESSAGE:
            raise DecodeError(f"answer larger than {MAX_MESSAGE} bytes")
        return data

    def close(self) -> None:
        self._conn.close()
