"""ipps for printers: the channel that reads a self-signed printer, and TLS on an ipp:// port.

Split from printers.py to keep it short; see its docstring for why an unverified connection
is used at all (only the status request is sent on it).
"""

from __future__ import annotations

import ssl
from typing import Any

from fieldkit.diagnostics.printers.targets import PrinterTarget
from fieldkit.diagnostics.wire import ipp


def tls_channel(target: PrinterTarget, address: str, timeout: float,
                 ) -> tuple[ipp.Channel, dict[str, Any]]:
    from fieldkit.diagnostics.net import tls
    from fieldkit.trust import client_context

    channel = ipp.Channel(target.host, target.port, timeout=timeout, address=address,
                          context=client_context())
    try:
        channel.connect()
        info = tls.describe(channel.tls_socket, "ok") if channel.tls_socket else {}
        return channel, {**info, "verified": True}
    except ssl.SSLCertVerificationError as exc:
        channel.close()
        verdict, detail = tls.verdict_of(exc), exc.verify_message
    channel = ipp.Channel(target.host, target.port, timeout=timeout, address=address,
                          context=tls.inspection_context())
    channel.connect()
    info = tls.describe(channel.tls_socket, verdict, detail) if channel.tls_socket else {}
    return channel, {**info, "verified": False,
                     "note": f"certificate not verified ({detail}); usual for a printer, so the "
                             "status was read over this unverified connection (nothing else "
                             "was sent)"}


def speaks_tls(target: PrinterTarget, address: str, timeout: float) -> dict[str, Any] | None:
    """A TLS handshake on the port that failed plain IPP: its description when it succeeds.

    A printer set to "require encryption" answers a plaintext request with a reset, a TLS
    alert or silence, which looks like a hung service; a handshake that succeeds shows the
    port simply speaks TLS (ipps). Nothing is sent on it after the handshake.
    """
    from fieldkit.diagnostics.net import tls

    channel = ipp.Channel(target.host, target.port, timeout=timeout, address=address,
                          context=tls.inspection_context())
    try:
        channel.connect()
        sock = channel.tls_socket
        return {"handshake": "ok", "version": sock.version() if sock else None}
    except (OSError, ssl.SSLError):
        return None
    finally:
        channel.close()
