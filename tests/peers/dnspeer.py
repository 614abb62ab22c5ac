#!/usr/bin/env python3
"""Small DNS peers for the tests (stdlib only), on UDP port 53 of one address.

usage: dnspeer.py ADDR delay SECONDS UPSTREAM   forward each query to UPSTREAM:53 after SECONDS
       dnspeer.py ADDR rcode N                   answer every query with rcode N (2 SERVFAIL,
                                                 5 REFUSED), no records
       dnspeer.py ADDR portal IP                 answer every A query with IP, whatever the name
                                                 (a captive portal's DNS); other types: no data
Prints "ready" once bound, then "query NAME" for every query received (tests count them).
"""

import socket
import struct
import sys
import threading
import time

addr, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3:]
sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((addr, 53))
lock = threading.Lock()


def qname(packet: bytes) -> tuple[str, int]:
    pos, labels = 12, []
    while packet[pos]:
        labels.append(packet[pos + 1:pos + 1 + packet[pos]].decode("ascii", "replace"))
        pos += 1 + packet[pos]
    return ".".join(labels), pos + 5  # end of the question (name, type, class)


def reply(packet: bytes, rcode: int, answers: list[bytes]) -> bytes:
    qid, flags = struct.unpack("!HH", packet[:4])
    flags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode  # QR, RD copied, RA
    _name, end = qname(packet)
    return struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0) + packet[12:end] + b"".join(
        answers)


def forward(packet: bytes, client, delay: float, upstream: str) -> None:
    time.sleep(delay)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
        up.settimeout(5)
        up.sendto(packet, (upstream, 53))
        try:
            answer, _ = up.recvfrom(4096)
        except OSError:
            return
    with lock:
        sock.sendto(answer, client)


print("ready", flush=True)
while True:
    packet, client = sock.recvfrom(4096)
    if len(packet) < 17:
        continue
    name, end = qname(packet)
    print(f"query {name}", flush=True)
    if mode == "delay":
        threading.Thread(target=forward, args=(packet, client, float(arg[0]), arg[1]),
                         daemon=True).start()
    elif mode == "rcode":
        sock.sendto(reply(packet, int(arg[0]), []), client)
    elif mode == "portal":
        qtype = struct.unpack("!H", packet[end - 4:end - 2])[0]
        records = [b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(arg[0])]
        sock.sendto(reply(packet, 0, records if qtype == 1 else []), client)
