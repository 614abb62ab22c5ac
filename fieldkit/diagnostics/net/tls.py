"""TLS facts a technician can act on: version, cipher, certificate, and why verification failed.

Verification is always attempted first with the system's trust store plus a CA file the user
names (``fieldkit.trust``). Only when it fails do we look again without verification, to read
the certificate and say *why* it failed (self-signed, expired, wrong name, unknown issuer, or a
chain the server sends incomplete). Credentials are never sent over such a second, unverified
connection, nor over the version probes that name the TLS versions a server offers when a
handshake fails: those allow old versions for detection only and end after the handshake.
"""

from __future__ import annotations

import ssl
import warnings
from datetime import UTC, datetime
from typing import Any

# OpenSSL X509_V_ERR_* codes -> our verdicts
_VERIFY_CODES = {
    10: "expired",  # CERT_HAS_EXPIRED
    9: "not-yet-valid",  # CERT_NOT_YET_VALID: the client's clock is the suspect
    18: "self-signed",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "self-signed",  # SELF_SIGNED_CERT_IN_CHAIN
    62: "hostname-mismatch",
    64: "hostname-mismatch",  # IP_ADDRESS_MISMATCH
    2: "untrusted",  # UNABLE_TO_GET_ISSUER_CERT
    20: "untrusted",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "untrusted",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
}
EXPIRY_WARN_DAYS = 14
# what fieldkit (and a current mail client) accepts; older versions are only ever detected
ACCEPTED_VERSIONS = ("TLSv1.2", "TLSv1.3")

VERIFY_HINTS = {
    "self-signed": "The server presents a self-signed certificate: mail clients will warn or "
                   "refuse. Install a certificate from a trusted CA on the server (escalate), "
                   "or, for an internal CA, pass --ca-file.",
    "expired": "The server's certificate has expired: clients refuse to connect or warn. The "
               "server admin must renew it now (escalate).",
    "not-yet-valid": "The server's certificate is not valid yet: its start date is in the "
                     "future. The server admin installed it too early, or a clock is wrong.",
    "hostname-mismatch": "The certificate is for another name than {host}: use the server name "
                         "the certificate lists (see SANs) in the mail client, or escalate.",
    "untrusted": "The certificate comes from an unknown issuer: the CA is not trusted on this "
                 "machine (internal CA missing? pass --ca-file).",
    "chain-incomplete": "The server sends its own certificate but not the intermediate CA "
                        "certificate that links it to the trusted root: many clients refuse "
                        "it. The mail admin must install the full chain (escalate). (If the "
                        "--ca-file is not the CA that issued it, pass the right one.)",
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


def version_probe_context(version: str) -> ssl.SSLContext:
    """Speaks exactly ``version`` (even TLS 1.0), verifies nothing: detection only."""
    ctx = inspection_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/1.1: that is the point
        wanted = ssl.TLSVersion[version.replace("TLSv1.", "TLSv1_").replace(".", "_")]
        ctx.minimum_version = ctx.maximum_version = wanted
    if version not in ACCEPTED_VERSIONS:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses old versions above level 0
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
        info["chain_sent"] = _chain_length(tls_sock)
        if info.get("days_left") is not None and info["days_left"] < 0 and verify != "ok":
            info["verify"] = "expired"  # an expired cert is the first thing to fix
    return info


def _chain_length(tls_sock: ssl.SSLSocket) -> int | None:
    """How many certificates the server sent (3.13 made this public; 3.10-3.12 have it on
    the internal object)."""
    getter = getattr(tls_sock, "get_unverified_chain", None) or getattr(
        getattr(tls_sock, "_sslobj", None), "get_unverified_chain", None)
    try:
        chain = getter() if getter else None
    except (ssl.SSLError, ValueError):
        return None
    return len(chain) if chain is not None else None


def refine(info: dict[str, Any], cafile_given: bool) -> None:
    """An "unknown issuer" whose server sent only its own certificate, issued by a CA other
    than itself, is most often a chain the server sends incomplete: say so when the leaf names
    where to fetch its issuer (AIA, as public CAs do) or a CA file was named and still failed."""
    if info.get("verify") != "untrusted" or info.get("chain_sent") != 1:
        return
    if info.get("self_issued"):
        return
    if cafile_given or info.get("issuer_url"):
        info["verify"] = "chain-incomplete"


def certificate_facts(der: bytes) -> dict[str, Any]:
    try:
        from cryptography import x509
        from cryptography.x509.oid import AuthorityInformationAccessOID
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
    issuer_url = ""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        issuer_url = next((str(d.access_location.value) for d in aia
                           if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS), "")
    except x509.ExtensionNotFound:
        pass
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": sans,
        "not_before": cert.not_valid_before_utc.isoformat(timespec="seconds"),
        "not_after": not_after.isoformat(timespec="seconds"),
        "days_left": (not_after - datetime.now(UTC)).days,
        "self_issued": cert.subject == cert.issuer,
        **({"issuer_url": issuer_url} if issuer_url else {}),
    }
