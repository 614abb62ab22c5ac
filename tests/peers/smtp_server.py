#!/usr/bin/env python3
"""Real SMTP peers with aiosmtpd: plain, submission (STARTTLS required before AUTH) and smtps.

usage: smtp_server.py HOST CERTDIR PORT:KIND[:CERT] ...
  KIND plain | submission | smtps; CERT names CERTDIR/CERT.crt + .key (default "server")
Credentials: fieldkit / s3cret. Prints "ready"; prints "DATA" for every delivered message (the
tests assert that never happens: fieldkit must not send mail).
"""

import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

host, certdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print("DATA", flush=True)
        return "250 accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"fieldkit"
          and auth_data.password == b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=True would mean "already answered"


def tls_context(name):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(f"{certdir}/{name}.crt", f"{certdir}/{name}.key")
    return context


controllers = []
for spec in specs:
    port, kind, *cert = spec.split(":")
    kwargs = {"hostname": host, "port": int(port), "server_hostname": "mail.fieldkit.test",
              "server_kwargs": {"ident": f"FieldKit-Test-{kind}"}}
    if kind == "submission":
        kwargs.update(tls_context=tls_context(cert[0] if cert else "server"),
                      require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    elif kind == "smtps":
        kwargs.update(ssl_context=tls_context(cert[0] if cert else "server"),
                      authenticator=authenticator, auth_require_tls=False)
    controllers.append(Controller(Handler(), **kwargs))
for controller in controllers:
    controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    for controller in controllers:
        controller.stop()
