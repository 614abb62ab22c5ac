"""The words of ``reach`` (summaries and first-level hints), kept apart from the probing code.

Shared with ``mail``, whose unreachable ports read exactly like reach's. Each hint says what to
do next and who to escalate to; none blames this machine, the service or DNS without evidence.
"""

from __future__ import annotations

from typing import Any

from fieldkit.diagnostics.model import ReachState

PORTAL_HINT = ("Captive portal or DNS hijack: open a browser and log in to the network (hotel, "
               "guest Wi-Fi), or ask who runs this network; results for named hosts mean nothing "
               "until DNS answers honestly ('fieldkit diag -c portal').")

# resolution outcome (see resolve.Resolution) -> reach reason
UNRESOLVED = {"nxdomain": "nxdomain", "no-answer": "dns-timeout", "SERVFAIL": "dns-servfail",
              "REFUSED": "dns-refused", "dns-port-closed": "dns-port-closed",
              "dns-unreachable": "dns-unreachable", "dns-udp-blocked": "dns-udp-blocked",
              "dns-tcp-blocked": "dns-tcp-blocked", "dns-error": "dns-error"}

HINTS = {
    (ReachState.CLOSED, "conn-refused"):
        "The host answered but nothing accepts connections on port {port}: the service is not "
        "running or listens on another port - or a firewall actively rejects it. Check the "
        "service on {host}, then the firewall.",
    (ReachState.FILTERED, "no-response"):
        "No answer at all: a firewall between here and {host} silently drops connections to port "
        "{port} (or the host is down). Ask the firewall/network team to allow it, or escalate "
        "with this target.",
    (ReachState.FILTERED, "admin-prohibited"):
        "A firewall out there rejects connections to {host}:{port} ({icmp_from} answered "
        "'administratively prohibited'): not this machine. Ask whoever runs that firewall to "
        "allow it, or escalate with this target.",
    (ReachState.FILTERED, "local-firewall"):
        "This machine's own firewall blocks connections to {host}:{port}: check the local "
        "firewall or security software.",
    (ReachState.UNREACHABLE, "host-unreach"):
        "{host} cannot be reached at all: it is switched off, not on this network, or a router/"
        "firewall on the way rejects it. Check the address, then cable/Wi-Fi/VPN.",
    (ReachState.UNREACHABLE, "net-unreach"):
        "This machine has no route to {host}'s network: check the network connection, the "
        "default gateway and the VPN.",
    (ReachState.UNREACHABLE, "gateway-down"):
        "The gateway this machine sends the traffic to does not answer, so nothing beyond it is "
        "reached: neither {host} nor a firewall is the cause. Check the cable/Wi-Fi and the "
        "router; run 'fieldkit diag -c gateway'.",
    (ReachState.UNREACHABLE, "family-missing"):
        "This network has no route for the kind of address {host} has (IPv4 vs IPv6): ask the "
        "network team, or the service owner for an address of the other kind.",
    (ReachState.UNREACHABLE, "gateway-no-route"):
        "The preferred gateway is up but gets nothing to {host}, while a backup route does: not "
        "a firewall at {host}. Check that router and its uplink (escalate), or take its "
        "connection down so traffic uses the backup.",
    (ReachState.UNRESOLVED, "nxdomain"):
        "The name {host} does not exist in DNS: check the spelling, or whether the name changed.",
    (ReachState.UNRESOLVED, "dns-timeout"):
        "No DNS server answered for {host} within {dns_s} s: run 'fieldkit diag -c dns' - the "
        "resolver is unreachable or down.",
    (ReachState.UNRESOLVED, "dns-servfail"):
        "The DNS server is up but answered SERVFAIL for {host}: it cannot resolve the name (no "
        "upstream connection, or a broken zone/DNSSEC). Run 'fieldkit diag -c dns'; escalate to "
        "whoever runs the DNS server.",
    (ReachState.UNRESOLVED, "dns-refused"):
        "The DNS server is up but REFUSED to answer for {host}: it does not serve this client "
        "(wrong DNS server configured, or an access list). Check the DNS settings; escalate.",
    (ReachState.UNRESOLVED, "dns-port-closed"):
        "Nothing answers DNS on the configured DNS server (port closed): the DNS setting is "
        "wrong or its service is down. Run 'fieldkit diag -c dns'.",
    (ReachState.UNRESOLVED, "dns-unreachable"):
        "The configured DNS server cannot be reached (no route): fix the connection first (run "
        "'fieldkit diag -c network').",
    (ReachState.UNRESOLVED, "dns-udp-blocked"):
        "The DNS server answers over TCP but not over UDP, which lookups use: something between "
        "here and it blocks UDP port 53. Ask whoever runs the firewall to allow it (escalate); "
        "run 'fieldkit diag -c dns'.",
    (ReachState.UNRESOLVED, "dns-tcp-blocked"):
        "This machine asks DNS over TCP only ('options use-vc') but the DNS server answers only "
        "over UDP: remove use-vc, or have TCP port 53 allowed and served (escalate).",
    (ReachState.UNRESOLVED, "dns-error"):
        "The name {host} could not be resolved: run 'fieldkit diag -c dns'.",
}

