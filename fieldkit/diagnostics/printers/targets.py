"""Printer targets as a technician types them, and the printer behind a queue's device URI.

``ipp://`` and ``ipps://`` (631), ``socket://`` (raw JetDirect, 9100), ``lpd://`` (515), or a
bare host meaning "try IPP, then 9100, then 515". A typo is an :class:`InputError` before any
packet is sent.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from fieldkit.diagnostics.net.targets import ascii_host, host_problem
from fieldkit.errors import InputError

DEFAULT_PORTS = {"ipp": 631, "ipps": 631, "socket": 9100, "lpd": 515}


@dataclass(frozen=True)
class PrinterTarget:
    text: str  # as given (or the device URI of a queue): the finding's subject
    kind: str  # ipp, ipps, socket, lpd, or auto (a bare host)
    host: str
    port: int
    path: str = ""  # IPP resource ('' = try the usual ones) or LPD queue
    queue: str = ""  # the local queue(s) this printer serves

    def uri(self, kind: str | None = None, port: int | None = None, path: str | None = None,
            ) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        kind, port = kind or self.kind, port or self.port
        suffix = self.path if path is None else path
        if kind == "lpd" and suffix and not suffix.startswith("/"):
            suffix = "/" + suffix
        return f"{kind}://{host}:{port}{suffix}"


def parse_printer_target(text: str) -> PrinterTarget:
    raw = text.strip()
    if not raw:
        raise InputError("empty printer target: give ipp://HOST, socket://HOST, lpd://HOST or "
                         "a host name")
    if "://" not in raw:
        host = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
        _check_host(host, text)
        return PrinterTarget(raw, "auto", ascii_host(host), 631)
    parts = urlsplit(raw)
    kind = parts.scheme.lower()
    if kind not in DEFAULT_PORTS:
        raise InputError(f"printer target {text!r}: unknown scheme {parts.scheme!r} (use "
                         "ipp://, ipps://, socket://, lpd:// or a bare host)")
    try:
        port = parts.port or DEFAULT_PORTS[kind]
    except ValueError:
        raise InputError(f"printer target {text!r}: port must be a number from 1 to "
                         "65535") from None
    if not parts.hostname:
        raise InputError(f"printer target {text!r} has no host")
    _check_host(parts.hostname, text)
    path = parts.path
    if kind == "socket" and path not in ("", "/"):
        raise InputError(f"printer target {text!r}: a socket:// target has no path")
    if kind == "lpd":
        path = path.strip("/")
    return PrinterTarget(raw, kind, ascii_host(parts.hostname), port, path)


def _check_host(host: str, text: str) -> None:
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if ":" in host:
        raise InputError(f"printer target {text!r}: for another port give a URL, e.g. "
                         "ipp://host:8631 or socket://host:9101")
    problem = host_problem(host)  # the same linear-time check as reach and mail
    if problem:
        raise InputError(f"printer target {text!r}: {host!r} is not a valid host name "
                         f"({problem})")


def device_target(uri: str, queue: str) -> PrinterTarget | str:
    """The printer behind a queue's device URI, or why it is not asked directly."""
    scheme = uri.split(":", 1)[0].lower()
    scheme = {"http": "ipp", "https": "ipps"}.get(scheme, scheme)
    if scheme == "dnssd":
        return "found by its mDNS name (dnssd://): try 'fieldkit diag printer --discover'"
    if scheme == "usb":
        return "USB printer: check that its cable is plugged in and it is switched on"
    if scheme not in DEFAULT_PORTS:
        return f"{scheme} device: not a network printer"
    parts = urlsplit(uri)
    try:
        target = parse_printer_target(parts._replace(scheme=scheme, query="",
                                                     fragment="").geturl())
    except InputError as exc:
        return f"device URI not usable: {exc}"
    return replace(target, text=uri, queue=queue)
