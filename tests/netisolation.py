"""Put the whole test session into a private network namespace before anything else runs.

fieldkit's network checks probe the default gateway, the resolvers and remote hosts by design.
On our machines they must only ever see the tests' own peers, so the session leaves the host's
network namespace at start-up: afterwards only loopback exists, plus whatever namespaces and veth
pairs the tests build themselves. Every subprocess (fieldkit, sshd, dnsmasq, ...) inherits it.
"""

from __future__ import annotations

import ctypes
import os
import subprocess

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _unshare(flags: int) -> None:
    if hasattr(os, "unshare"):  # Python 3.12+
        os.unshare(flags)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def enter_private_network() -> str:
    """Leave the host's network; as root keep root, otherwise map ourselves to root of a userns."""
    if os.geteuid() == 0:
        _unshare(CLONE_NEWNET)
    else:
        uid, gid = os.getuid(), os.getgid()
        _unshare(CLONE_NEWUSER | CLONE_NEWNET)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    return os.readlink("/proc/self/ns/net")
