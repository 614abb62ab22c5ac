"""Throwaway TLS material for the mail peers: private CA, leaves, self-signed, expired."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fieldkit test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(directory: Path, stem: str, cert: x509.Certificate, key) -> None:
    (directory / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{stem}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    (directory / f"{stem}.key").chmod(0o644)  # dovecot's login processes read it as another user


def _cert(subject: str, issuer_name: x509.Name, issuer_key, key, *, days_before: int,
          days_after: int, sans: list[str] | None, ca: bool = False) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - dt.timedelta(days=days_before))
               .not_valid_after(NOW + dt.timedelta(days=days_after))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if sans:
        entries = []
        for san in sans:
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                entries.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certs(directory: Path, sans: list[str], ca_name: str = "fieldkit test CA") -> Path:
    """ca, server (CA-signed, 60 days), soon (CA-signed, 5 days), wrongname (CA-signed, other
    name), selfsigned, expired (self-signed, ended yesterday), past (CA-signed, valid from 430
    to 370 days ago: right for a clock 400 days behind ours), chain (signed by an intermediate
    CA that the server does not send), big (CA-signed, RSA 4096 and 60 SANs: a handshake
    larger than one 1280-byte packet)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(ca_name, _name(ca_name), ca_key, ca_key, days_before=1,
               days_after=365, sans=None, ca=True)
    _write(directory, "ca", ca, ca_key)
    leaves = {
        "server": dict(days_before=1, days_after=60, sans=sans),
        "soon": dict(days_before=80, days_after=5, sans=sans),
        "wrongname": dict(days_before=1, days_after=60, sans=["other.fieldkit.test"]),
        "past": dict(days_before=430, days_after=-370, sans=sans),
    }
    for stem, spec in leaves.items():
        key = ec.generate_private_key(ec.SECP256R1())
        _write(directory, stem, _cert(sans[0], ca.subject, ca_key, key, **spec), key)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = _cert("fieldkit test intermediate", ca.subject, ca_key, inter_key, days_before=1,
                  days_after=300, sans=None, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    _write(directory, "chain", _cert(sans[0], inter.subject, inter_key, key, days_before=1,
                                     days_after=60, sans=sans), key)
    big_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    big_sans = sans + [f"alias{i}.mail.fieldkit.test" for i in range(60)]
    _write(directory, "big", _cert(sans[0], ca.subject, ca_key, big_key, days_before=1,
                                   days_after=60, sans=big_sans), big_key)
    for stem, spec in {"selfsigned": dict(days_before=1, days_after=30),
                       "expired": dict(days_before=60, days_after=-1)}.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(f"{stem}.fieldkit.test", _name(f"{stem}.fieldkit.test"), key, key,
                     sans=sans, **spec)
        _write(directory, stem, cert, key)
    return directory
