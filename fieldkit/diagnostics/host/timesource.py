"""Outside time: one SNTP question, or the ``Date`` of one HTTP answer, and what it says about us.

A clock is only wrong compared with something. NTP to the servers this machine is configured
with (or ``[diag] ntp_servers``) is precise; the ``Date`` header of the connectivity check or of
the sync server is good to a second, far better than the minutes that matter (Kerberos refuses
5 minutes of skew; certificates fail on days). The HTTP request itself lives in
``net/httpget.py`` and is shared with the captive-portal check, so a plain ``diag`` sends it once.
"""

from __future__ import annotations

import re
import socket
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from fieldkit import RELEASE_DATE

# a clock before the day this release was built is certainly wrong: this very code did not
# exist yet. A constant, not the files' mtimes: a copy or an unpacked wheel keeps or resets
# those at will; the release date is part of what was released
EARLIEST = datetime.fromisoformat(RELEASE_DATE).replace(tzinfo=UTC)
NTP_EPOCH_OFFSET = 2208988800  # 1900-01-01 to 1970-01-01
NTP_CONFIGS = [Path("/etc/chrony/chrony.conf"), Path("/etc/chrony.conf"), Path("/etc/ntp.conf"),
               Path("/etc/ntpsec/ntp.conf"), Path("/etc/systemd/timesyncd.conf"),
               Path("/etc/openntpd/ntpd.conf")]


@dataclass
class Reading:
    """``offset_s`` > 0: this machine's clock is ahead of the source by that much."""

    source: str
    offset_s: float
    resolution_s: float
    # sources that disagreed with this one and were outvoted (see weigh): bad time sources
    outvoted: list[Reading] = field(default_factory=list)


AGREE_S = 30.0  # two sources agree within this: far above NTP/Date error, below a warned skew


def _agree(a: Reading, b: Reading) -> bool:
    return abs(a.offset_s - b.offset_s) <= AGREE_S + a.resolution_s + b.resolution_s


def weigh(readings: list[Reading]) -> Reading | None:
    """The reading to trust. One source can be wrong (a misconfigured NTP server, a proxy's
    stale Date): when more sources agree with each other than with it, the most precise of the
    agreeing ones is trusted and the others are named in ``outvoted``. Without a majority
    (one against one) nothing can be weighed: the most precise reading stands, as alone."""
    if not readings:
        return None
    groups = [[o for o in readings if _agree(r, o)] for r in readings]
    group = max(groups, key=lambda g: (len(g), -min(o.resolution_s for o in g)))
    if 2 * len(group) <= len(readings):
        return min(readings, key=lambda r: r.resolution_s)
    best = min(group, key=lambda r: r.resolution_s)
    best.outvoted = [r for r in readings if r not in group]
    return best


def sntp(server: str, timeout_s: float, port: int = 123) -> Reading:
    """One SNTPv4 client request (RFC 4330); raises OSError / TimeoutError / ValueError."""
    host, port = _host_port(server, port)
    info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    with socket.socket(info[0], socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        request = b"\x23" + 47 * b"\0"  # LI 0, version 4, mode 3 (client)
        t1 = time.time()
        sock.sendto(request, info[4])
        while True:
            reply, _ = sock.recvfrom(512)
            if len(reply) >= 48 and reply[0] & 0x7 == 4:  # mode 4: server
                break
        t4 = time.time()
    stratum = reply[1]
    if stratum == 0 or stratum > 15:
        raise ValueError(f"{server} is not synchronised itself (stratum {stratum})")
    t2, t3 = _ntp_time(reply[32:40]), _ntp_time(reply[40:48])
    server_offset = ((t2 - t1) + (t3 - t4)) / 2  # the server's clock minus ours
    return Reading(f"ntp {server}", -server_offset, max(t4 - t1, 0.001))


def _host_port(server: str, default: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address."""
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif server.count(":") == 1:
        host, _, port_text = server.partition(":")
    else:
        host, port_text = server, ""
    if port_text and not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"NTP server {server!r}: the port must be a number")
    return host, int(port_text) if port_text else default


def _ntp_time(raw: bytes) -> float:
    seconds, fraction = struct.unpack("!II", raw)
    return seconds - NTP_EPOCH_OFFSET + fraction / 2**32


def from_http_date(source: str, date_header: str, sent_at: float, received_at: float) -> Reading:
    """The server stamped its answer between our send and receive; Date has 1-s resolution."""
    stamped = parsedate_to_datetime(date_header).timestamp() + 0.5
    return Reading(source, (sent_at + received_at) / 2 - stamped, 1.0 + received_at - sent_at)


def system_ntp_servers(paths: list[Path] | None = None) -> list[str]:
    """NTP servers named in the usual daemons' configuration (chrony, ntpd, timesyncd)."""
    servers: list[str] = []
    for path in paths or NTP_CONFIGS:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            words = line.split()
            if len(words) >= 2 and words[0] in ("server", "pool", "peer"):
                servers.append(words[1])
            elif line.startswith(("NTP=", "FallbackNTP=")) and path.name == "timesyncd.conf":
                if line.startswith("NTP="):
                    servers += re.split(r"[\s,]+", line[4:].strip())
    return [s for s in dict.fromkeys(servers) if s]


def describe_offset(offset_s: float) -> str:
    """ "400 days ahead", "3 min 10 s behind", "0.2 s ahead" """
    way = "ahead" if offset_s > 0 else "behind"
    size = abs(offset_s)
    if size >= 2 * 86400:
        return f"{size / 86400:.0f} days {way}"
    if size >= 2 * 3600:
        return f"{size / 3600:.1f} hours {way}"
    if size >= 120:
        seconds = round(size)  # 149.99 s is "2 min 30 s", not "2 min 29 s"
        return f"{seconds // 60} min {seconds % 60} s {way}"
    return f"{size:.1f} s {way}"
