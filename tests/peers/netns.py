"""Network namespaces, veth pairs, nftables rules and peer processes for the tests.

The test session already runs in a private namespace (tests/netisolation.py); these helpers
build named namespaces next to it ("sites", "clients", "routers") joined by veth pairs, so the
tests can give fieldkit a gateway, a resolver and firewalled hosts that exist only here.
"""

from __future__ import annotations

import collections
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).parent
_counter = itertools.count()


def sh(*cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def unique(prefix: str) -> str:
    """Short unique names: interface names are limited to 15 characters."""
    return f"{prefix}{os.getpid() % 100000}x{next(_counter)}"


class Netns:
    def __init__(self, prefix: str = "fkns") -> None:
        self.name = unique(prefix)
        self.processes: list[subprocess.Popen] = []
        self.logs: dict[int, collections.deque[str]] = {}
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "set", "lo", "up")

    def exec_cmd(self, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, *cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        return sh(*self.exec_cmd(*cmd), check=check, **kw)

    def ip(self, *args: str) -> None:
        sh("ip", "-n", self.name, *args)

    def nft(self, ruleset: str) -> None:
        sh(*self.exec_cmd("nft", "-f", "-"), input=ruleset)

    def start(self, *cmd: str, ready: str | None = None, wait_s: float = 10) -> subprocess.Popen:
        """Start a long-running peer inside the namespace; wait for ``ready`` on its stdout."""
        proc = subprocess.Popen(self.exec_cmd(*cmd), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.processes.append(proc)
        if ready:
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if ready in line:
                    break
                if not line and proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited before it was ready")
            else:
                raise RuntimeError(f"{cmd[0]} not ready after {wait_s} s")
        # keep reading: a peer that logs every query (dnsmasq) blocks, and stops answering,
        # once a pipe nobody reads is full
        lines: collections.deque[str] = collections.deque(maxlen=200_000)
        self.logs[proc.pid] = lines
        threading.Thread(target=_drain, args=(proc, lines), daemon=True).start()
        return proc

    def output(self, proc: subprocess.Popen) -> str:
        """What a peer printed after it was ready (e.g. dnsmasq's query log)."""
        return "".join(self.logs.get(proc.pid, ()))

    def listen(self, host: str, *ports: int) -> subprocess.Popen:
        return self.start(sys.executable, str(HERE / "listen.py"), host,
                          *map(str, ports), ready="ready")

    def dnsmasq(self, address: str, records: dict[str, str | list[str] | None]
                ) -> subprocess.Popen:
        """A resolver on ``address``: each name maps to IPv4 address(es), or None for NXDOMAIN
        (a domain covers its subdomains; a more specific name wins)."""
        args = [f"--address=/{name}/{ip or ''}" for name, ips in records.items()
                for ip in (ips if isinstance(ips, list) else [ips])]
        proc = self.start(shutil.which("dnsmasq") or "dnsmasq", "--keep-in-foreground",
                          "--no-resolv", "--no-hosts", "--log-facility=-", "--bind-interfaces",
                          f"--listen-address={address}", "--port=53", "--pid-file=", *args,
                          "--log-queries", ready="started")
        _wait_udp_bound(self, address)
        return proc

    def resolv_conf(self, text: str) -> None:
        """/etc/netns/NAME/resolv.conf: `ip netns exec` mounts it over /etc/resolv.conf."""
        directory = Path("/etc/netns") / self.name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "resolv.conf").write_text(text)

    def close(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            if proc.stdout:
                proc.stdout.close()
        sh("ip", "netns", "del", self.name, check=False)
        shutil.rmtree(Path("/etc/netns") / self.name, ignore_errors=True)


def _drain(proc: subprocess.Popen, lines: collections.deque[str]) -> None:
    try:
        lines.extend(proc.stdout or ())
    except (ValueError, OSError):  # closed by close() while reading
        pass


def veth(a: Netns | None, a_addr: str, b: Netns, b_addr: str) -> tuple[str, str]:
    """Join two namespaces (``a`` None = the test session's own) with a veth pair."""
    name_a, name_b = unique("fka"), unique("fkb")
    if a is None:
        sh("ip", "link", "add", name_a, "type", "veth", "peer", "name", name_b, "netns", b.name)
        sh("ip", "addr", "add", a_addr, "dev", name_a)
        sh("ip", "link", "set", name_a, "up")
    else:
        sh("ip", "-n", a.name, "link", "add", name_a, "type", "veth", "peer", "name", name_b,
           "netns", b.name)
        a.ip("addr", "add", a_addr, "dev", name_a)
        a.ip("link", "set", name_a, "up")
    if b_addr:
        b.ip("addr", "add", b_addr, "dev", name_b)
    b.ip("link", "set", name_b, "up")
    _wait_carrier(b, name_b)
    return name_a, name_b


def _wait_carrier(ns: Netns, ifname: str, wait_s: float = 5) -> None:
    """A fresh veth reports no carrier for a few ms; tests must not race it."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if "LOWER_UP" in sh("ip", "-n", ns.name, "link", "show", ifname).stdout:
            return
        time.sleep(0.02)
    raise RuntimeError(f"{ifname} has no carrier after {wait_s} s")


def _wait_udp_bound(ns: Netns, address: str, wait_s: float = 5) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if f"{address}:53" in ns.run("ss", "-Hlun").stdout:
            return
        time.sleep(0.05)
    raise RuntimeError(f"dnsmasq did not bind {address}:53")
