"""Network interfaces: link, speed/duplex/MTU, addresses, error counters, DHCP failures.

"No internet" starts here: is any interface up at all, did DHCP hand out an address (a
169.254.x.x address means it did not), is the cable throwing errors.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path
from typing import Any

from fieldkit.diagnostics.host.source import source
from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.registry import CheckContext, check

ERROR_WARN_RATIO = 0.001  # 0.1 % of packets in error: a bad cable, port or driver

DHCP_HINT = ("{nic} has a self-assigned 169.254.x.x address: DHCP did not answer. Unplug and "
             "replug the cable / reconnect Wi-Fi, renew the lease (Windows: ipconfig /renew), "
             "check the switch port; if several users are affected, escalate (DHCP server).")
NO_ADDRESS_HINT = ("{nic} is up but has no IP address: reconnect, renew the DHCP lease, or check "
                   "the static configuration.")
ERRORS_HINT = ("{nic} shows transmission errors: swap the cable, try another wall/switch port; "
               "if it persists, escalate (driver or hardware).")
NONE_UP_HINT = ("No network interface is connected: plug in the cable or connect to Wi-Fi, check "
                "airplane mode and the Wi-Fi switch, and that the adapter is enabled.")


@check("nics", domain="network", description="interfaces, link state, addresses, error counters",
       libraries=("psutil",))
def nics(ctx: CheckContext) -> list[Finding]:
    addrs = source().net_if_addrs()
    stats = source().net_if_stats()
    counters = source().net_io_counters(pernic=True)
    findings: list[Finding] = []
    any_up = False
    for name in sorted(set(addrs) | set(stats)):
        info = describe(name, addrs.get(name, []), stats.get(name), counters.get(name))
        if info["loopback"]:
            continue
        finding = assess(name, info)
        any_up = any_up or info["up"]
        findings.append(finding)
    if not any_up:
        findings.append(Finding("nics", "-", Status.FAIL,
                                "no network interface is up besides loopback", NONE_UP_HINT,
                                {"interfaces": [f.subject for f in findings]}))
    return findings


def describe(name: str, addrs: list, stat, counter) -> dict[str, Any]:
    ipv4, ipv6, mac = [], [], ""
    for a in addrs:
        if a.family == socket.AF_INET:
            ipv4.append(_with_prefix(a.address, a.netmask))
        elif a.family == socket.AF_INET6:
            ipv6.append(a.address.split("%")[0])
        elif a.family == source().AF_LINK:
            mac = a.address
    flags = (getattr(stat, "flags", "") or "").split(",") if stat else []
    carrier = _carrier(name)
    admin_up = "up" in flags if flags != [""] else bool(stat and stat.isup)
    info: dict[str, Any] = {
        "admin_up": admin_up,
        # psutil's isup means "up and running" (link present); carrier refines it on Linux
        "up": admin_up and (carrier if carrier is not None else bool(stat and stat.isup)),
        "carrier": carrier,
        "loopback": "loopback" in flags or name == "lo" or name.startswith("Loopback"),
        "mac": mac,
        "ipv4": ipv4,
        "ipv6": ipv6,
        "mtu": stat.mtu if stat else None,
        "speed_mbps": stat.speed if stat and stat.speed else None,
        "duplex": {source().NIC_DUPLEX_FULL: "full", source().NIC_DUPLEX_HALF: "half"}.get(
            stat.duplex) if stat else None,
    }
    if counter:
        info.update(packets_in=counter.packets_recv, packets_out=counter.packets_sent,
                    errors_in=counter.errin, errors_out=counter.errout,
                    drops_in=counter.dropin, drops_out=counter.dropout)
    return info


def assess(name: str, info: dict[str, Any]) -> Finding:
    if not info["up"]:
        state = "no link (cable/Wi-Fi)" if info["admin_up"] else "administratively down"
        return Finding("nics", name, Status.OK, f"{name}: {state}, not in use", data=info)
    link_local = [a for a in info["ipv4"] if _is_link_local_v4(a)]
    routable_v4 = [a for a in info["ipv4"] if not _is_link_local_v4(a)]
    if link_local and not routable_v4:
        return Finding("nics", name, Status.FAIL,
                       f"{name}: only a self-assigned address {link_local[0]} (DHCP failed)",
                       DHCP_HINT.format(nic=name), info)
    global_v6 = [a for a in info["ipv6"] if not a.lower().startswith("fe80")]
    if not routable_v4 and not global_v6:
        return Finding("nics", name, Status.WARN, f"{name}: up but no IP address",
                       NO_ADDRESS_HINT.format(nic=name), info)
    summary = f"{name}: up, {', '.join(routable_v4 + global_v6)}"
    details = [f"{info['speed_mbps']} Mb/s" if info["speed_mbps"] else "",
               f"{info['duplex']} duplex" if info["duplex"] else "",
               f"MTU {info['mtu']}" if info["mtu"] else ""]
    if any(details):
        summary += f" ({', '.join(d for d in details if d)})"
    packets = info.get("packets_in", 0) + info.get("packets_out", 0)
    errors = info.get("errors_in", 0) + info.get("errors_out", 0)
    if packets and errors / packets > ERROR_WARN_RATIO:
        return Finding("nics", name, Status.WARN, f"{summary}; {errors} packet errors",
                       ERRORS_HINT.format(nic=name), info)
    if info["duplex"] == "half" and (info["speed_mbps"] or 0) >= 100:
        return Finding("nics", name, Status.WARN, f"{summary}; half duplex",
                       f"{name} runs half duplex: a duplex mismatch makes the network very "
                       "slow. Set both ends to auto-negotiate or escalate.", info)
    return Finding("nics", name, Status.OK, summary, data=info)


def _with_prefix(address: str, netmask: str | None) -> str:
    if not netmask:
        return address
    try:
        return str(ipaddress.IPv4Interface(f"{address}/{netmask}"))
    except ValueError:
        return address


def _is_link_local_v4(address: str) -> bool:
    return ipaddress.IPv4Interface(address).ip.is_link_local


def _carrier(name: str) -> bool | None:
    """Linux tells whether a cable/link is present; elsewhere we do not know."""
    if sys.platform != "linux":
        return None
    try:
        return Path(f"/sys/class/net/{name}/carrier").read_text().strip() == "1"
    except OSError:
        return None  # reading carrier of a down interface fails with EINVAL