SUMMARIES = {
    ReachState.OPEN: "port {port} on {host} is open",
    ReachState.CLOSED: "port {port} on {host} is closed (connection refused)",
    ReachState.FILTERED: "port {port} on {host} is filtered (no answer)",
    ReachState.UNREACHABLE: "{host} is unreachable",
    ReachState.UNRESOLVED: "{host} does not resolve",
    ReachState.ERROR: "probing {host}:{port} failed",
}
FILTERED_BY_REASON = {"admin-prohibited": "port {port} on {host} is filtered (rejected by "
                                          "{icmp_from}: administratively prohibited)",
                      "local-firewall": "port {port} on {host} is blocked by this machine's "
                                        "firewall"}

# reach names the hop (``Probe.route``: gateway, dev, neighbour, backup, backup_dev, backup_state)
ROUTE_SUMMARIES: dict[str | tuple[str, bool], str] = {
    ("family-missing", False): "{host} has only {missing} addresses, and this network only "
                               "{present}",
    ("family-missing", True): "{host} is an {missing} address, and this network has only "
                              "{present}",
    "gateway-down": "{host} is unreachable: the gateway {gateway} on {dev} does not answer "
                    "(neighbour {neighbour})",
    "gateway-no-route": "port {port} on {host} gets no answer via the preferred gateway "
                        "{gateway} ({dev}), but is {backup_state} via the backup route {backup} "
                        "({backup_dev})",
}
ROUTE_HINTS: dict[str | tuple[str, str], str] = {
    ("family-missing", "IPv4"):
        "This network offers only IPv6 and {host} has no IPv6 address, and nothing on the "
        "network translates (no DNS64/NAT64): not {host}'s fault and not a firewall. Ask the "
        "network team for DNS64/NAT64 or IPv4, or the service owner for IPv6 (an AAAA record); "
        "a VPN with IPv4 works around it.",
    ("family-missing", "IPv6"):
        "This network offers only IPv4 and {host} has only IPv6: ask the network team for IPv6, "
        "or the service owner for an IPv4 address (an A record); a VPN with IPv6 works around "
        "it.",
    "gateway-down": "This machine sends the traffic for {host} to the gateway {gateway} ({dev}), "
                    "which does not answer ARP/ND (neighbour {neighbour}): the packets never "
                    "leave, so neither {host} nor a firewall is the cause. Check the cable/Wi-Fi "
                    "and that router; run 'fieldkit diag -c gateway'; escalate if colleagues are "
                    "affected too.",
    "gateway-no-route": "The preferred gateway {gateway} ({dev}) is up but gets nothing to "
                        "{host}, while the backup route via {backup} ({backup_dev}) does: not a "
                        "firewall at {host}. Check that router and its uplink (escalate), or "
                        "take {dev}'s connection down so traffic uses {backup_dev}.",
}
BACKUP_NOTE = (" The backup route via {backup} ({backup_dev}) does reach {host}: take {dev}'s "
               "connection down so traffic uses it.")


def hijack_note(host: str, addresses: list[str]) -> tuple[str, str]:
    return (f"DNS is hijacked: {host} resolves to {', '.join(addresses)}, like a made-up name "
            f"does (captive portal?)", PORTAL_HINT)


def dead_note(host: str, verdicts: list[dict[str, Any]]) -> tuple[str, str]:
    dead = [v for v in verdicts if v["state"] != ReachState.OPEN]
    words = ", ".join(f"{v['address']} {v['state']}" for v in dead)
    first = verdicts[0]
    if first["state"] != ReachState.OPEN:
        wait = first["latency_ms"] / 1000
        v6 = ":" in first["address"]
        other = next((v["address"] for v in verdicts if v["state"] == ReachState.OPEN and
                      (":" in v["address"]) != v6), "")
        if other:  # Happy Eyeballs (RFC 8305) races the other family after ~0.25 s
            clients = (f"A client that tries one address at a time waits {wait:.1f} s (or its "
                       f"own longer timeout) on {first['address']} before it falls back; "
                       f"browsers and other Happy Eyeballs clients start {other} after about "
                       "0.25 s, so the web may look fine while mail clients and scripts hang")
        else:
            clients = (f"Every client tries {first['address']} first, and one that tries one "
                       f"address at a time waits {wait:.1f} s (or its own longer timeout) "
                       "before it falls back; most browsers' Happy Eyeballs (about 0.25 s) "
                       f"only races IPv6 against IPv4, and {host} has no working address of "
                       "the other family")
        return (f"but {first['address']}, which clients try first, is {first['state']} "
                f"({words})", f"{clients}: remove the dead address from {host}'s DNS records, "
                "or fix that server (escalate).")
    return (f"but some addresses are dead ({words})",
            f"Clients that pick a dead address of {host} hang or fail: remove it from DNS or fix "
            "that server (escalate).")
