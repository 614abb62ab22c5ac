#!/usr/bin/env python3
"""Real SMTP peers with aiosmtpd: plain, submission (STARTTLS required before AUTH) and smtps.

usage: smtp_server.py HOST CERTDIR PORT:KIND[:CERT] ...
  KIND plain | submission | smtps | login (submission offering AUTH LOGIN only) | tls10 (smtps
  speaking TLS 1.0 only) | notls (offers STARTTLS, answers it "454 4.7.0 TLS not available due
  to local problem", as Postfix does when its certificate cannot be loaded); CERT names
  CERTDIR/CERT.crt + .key (default "server"); the server sends only that one certificate (no
  intermediate)
Credentials: fieldkit / s3cret. Prints "ready"; prints "DATA" for every delivered message (the
tests assert that never happens: fieldkit must not send mail).
"""

import socket
import ssl
import sys
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

warnings.simplefilter("ignore", DeprecationWarning)  # TLSVersion.TLSv1 on purpose

host, certdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print("DATA", flush=True)
        return "250 accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"fieldkit"
          and auth_data.password == b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=True would mean "already answered"


def tls_context(name, old=False):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(f"{certdir}/{name}.crt", f"{certdir}/{name}.key")
    if old:  # OpenSSL 3 refuses TLS 1.0 above security level 0, on both sides
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    return context


class OldTLSController(Controller):
    """aiosmtpd checks an smtps server is up with a modern TLS client: speak TLS 1.0 instead."""

    def _trigger_server(self):
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
        client.set_ciphers("DEFAULT:@SECLEVEL=0")
        client.minimum_version = ssl.TLSVersion.TLSv1
        with socket.create_connection((self.hostname, self.port), 1.0) as sock:
            with client.wrap_socket(sock) as tls:
                tls.recv(1024)


class NoTLS(SMTP):
    async def smtp_STARTTLS(self, arg):
        await self.push("454 4.7.0 TLS not available due to local problem")


class NoTLSController(Controller):
    def factory(self):
        return NoTLS(self.handler, **self.SMTP_kwargs)


controllers = []
for spec in specs:
    port, kind, *cert = spec.split(":")
    kwargs = {"hostname": host, "port": int(port), "server_hostname": "mail.fieldkit.test",
              "server_kwargs": {"ident": f"FieldKit-Test-{kind}"}}
    name = cert[0] if cert else "server"
    if kind in ("submission", "login", "notls"):
        kwargs.update(tls_context=tls_context(name), require_starttls=True,
                      authenticator=authenticator, auth_require_tls=True)
        if kind == "login":
            kwargs["server_kwargs"]["auth_exclude_mechanism"] = ["PLAIN"]
    elif kind in ("smtps", "tls10"):
        kwargs.update(ssl_context=tls_context(name, old=kind == "tls10"),
                      authenticator=authenticator, auth_require_tls=False)
    kinds = {"tls10": OldTLSController, "notls": NoTLSController}
    controllers.append(kinds.get(kind, Controller)(Handler(), **kwargs))
for controller in controllers:
    controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    for controller in controllers:
        controller.stop()
