"""Peers and helpers for the issue-17 network verdict tests (test_netverdicts, test_netroutes).

Topology per test: client (10.231.0.2) -- veth -- router (10.231.0.1, dnsmasq). Tests add what
their fault needs (nft rules, a second router, a far site) and compare fieldkit's verdict with an
independent tool's answer where one exists (dig, nmap, ``ip neigh``).
"""

import json
import os
import shutil
import sys

from tests.conftest import need, need_root, need_tool

ROUTER, CLIENT = "10.231.0.1", "10.231.0.2"
ROUTER6, CLIENT6 = "2001:db8:231::1", "2001:db8:231::2"
DEAD6, WEB = "2001:db8:231::80", "10.231.0.20"  # dual.site.test: a dead AAAA, a working A
RECORDS = {"ok.site.test": "10.231.0.80", "invalid": None, "dual.site.test": [DEAD6, WEB]}
CONFIG = '[diag]\ndns_name = "ok.site.test"\ndns_timeout_s = 1.0\ngateway_timeout_s = 1.5\n'
FAR = "10.232.0.5"  # beyond the gateway
SERVFAIL, CLOSED = "10.231.0.3", "10.231.0.4"
PEERS = os.path.join(os.path.dirname(__file__), "..", "peers")


def build_lan(home):
    """The `lan` fixture of the test modules (yields router, client; cleans up after)."""
    need_root()
    need_tool("ip", "nft", "dnsmasq")
    from tests.peers.netns import Netns, veth

    router, client = Netns("fkvr"), Netns("fkvc")
    try:
        router.veth_name, client.veth_name = veth(router, f"{ROUTER}/24", client, f"{CLIENT}/24")
        router.nft("table inet fk {\n chain input {\n type filter hook input priority 0;\n }\n}\n")
        router.dnsmasq(ROUTER, RECORDS)
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(CONFIG)
        yield router, client
    finally:
        client.close()
        router.close()


def diag(client, home, *args):
    out = client.run(sys.executable, "-m", "fieldkit", "diag", *args, "--json", check=False,
                     env={**os.environ, "FIELDKIT_HOME": str(home)}, timeout=120)
    assert out.stdout, out.stderr
    return out.returncode, json.loads(out.stdout)["findings"]


def by_subject(findings, check):
    return {f["subject"]: f for f in findings if f["check"] == check}


def dig(ns, *args):
    """The independent answer: dig's status line (or "timeout")."""
    need(shutil.which("dig") is not None, "needs dig (bind9-dnsutils)")
    out = ns.run("dig", "+tries=1", "+time=1", *args, check=False).stdout
    if "timed out" in out or "no servers could be reached" in out:
        return "timeout"
    return out.split("status: ", 1)[1].split(",", 1)[0] if "status: " in out else out


def neigh_state(ns, address):
    """The independent answer: `ip neigh` as the kernel keeps it."""
    out = ns.run("ip", "-j", "neigh", "show", "to", address).stdout
    entries = json.loads(out or "[]")
    return entries[0]["state"][0] if entries and entries[0].get("state") else None


def nmap_state(ns, address, port, *args):
    """The independent answer: nmap's state for one port (a TCP connect scan, or "-sU")."""
    need_tool("nmap")
    proto = "udp" if "-sU" in args else "tcp"
    scan = () if proto == "udp" else ("-sT", "--max-retries", "0")
    out = ns.run("nmap", *scan, "-Pn", "-n", "--host-timeout", "20s", *args, "-p", str(port),
                 address, check=False).stdout
    line = next((x for x in out.splitlines() if x.startswith(f"{port}/{proto}")), "")
    return line.split()[1] if line else out


def reach(client, home, *args):
    code, findings = diag(client, home, "reach", *args)
    return code, findings[0]
