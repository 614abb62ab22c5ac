#!/usr/bin/env python3
"""An HTTP peer (connectivity check / captive portal) with an SNTP server beside it (stdlib).

usage: webpeer.py ADDR HTTP_PORT MODE ARG [--offset SECONDS] [--ntp PORT] [--tls CERT KEY]
  MODE ok BODY          200 with BODY (a healthy connectivity check)
  MODE redirect URL     302 to URL (a captive portal's login page)
  MODE rewrite BODY     200 with another BODY (a portal or proxy that rewrites pages)
  MODE status CODE      CODE with a short body (a missing page, a broken server)
--offset shifts the time this peer tells (HTTP Date, NTP) by SECONDS: the tests keep this
machine's clock and move the "outside world" instead. --tls serves HTTPS on HTTP_PORT instead
(a sync server's Date). Prints "ready"; "GET PATH" per request.
"""

import argparse
import http.server
import socket
import struct
import threading
import time
from email.utils import formatdate

parser = argparse.ArgumentParser()
parser.add_argument("addr")
parser.add_argument("port", type=int)
parser.add_argument("mode", choices=["ok", "redirect", "rewrite", "status"])
parser.add_argument("arg")
parser.add_argument("--offset", type=float, default=0.0)
parser.add_argument("--ntp", type=int, default=0)
parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
args = parser.parse_args()
NTP_EPOCH = 2208988800


def now() -> float:
    return time.time() + args.offset


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's naming
        print(f"GET {self.path}", flush=True)
        status = int(args.arg) if args.mode == "status" else (
            302 if args.mode == "redirect" else 200)
        body = b"" if args.mode == "redirect" else args.arg.encode()
        self.send_response_only(status)
        self.send_header("Date", formatdate(now(), usegmt=True))
        if args.mode == "redirect":
            self.send_header("Location", args.arg)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def ntp_server() -> None:
    sock = socket.socket(socket.AF_INET6 if ":" in args.addr else socket.AF_INET,
                         socket.SOCK_DGRAM)
    sock.bind((args.addr, args.ntp))
    while True:
        packet, client = sock.recvfrom(512)
        if len(packet) < 48:
            continue
        t = now() + NTP_EPOCH
        stamp = struct.pack("!II", int(t), int((t % 1) * 2**32))
        reply = bytes([0x24, 2, 6, 0xEC]) + b"\0" * 8 + b"FKTS" + stamp + packet[40:48] + stamp \
            + stamp
        sock.sendto(reply, client)


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in args.addr else socket.AF_INET


if args.ntp:
    threading.Thread(target=ntp_server, daemon=True).start()
server = Server((args.addr, args.port), Handler)
if args.tls:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*args.tls)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
