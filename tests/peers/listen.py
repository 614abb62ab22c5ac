#!/usr/bin/env python3
"""A tiny TCP peer: accepts on every port given, sends a one-line banner, closes.

usage: listen.py HOST PORT [PORT...]   (prints "ready" once every socket listens)
"""

import selectors
import socket
import sys

host, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
selector = selectors.DefaultSelector()
for port in ports:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    selector.register(sock, selectors.EVENT_READ, port)
print("ready", flush=True)
while True:
    for key, _ in selector.select():
        conn, _ = key.fileobj.accept()
        try:
            conn.sendall(b"fieldkit-peer port %d\r\n" % key.data)
        except OSError:
            pass
        conn.close()
