#!/usr/bin/env python3
"""A forward web proxy (stdlib): what a company network's only way out looks like.

usage: webproxy.py ADDR PORT [--auth USER:PASSWORD] [NAME=IP ...]
  GET/HEAD with an absolute URL are fetched and passed back (with a Via header); CONNECT
  host:port opens a tunnel. NAME=IP entries are the proxy's own name resolution, so a client
  that cannot resolve anything itself still gets through, as behind a real proxy. With --auth
a request (GET or CONNECT) without that Basic Proxy-Authorization is answered 407.
Prints "ready"; then "GET URL" / "CONNECT host:port" per request.
"""

import base64
import http.client
import http.server
import select
import socket
import sys
from urllib.parse import urlsplit

addr, port, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
login = ""
if rest[:1] == ["--auth"]:
    login, rest = "Basic " + base64.b64encode(rest[1].encode()).decode(), rest[2:]
names = dict(a.split("=", 1) for a in rest)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def refused(self):
        """True (after answering 407) when this proxy wants a login the request lacks."""
        if not login or self.headers.get("Proxy-Authorization", "") == login:
            return False
        print(f"407 {self.command} {self.path}", flush=True)
        self.send_response(407, "Proxy Authentication Required")
        self.send_header("Proxy-Authenticate", 'Basic realm="fieldkit-test"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def do_GET(self):  # noqa: N802 - the stdlib's naming
        print(f"{self.command} {self.path}", flush=True)
        if self.refused():
            return
        parts = urlsplit(self.path)
        if parts.scheme != "http" or not parts.hostname:
            self.send_error(400, "absolute http:// URL required")
            return
        upstream = http.client.HTTPConnection(names.get(parts.hostname, parts.hostname),
                                              parts.port or 80, timeout=5)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-authorization", "proxy-connection")}
        try:
            upstream.request(self.command, parts.path + (f"?{parts.query}" if parts.query
                                                         else ""), headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
        except OSError as exc:
            self.send_error(502, f"upstream: {exc}")
            return
        finally:
            upstream.close()
        self.send_response_only(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(key, value)
        self.send_header("Via", "1.1 fieldkit-test-proxy")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def do_CONNECT(self):  # noqa: N802
        print(f"CONNECT {self.path}", flush=True)
        if self.refused():
            self.close_connection = True
            return
        host, _, port_text = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((names.get(host, host), int(port_text)), 5)
        except (OSError, ValueError) as exc:
            self.send_error(502, f"upstream: {exc}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 10)
                if not ready:
                    break
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()
            self.close_connection = True

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer((addr, port), Handler)
print("ready", flush=True)
server.serve_forever()
