"""TLS facts a technician can act on: version, cipher, certificate, and why verification failed.

Verification is always attempted first with the system's trust store plus a CA file the user
names (``fieldkit.trust``). Only when it fails do we look again without verification, to read
the certificate and say *why* it failed (self-signed, expired, wrong name, unknown issuer).
Credentials are never sent over such a second, unverified connection.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import Any

# OpenSSL X509_V_ERR_* codes -> our verdicts
_VERIFY_CODES = {
    10: "expired",  # CERT_HAS_EXPIRED
    9: "error",  # CERT_NOT_YET_VALID: the client's clock is the suspect
    18: "self-signed",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "self-signed",  # SELF_SIGNED_CERT_IN_CHAIN
    62: "hostname-mismatch",
    64: "hostname-mismatch",  # IP_ADDRESS_MISMATCH
    2: "untrusted",  # UNABLE_TO_GET_ISSUER_CERT
    20: "untrusted",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "untrusted",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
}
EXPIRY_WARN_DAYS = 14

VERIFY_HINTS = {
    "self-signed": "The server presents a self-signed certificate: mail clients will warn or "
                   "refuse. Install a certificate from a trusted CA on the server (escalate), "
                   "or, for an internal CA, pass --ca-file.",
    "expired": "The server's certificate has expired: clients refuse to connect or warn. The "
               "server admin must renew it now (escalate).",
    "hostname-mismatch": "The certificate is for another name than {host}: use the server name "
                         "the certificate lists (see SANs) in the mail client, or escalate.",
    "untrusted": "The certificate comes from an unknown issuer: the CA is not trusted on this "
                 "machine (internal CA missing? pass --ca-file) or the chain is incomplete.",
    "error": "The certificate cannot be verified ({detail}); check this machine's clock first.",
}


def verifying_context(cafile: str | None) -> ssl.SSLContext:
    from fieldkit.trust import client_context

    return client_context(cafile, what="--ca-file")


def inspection_context() -> ssl.SSLContext:
    """Accepts any certificate: only to read one whose verification already failed."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # reading, not trusting: see module docstring
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def verdict_of(exc: ssl.SSLCertVerificationError) -> str:
    return _VERIFY_CODES.get(exc.verify_code, "error")


def describe(tls_sock: ssl.SSLSocket, verify: str, detail: str = "") -> dict[str, Any]:
    """Version, cipher and certificate facts of an established TLS connection."""
    cipher = tls_sock.cipher()
    info: dict[str, Any] = {"version": tls_sock.version(), "cipher": cipher[0] if cipher else None,
                            "verify": verify}
    if detail:
        info["verify_detail"] = detail
    der = tls_sock.getpeercert(binary_form=True)
    if der:
        info.update(certificate_facts(der))
        if info.get("days_left") is not None and info["days_left"] < 0 and verify != "ok":
            info["verify"] = "expired"  # an expired cert is the first thing to fix
    return info


def certificate_facts(der: bytes) -> dict[str, Any]:
    try:
        from cryptography import x509
    except ImportError:  # the remote probe on a bare python3: the verdict stands without details
        return {"certificate": "details not read: the Python library cryptography is not "
                               "installed on this machine"}
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [*ext.get_values_for_type(x509.DNSName),
                *(str(ip) for ip in ext.get_values_for_type(x509.IPAddress))]
    except x509.ExtensionNotFound:
        sans = []
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": sans,
        "not_after": not_after.isoformat(timespec="seconds"),
        "days_left": (not_after - datetime.now(UTC)).days,
        "self_issued": cert.subject == cert.issuer,
    }
