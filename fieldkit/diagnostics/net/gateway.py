"""Default gateway: is there one, and does it answer?

Without root we cannot send raw ICMP, and many routers ignore ping anyway. So the check asks in
the order that works for an ordinary user: an unprivileged ICMP echo where the OS allows it, then
the kernel's neighbour table after nudging it with one harmless UDP datagram (which makes the
kernel ARP for the gateway). A gateway that answers ARP is alive on the link even if it ignores
ping; one that answers neither is the fault.

Every default route is looked at, in the kernel's order of preference (metric): a dead preferred
gateway next to a live backup route is still the fault (traffic keeps going to the preferred
one), and the finding names the backup. A dead *backup* next to a live preferred gateway is only
a warning: traffic flows via the preferred one, which the finding names. Without probing, the
neighbour table's memory is the only evidence: a FAILED entry means the gateway did not answer
the last time this machine tried.
"""

from __future__ import annotations

import errno
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
UNVERIFIED_HINT = ("The gateway {gw} gave no answer to ping (or ping could not be sent) and its "
                   "link state is unknown: test a target with 'fieldkit diag reach', or "
                   "escalate if nothing works.")
BACKUP_HINT = (" A backup route via {backup} ({iface}) answers, but traffic keeps going to the "
               "preferred gateway {gw} while its route exists: fix {gw} or take that connection "
               "down so the backup is used.")
DEAD_BACKUP_HINT = ("Traffic goes via the preferred gateway {live} ({live_iface}), which works: "
                    "nothing is down now. The backup route via {gw} ({iface}) would not work if "
                    "{live} failed: fix that connection or remove the route (escalate to the "
                    "network team, not urgent).")
REMEMBERED_HINT = ("The last time this machine tried, the gateway {gw} did not answer (neighbour "
                   "state {state}): check the cable/Wi-Fi and the router; run without --no-probe "
                   "to test it now.")
RESOLVED_STATES = {"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP"}
FAILED_STATES = {"FAILED", "INCOMPLETE"}


def default_gateways() -> list[dict[str, Any]]:
    """Default routes, preferred first within each family (lowest metric)."""
    routes = _ip_routes()
    if routes is not None:
        return routes
    try:
        import netifaces
    except ImportError:  # a bare python3 (the remote probe): the kernel's own route table
        from fieldkit.diagnostics.host.source import kernel_gateways

        return kernel_gateways()
    defaults = netifaces.gateways().get("default", {})
    found = []
    for family, label in ((netifaces.AF_INET, "ipv4"), (netifaces.AF_INET6, "ipv6")):
        if family in defaults:
            address, interface = defaults[family][:2]
            found.append({"family": label, "address": address, "interface": interface})
    return found


def _ip_routes() -> list[dict[str, Any]] | None:
    """All default routes from iproute2 (netifaces reports one per family, not the backups)."""
    if not shutil.which("ip"):
        return None
    found: list[dict[str, Any]] = []
    for flag, label in (("-4", "ipv4"), ("-6", "ipv6")):
        try:
            out = subprocess.run(["ip", "-j", flag, "route", "show", "default"],
                                 capture_output=True, text=True, timeout=2)
            routes = json.loads(out.stdout or "[]")
        except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
            return None
        usable = [r for r in routes if r.get("gateway") and r.get("dev")]
        for route in sorted(usable, key=lambda r: r.get("metric", 0)):
            found.append({"family": label, "address": route["gateway"],
                          "interface": route["dev"], "metric": route.get("metric", 0)})
    return found


@check("gateway", domain="network", description="default route and whether the gateway answers",
       timeout_s=8.0, libraries=("netifaces",))
def gateway(ctx: CheckContext) -> list[Finding]:
    gateways = default_gateways()
    if not gateways:
        return [Finding("gateway", "-", Status.FAIL, "no default gateway: no route off this "
                        "network", NO_GATEWAY_HINT, {"gateways": []})]
    timeout = ctx.number("gateway_timeout_s") or 2.0
    findings = [assess(gw, timeout, ctx.probe) for gw in gateways]
    return name_backups(gateways, findings)


