"""Which way a failed connect went, so a silent or unreachable target is blamed on the right hop.

A connect that gets no answer, or "host unreachable" from this machine itself, reads like a
firewall or a switched-off host - but the packet may never have left: the gateway it was sent to
does not answer ARP/ND (neighbour entry INCOMPLETE or FAILED). And with two default routes, a
preferred gateway that answers ping but forwards nothing looks exactly like a firewall at the
target; the same connect bound to the backup route's interface (``SO_BINDTODEVICE``, allowed
without privileges since Linux 5.7) tells the two apart. Linux only (``ip route get``); where
the route cannot be learnt, verdicts stay as the connect left them. "No route" to an address of a
family this network has no default route for at all (IPv6-only, no NAT64) is said so.
"""

from __future__ import annotations

import errno
import json
import selectors
import shutil
import socket
import subprocess
import sys
import time
from typing import Any

from fieldkit.diagnostics.model import ReachState
from fieldkit.diagnostics.net import connect
from fieldkit.diagnostics.net.gateway import FAILED_STATES, default_gateways, neighbour_state

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
MAX_REPROBES = 256  # distinct (address, port) pairs tried again via a backup route
# verdicts that may be the next hop's fault rather than the target's
UNANSWERED = {(ReachState.FILTERED, "no-response"), (ReachState.UNREACHABLE, "host-unreach")}


def route_to(address: str) -> dict[str, str] | None:
    """The kernel's route to ``address``: {"gateway": "" when on-link, "dev": ...}."""
    if sys.platform != "linux" or not shutil.which("ip"):
        return None
    try:
        out = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True,
                             text=True, timeout=2)
        routes = json.loads(out.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None
    if not routes or not routes[0].get("dev"):
        return None
    return {"gateway": routes[0].get("gateway", ""), "dev": routes[0]["dev"]}


def explain(verdicts: list[dict[str, Any]], ports: list[int], timeout_s: float) -> None:
    """Re-word (in place) the unanswered verdicts whose next hop is the cause.

    ``verdicts[k]`` is one address's connect verdict for port ``ports[k]``. A gateway whose
    neighbour entry failed is ``gateway-down``; a preferred gateway that is up while the same
    connect via a backup route's interface gets an answer is ``gateway-no-route``.
    """
    routes: dict[int, dict[str, str]] = {}
    known: dict[str, dict[str, str] | None] = {}
    for k, verdict in enumerate(verdicts):
        if (verdict["state"], verdict["reason"]) in UNANSWERED:
            address = verdict["address"]
            route = known[address] if address in known else known.setdefault(
                address, route_to(address))
            if route and route["gateway"]:
                routes[k] = route
    if not routes:
        return
    states = {gw: neighbour_state(gw) for gw in {r["gateway"] for r in routes.values()}}
    everything = default_gateways()
    backups = {k: b for k, r in routes.items() if (b := _backup_for(r, everything))}
    tried = _reprobe([(verdicts[k]["address"], ports[k], b["interface"])
                      for k, b in list(backups.items())[:MAX_REPROBES]], timeout_s)
    for k, route in routes.items():
        info: dict[str, Any] = {"gateway": route["gateway"], "dev": route["dev"],
                                "neighbour": states[route["gateway"]] or "no entry"}
        backup = backups.get(k)
        if backup is not None:
            state = tried.get((verdicts[k]["address"], ports[k], backup["interface"]))
            if state in (ReachState.OPEN, ReachState.CLOSED):
                info.update(backup=backup["address"], backup_dev=backup["interface"],
                            backup_state=state)
        if states[route["gateway"]] in FAILED_STATES:
            verdicts[k].update(state=ReachState.UNREACHABLE, reason="gateway-down", route=info)
        elif "backup" in info:
            verdicts[k].update(state=ReachState.UNREACHABLE, reason="gateway-no-route", route=info)


def family_gap(verdicts: list[dict[str, Any]]) -> None:
    """No route to an address because this network has none of its family (an IPv4-only name on
    an IPv6-only network without DNS64/NAT64, or the reverse): say so, in place."""
    todo = [v for v in verdicts
            if (v["state"], v["reason"]) == (ReachState.UNREACHABLE, "net-unreach")]
    if not todo:
        return
    families = {g["family"] for g in default_gateways()}
    for verdict in todo:
        family = "ipv6" if ":" in verdict["address"] else "ipv4"
        other = "ipv4" if family == "ipv6" else "ipv6"
        if family not in families and other in families:
            verdict.update(reason="family-missing", route={"missing": _FAMILY_WORDS[family],
                                                           "present": _FAMILY_WORDS[other]})


_FAMILY_WORDS = {"ipv4": "IPv4", "ipv6": "IPv6"}


def _backup_for(route: dict[str, str], gateways: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A default route of the same family on another interface, when the failed connect went
    via the preferred default gateway."""
    family = "ipv6" if ":" in route["gateway"] else "ipv4"
    same = [g for g in gateways if g["family"] == family]
    if not same or same[0]["address"] != route["gateway"] or same[0]["interface"] != route["dev"]:
        return None
    return next((g for g in same[1:] if g["interface"] != route["dev"]), None)


def _reprobe(items: list[tuple[str, int, str]], timeout_s: float) -> dict[tuple, str]:
    """Connect to each (address, port) bound to the interface given: {item: state}."""
    selector = selectors.DefaultSelector()
    found: dict[tuple, str] = {}
    active: dict[socket.socket, tuple] = {}
    try:
        for item in dict.fromkeys(items):
            address, port, dev = item
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            try:  # out of descriptors, say: this item stays as the connect left it
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError:
                continue
            try:  # created first: a failure here must close this socket, not the previous one
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, dev.encode())
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            code = sock.connect_ex((address, port))
            if code in (errno.EINPROGRESS, errno.EAGAIN):
                active[sock] = item
                selector.register(sock, selectors.EVENT_WRITE)
            else:
                found[item] = connect.classify(sock, code)[0]
                sock.close()
        deadline = time.monotonic() + timeout_s
        while active and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(left):
                sock = key.fileobj  # type: ignore[assignment]
                result, icmp = connect.settled(sock)
                if result is None:
                    continue
                found[active.pop(sock)] = connect.classify(sock, result, icmp)[0]
                selector.unregister(sock)
                sock.close()
    finally:
        for sock in active:
            sock.close()
        selector.close()
    return found
