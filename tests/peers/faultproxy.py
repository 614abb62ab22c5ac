"""An HTTP(S) proxy in front of a real RT that injects the faults hotel Wi-Fi and busy servers make.

Rules match a method and a path regex and act ``times`` times:
  status:N        answer N without forwarding (the server never saw it)
  lost            forward, let RT process it, then drop the connection (response lost)
  late:S          forward, then hold the response S seconds (client timeout)
  drop            close the connection without forwarding
  garbage         forward (RT processes it), then answer 200 with a body that is not JSON
  hold            keep the request on its way (not forwarded) until the test calls
                  ``rule.release()``; ``rule.arrived`` is set once it is held
  hold:S          keep the request S seconds before forwarding it (a slow VPN); the client's
                  connection stays open meanwhile
  detach          close the client's connection at once, keep the request until the test calls
                  ``rule.release()``, then forward it (a middlebox that buffered it: the client
                  cannot know it is still coming)
A rule's ``finished`` event is set once RT has answered a request it held or detached.
Everything else is forwarded untouched. With ``tls=(cert, key)`` it serves HTTPS.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Rule:
    method: str
    path: str
    action: str
    times: int = 1
    hits: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.gate.set()


class FaultProxy:
    def __init__(self, upstream: str, tls: tuple[str, str] | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.rules: list[Rule] = []
        self.log: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                rule = proxy._match(self.command, self.path)
                action = rule.action if rule else "forward"
                if action == "detach":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    rule.gate.wait(120)  # bounded, as hold
                    proxy._forward(self.command, self.path, self.headers, body)
                    rule.finished.set()
                    return
                if action.startswith("hold:"):
                    time.sleep(float(action.split(":")[1]))
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action == "hold" and rule is not None:
                    rule.arrived.set()
                    rule.gate.wait(120)  # bounded: a test that forgets to release still ends
                if action.startswith("status:"):
                    code = int(action.split(":")[1])
                    payload = b'{"message":"injected"}'
                    self.send_response(code)
                    if code == 429:
                        self.send_header("Retry-After", "1")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    proxy._record(self.command, self.path, code)
                    return
                status, headers, data = proxy._forward(self.command, self.path, self.headers,
                                                       body)
                proxy._record(self.command, self.path, status)
                if rule is not None and action.startswith("hold:"):
                    rule.finished.set()
                if action == "lost":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action.startswith("late:"):
                    time.sleep(float(action.split(":")[1]))
                if action == "garbage":
                    status, headers, data = 200, [("Content-Type", "text/html")], b"<html>502"
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection",
                                            "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, method: str, path: str, action: str, times: int = 1) -> Rule:
        rule = Rule(method, path, action, times)
        with self.lock:
            self.rules.append(rule)
        return rule

    def release_all(self) -> None:
        """Let every detached request go (a test that failed half-way must not hang the proxy)."""
        with self.lock:
            for rule in self.rules:
                rule.release()

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def _match(self, method: str, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.hits < rule.times and rule.method == method and re.search(rule.path, path):
                    rule.hits += 1
                    return rule
        return None

    def _record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.log.append((method, path, status))

    def _forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            forward = {k: v for k, v in headers.items()
                       if k.lower() not in ("host", "connection", "accept-encoding")}
            conn.request(method, path, body=body, headers=forward)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