def name_backups(gateways: list[dict[str, Any]], findings: list[Finding]) -> list[Finding]:
    """A failed preferred gateway's finding names a live backup route of the same family; a
    failed backup behind a live preferred gateway is a warning naming the live route."""
    out: list[Finding] = []
    for i, (gw, finding) in enumerate(zip(gateways, findings, strict=True)):
        preferred = all(g["family"] != gw["family"] for g in gateways[:i])
        live = next((g for g, f in zip(gateways[:i], findings[:i], strict=True)
                     if g["family"] == gw["family"]), None) if not preferred else None
        if live is not None and finding.status == Status.FAIL and \
                out[gateways.index(live)].status == Status.OK:
            finding.data["live"] = live["address"]
            out.append(Finding(finding.check, finding.subject, Status.WARN,
                               f"backup gateway {gw['address']} does not answer on "
                               f"{gw['interface']}; traffic goes via {live['address']} "
                               f"({live['interface']}), which answers", DEAD_BACKUP_HINT.format(
                                   gw=gw["address"], iface=gw["interface"], live=live["address"],
                                   live_iface=live["interface"]), finding.data))
            continue
        backup = next((g for g, f in zip(gateways[i + 1:], findings[i + 1:], strict=True)
                       if g["family"] == gw["family"] and f.status == Status.OK), None)
        if preferred and backup and finding.status in (Status.FAIL, Status.WARN):
            finding.data["backup"] = backup["address"]
            finding = Finding(finding.check, finding.subject, finding.status,
                              f"{finding.summary} (backup route via {backup['address']} "
                              "answers)", finding.hint + BACKUP_HINT.format(
                                  backup=backup["address"], iface=backup["interface"],
                                  gw=gw["address"]), finding.data)
        out.append(finding)
    return out


def assess(gw: dict[str, Any], timeout: float, probe: bool) -> Finding:
    address, iface = gw["address"], gw["interface"]
    subject = f"{address} via {iface}"
    data: dict[str, Any] = dict(gw)
    if not probe:
        data["neighbour"] = neighbour_state(address)
        if data["neighbour"] in FAILED_STATES:
            return Finding("gateway", subject, Status.WARN, f"default gateway {address} on "
                           f"{iface} did not answer when last tried (not probed; neighbour "
                           f"table: {data['neighbour']})",
                           REMEMBERED_HINT.format(gw=address, state=data["neighbour"]), data)
        return Finding("gateway", subject, Status.OK,
                       f"default gateway {address} on {iface} (not probed; neighbour table: "
                       f"{data['neighbour'] or 'no entry'})", data=data)
    data["ping_ms"], data["ping"] = ping(address, timeout)
    if data["ping_ms"] is not None:
        return Finding("gateway", subject, Status.OK,
                       f"gateway {address} answers ping ({data['ping_ms']:.0f} ms)", data=data)
    data["neighbour"] = nudge_and_watch(address, timeout)
    pinged = ping_words(data["ping"])
    if data["neighbour"] in RESOLVED_STATES:
        return Finding("gateway", subject, Status.OK,
                       f"gateway {address} is present on {iface} (answers ARP/ND, {pinged})",
                       data=data)
    if data["neighbour"] in FAILED_STATES:
        return Finding("gateway", subject, Status.FAIL,
                       f"gateway {address} does not answer on {iface}",
                       DEAD_GATEWAY_HINT.format(gw=address), data)
    return Finding("gateway", subject, Status.WARN, f"gateway {address}: {pinged}, link state "
                   "unknown", UNVERIFIED_HINT.format(gw=address), data)


def ping_words(outcome: str) -> str:
    """What the ping told, in words: a ping never sent says nothing about the gateway."""
    if outcome == "no reply":
        return "ignores ping"
    if outcome.startswith("not permitted") or outcome in (
            f"error: {os.strerror(errno.EPERM)}", f"error: {os.strerror(errno.EACCES)}"):
        return "ping could not be sent: not permitted here"
    return f"ping failed ({outcome.removeprefix('error: ')})"


def ping(address: str, timeout: float) -> tuple[float | None, str]:
    """One ICMP echo over an unprivileged datagram socket; (ms or None, what happened)."""
    v6 = ":" in address
    family = socket.AF_INET6 if v6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM, proto)
    except OSError:  # EACCES: this user's group is outside net.ipv4.ping_group_range
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
