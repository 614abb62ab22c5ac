"""Default gateway: is there one, and does it answer?

Without root we cannot send raw ICMP, and many routers ignore ping anyway. So the check asks in
the order that works for an ordinary user: an unprivileged ICMP echo where the OS allows it, then
the kernel's neighbour table after nudging it with one harmless UDP datagram (which makes the
kernel ARP for the gateway). A gateway that answers ARP is alive on the link even if it ignores
ping; one that answers neither is the fault.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import time
from typing import Any

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.registry import CheckContext, check

NO_GATEWAY_HINT = ("Without a default gateway nothing outside the local network is reachable: "
                   "reconnect to the network (DHCP gives the gateway), check a static "
                   "configuration, or reconnect the VPN.")
DEAD_GATEWAY_HINT = ("The router {gw} does not answer: check the cable/Wi-Fi, whether the router "
                     "is powered on, and whether colleagues are affected too (then escalate: "
                     "network outage).")
UNVERIFIED_HINT = ("The gateway {gw} did not answer ping and its link state is unknown: test a "
                   "target with 'fieldkit diag reach', or escalate if nothing works.")
RESOLVED_STATES = {"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP"}
FAILED_STATES = {"FAILED", "INCOMPLETE"}


def default_gateways() -> list[dict[str, Any]]:
    import netifaces

    defaults = netifaces.gateways().get("default", {})
    found = []
    for family, label in ((netifaces.AF_INET, "ipv4"), (netifaces.AF_INET6, "ipv6")):
        if family in defaults:
            address, interface = defaults[family][:2]
            found.append({"family": label, "address": address, "interface": interface})
    return found


@check("gateway", domain="network", description="default route and whether the gateway answers",
       timeout_s=8.0, libraries=("netifaces",))
def gateway(ctx: CheckContext) -> list[Finding]:
    gateways = default_gateways()
    if not gateways:
        return [Finding("gateway", "-", Status.FAIL, "no default gateway: no route off this "
                        "network", NO_GATEWAY_HINT, {"gateways": []})]
    timeout = float(ctx.setting("gateway_timeout_s", 2.0))
    return [assess(gw, timeout, ctx.probe) for gw in gateways]


def assess(gw: dict[str, Any], timeout: float, probe: bool) -> Finding:
    address, iface = gw["address"], gw["interface"]
    subject = f"{address} via {iface}"
    data: dict[str, Any] = dict(gw)
    if not probe:
        data["neighbour"] = neighbour_state(address)
        return Finding("gateway", subject, Status.OK,
                       f"default gateway {address} on {iface} (not probed; neighbour table: "
                       f"{data['neighbour'] or 'no entry'})", data=data)
    data["ping_ms"], data["ping"] = ping(address, timeout)
    if data["ping_ms"] is not None:
        return Finding("gateway", subject, Status.OK,
                       f"gateway {address} answers ping ({data['ping_ms']:.0f} ms)", data=data)
    data["neighbour"] = nudge_and_watch(address, timeout)
    if data["neighbour"] in RESOLVED_STATES:
        return Finding("gateway", subject, Status.OK,
                       f"gateway {address} is present on {iface} (answers ARP/ND, ignores ping)",
                       data=data)
    if data["neighbour"] in FAILED_STATES:
        return Finding("gateway", subject, Status.FAIL,
                       f"gateway {address} does not answer on {iface}",
                       DEAD_GATEWAY_HINT.format(gw=address), data)
    return Finding("gateway", subject, Status.WARN, f"gateway {address}: no answer to ping, "
                   "link state unknown", UNVERIFIED_HINT.format(gw=address), data)


def ping(address: str, timeout: float) -> tuple[float | None, str]:
    """One ICMP echo over an unprivileged datagram socket; (ms or None, what happened)."""
    v6 = ":" in address
    family = socket.AF_INET6 if v6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM, proto)
    except OSError:
        return None, "not permitted (needs root or ping_group_range)"
    with sock:
        sock.settimeout(timeout)
        packet = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0, 1) + b"fieldkit"
        t0 = time.monotonic()
        try:
            sock.sendto(packet, (address, 0))
            sock.recv(1024)
        except TimeoutError:
            return None, "no reply"
        except OSError as exc:
            return None, f"error: {exc.strerror}"
        return (time.monotonic() - t0) * 1000, "reply"


def nudge_and_watch(address: str, timeout: float) -> str | None:
    """Send one UDP datagram (discard port) so the kernel resolves the gateway, then watch."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"", (address, 9))
    except OSError:
        pass
    deadline = time.monotonic() + timeout
    state = neighbour_state(address)
    while state not in RESOLVED_STATES | {"FAILED"} and time.monotonic() < deadline:
        time.sleep(0.05)
        state = neighbour_state(address)
    return state


def neighbour_state(address: str) -> str | None:
    """The kernel's neighbour (ARP/NDP) state for ``address``: REACHABLE, FAILED, ... or None."""
    if shutil.which("ip"):
        try:
            out = subprocess.run(["ip", "-j", "neigh", "show", "to", address],
                                 capture_output=True, text=True, timeout=2)
            entries = json.loads(out.stdout or "[]")
        except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
            entries = []
        for entry in entries:
            if entry.get("dst") == address and entry.get("state"):
                return entry["state"][0]
        return None
    if os.path.exists("/proc/net/arp"):
        with open("/proc/net/arp") as table:
            for line in list(table)[1:]:
                fields = line.split()
                if fields and fields[0] == address:
                    return "REACHABLE" if int(fields[2], 16) & 2 else "INCOMPLETE"
    return None
