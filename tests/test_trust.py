"""One trust decision for sync and the mail checks: the OS store plus an *added* CA file.

``SSL_CERT_FILE``/``SSL_CERT_DIR`` stand in for the operating system's store here (OpenSSL and
truststore read them on Linux), so the tests control what "publicly trusted" means.
"""

import socket
import ssl
import threading

import pytest

from fieldkit.errors import InputError
from fieldkit.trust import client_context
from tests.peers.certs import make_certs


@pytest.fixture
def cas(tmp_path, monkeypatch):
    public = make_certs(tmp_path / "public", ["localhost", "127.0.0.1"], "Public Root CA")
    company = make_certs(tmp_path / "company", ["localhost", "127.0.0.1"], "ACME Company CA")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(public / "ca.crt"))  # the "OS store"
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "empty"))
    return public, company


def serve_once(cert_dir):
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_dir / "server.crt", cert_dir / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))

    def accept():
        conn, _ = listener.accept()
        try:
            with server.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass
        listener.close()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def handshake(context, port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        return tls.version()


def test_the_os_store_is_trusted(cas):
    public, _company = cas
    assert handshake(client_context(), serve_once(public))


def test_a_ca_file_is_added_not_a_replacement(cas):
    public, company = cas
    with_company = client_context(str(company / "ca.crt"))
    assert handshake(with_company, serve_once(company))
    assert handshake(with_company, serve_once(public)), "a public server became untrusted"


def test_without_the_ca_file_the_company_server_is_untrusted(cas):
    _public, company = cas
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(client_context(), serve_once(company))


def test_an_unusable_ca_file_is_one_clear_error(tmp_path):
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(InputError, match="--ca-file .*: not a PEM"):
        client_context(str(tmp_path / "junk.pem"), what="--ca-file")
    with pytest.raises(InputError, match="no such file"):
        client_context(str(tmp_path / "missing.pem"))
