"""Non-blocking TCP connects and what their errors mean, within the open-file limit.

Who rejected a connection matters more than that it was rejected: the kernel reports a remote
firewall's ICMP "administratively prohibited" as EHOSTUNREACH (IPv4) or EACCES (IPv6), exactly
like the same reject made by this machine's own nftables rules. On Linux the socket's error
queue (``IP_RECVERR``) names the ICMP type, code and *sender*, so a reject sent by one of our own
addresses is the local firewall and any other sender is a firewall or router out there. EPERM
is netfilter refusing to send at all: local by definition.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
from dataclasses import dataclass

from fieldkit.diagnostics.model import ReachState

IP_RECVERR, IPV6_RECVERR, MSG_ERRQUEUE = 11, 25, 0x2000
SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6 = 2, 3
FD_RESERVE = 48  # files the rest of the process needs meanwhile (stdio, logs, resolver threads)
# (family, icmp code) meaning "administratively prohibited"
_ADMIN_PROHIBITED = {(socket.AF_INET, 9), (socket.AF_INET, 10), (socket.AF_INET, 13),
                     (socket.AF_INET6, 1)}


@dataclass
class IcmpError:
    origin: int
    icmp_type: int
    code: int
    sender: str
    errno: int = 0  # what the kernel made of it (EHOSTUNREACH, ECONNREFUSED ...)


def open_file_budget() -> int:
    """How many sockets may be open at once: the soft limit (raised to the hard one if
    allowed) minus what is already open and a reserve. Sweeps larger than this run in waves."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
            wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
                soft = wanted
            except (ValueError, OSError):
                pass
        limit = 65536 if soft == resource.RLIM_INFINITY else soft
    except ImportError:  # Windows: select() itself is the limit there
        return 500
    try:
        in_use = len(os.listdir("/proc/self/fd" if sys.platform == "linux" else "/dev/fd"))
    except OSError:
        in_use = 32
    return max(8, min(limit, 65536) - in_use - FD_RESERVE)


def start(family: int, sockaddr: tuple) -> tuple[socket.socket, int]:
    """A socket with the error queue on, and the immediate result of a non-blocking connect."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    if sys.platform == "linux":
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        except OSError:
            pass
    return sock, sock.connect_ex(sockaddr)


def icmp_error(sock: socket.socket) -> IcmpError | None:
    """The ICMP message that ended the connect, from the socket's error queue (Linux)."""
    if sys.platform != "linux":
        return None
    try:
        _data, ancillary, _flags, _addr = sock.recvmsg(64, 512, MSG_ERRQUEUE)
    except OSError:
        return None
    for _level, _type, raw in ancillary:
        if len(raw) < 16 + 8:
            continue
        err, origin, icmp_type, code, _pad, _info, _data2 = struct.unpack("IBBBBII", raw[:16])
        if origin not in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
            continue
        offender = raw[16:]
        family = struct.unpack("H", offender[:2])[0]
        if family == socket.AF_INET:
            sender = socket.inet_ntop(socket.AF_INET, offender[4:8])
        elif family == socket.AF_INET6 and len(offender) >= 24:
            sender = socket.inet_ntop(socket.AF_INET6, offender[8:24])
        else:
            continue
        return IcmpError(origin, icmp_type, code, sender, err)
    return None


def settled(sock: socket.socket) -> tuple[int | None, IcmpError | None]:
    """A connect's result once the selector says its socket is ready: (errno, 0 = connected;
    the ICMP message behind it), or (None, None) while it is still trying.

    With ``IP_RECVERR`` an ICMP error that did not end the connect (it arrived while the kernel
    held the socket: a "soft" error, the SYN is retried) still wakes the selector, and SO_ERROR
    says 0 - not "connected". The queued message is taken (so the selector stops waking) and
    stands for the result, as it would have had it ended the connect.
    """
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        return code, None
    try:
        sock.getpeername()
        return 0, None
    except OSError:
        pass
    icmp = icmp_error(sock)
    return (icmp.errno, icmp) if icmp is not None and icmp.errno else (None, None)


def _is_own_address(sock: socket.socket, address: str) -> bool:
    try:
        if address == sock.getsockname()[0]:
            return True
    except OSError:
        pass
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((address, 0))  # succeeds only for an address of this machine
        return True
    except OSError:
        return False


def classify(sock: socket.socket, code: int, icmp: IcmpError | None = None
             ) -> tuple[ReachState, str, str]:
    """(state, reason, ICMP sender or "") for a finished connect that returned ``code``
    (``icmp``: the message already taken from the error queue, see :func:`settled`)."""
    if code == 0:
        return ReachState.OPEN, "syn-ack", ""
    if code == errno.EPERM:
        return ReachState.FILTERED, "local-firewall", ""
    if icmp is None and code in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.EACCES,
                                 errno.ENETUNREACH):
        icmp = icmp_error(sock)
    own = icmp is not None and _is_own_address(sock, icmp.sender)
    sender = icmp.sender if icmp else ""
    if icmp is not None and (sock.family, icmp.code) in _ADMIN_PROHIBITED and icmp.icmp_type in (
            3, 1):
        return (ReachState.FILTERED, "local-firewall", sender) if own else (
            ReachState.FILTERED, "admin-prohibited", sender)
    if code == errno.ECONNREFUSED:
        if icmp is not None and own:  # an ICMP port-unreachable we sent ourselves: nft reject
            return ReachState.FILTERED, "local-firewall", sender
        return ReachState.CLOSED, "conn-refused", sender
    if code == errno.EACCES:
        return ReachState.FILTERED, "admin-prohibited", sender
    if code == errno.EHOSTUNREACH:
        return ReachState.UNREACHABLE, "host-unreach", sender
    if code == errno.ENETUNREACH:
        return ReachState.UNREACHABLE, "net-unreach", sender
    if code == errno.ETIMEDOUT:
        return ReachState.FILTERED, "no-response", ""
    return ReachState.ERROR, errno.errorcode.get(code, str(code)), sender
