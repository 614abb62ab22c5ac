"""Issue 17, item 3 (network): verdicts that were wrong or misleading, each against real peers.

Topology per test: client (10.231.0.2) -- veth -- router (10.231.0.1, dnsmasq). Tests add what
their fault needs (nft rules, a second router, a far site) and compare fieldkit's verdict with an
independent tool's answer where one exists (dig, nmap, ``ip neigh``).
"""

import json
import os
import shutil
import sys

import pytest

from tests.conftest import need, need_root, need_tool

ROUTER, CLIENT = "10.231.0.1", "10.231.0.2"
ROUTER6, CLIENT6 = "2001:db8:231::1", "2001:db8:231::2"
DEAD6, WEB = "2001:db8:231::80", "10.231.0.20"  # dual.site.test: a dead AAAA, a working A
RECORDS = {"ok.site.test": "10.231.0.80", "invalid": None, "dual.site.test": [DEAD6, WEB]}
CONFIG = '[diag]\ndns_name = "ok.site.test"\ndns_timeout_s = 1.0\ngateway_timeout_s = 1.5\n'


@pytest.fixture
def lan(home):
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


# a. DNS reachable over TCP only -------------------------------------------------------------

def _drop_udp_dns(router):
    router.nft(f"add rule inet fk input ip daddr {ROUTER} udp dport 53 drop\n")


@pytest.mark.integration
def test_tcp_only_dns_with_use_vc_is_ok(lan, home):
    """UDP/53 dropped, resolv.conf `options use-vc`: glibc asks over TCP and every lookup works,
    so the resolver is asked over TCP too (dig +tcp agrees, dig over UDP times out)."""
    router, client = lan
    _drop_udp_dns(router)
    client.resolv_conf(f"nameserver {ROUTER}\noptions use-vc timeout:1 attempts:1\n")
    assert dig(client, "+tcp", f"@{ROUTER}", "ok.site.test") == "NOERROR"
    assert dig(client, "+notcp", f"@{ROUTER}", "ok.site.test") == "timeout"
    code, findings = diag(client, home, "-c", "dns")
    dns = by_subject(findings, "dns")
    resolver = dns[f"resolver {ROUTER}"]
    assert resolver["status"] == "ok" and "over TCP" in resolver["summary"], resolver
    assert dns["ok.site.test"]["status"] == "ok"
    assert dns["resolv.conf"]["data"]["use_vc"] and "use-vc" in dns["resolv.conf"]["summary"]
    assert code == 0


@pytest.mark.integration
def test_tcp_only_dns_without_use_vc_says_udp_is_blocked(lan, home):
    """UDP/53 dropped, no use-vc: lookups fail; the verdict says UDP is blocked and TCP answers,
    not "not answering, check it is up"."""
    router, client = lan
    _drop_udp_dns(router)
    client.resolv_conf(f"nameserver {ROUTER}\noptions timeout:1 attempts:1\n")
    assert dig(client, "+tcp", f"@{ROUTER}", "ok.site.test") == "NOERROR"
    assert dig(client, "+notcp", f"@{ROUTER}", "ok.site.test") == "timeout"
    code, findings = diag(client, home, "-c", "dns")
    dns = by_subject(findings, "dns")
    resolver = dns[f"resolver {ROUTER}"]
    assert resolver["status"] == "fail" and resolver["data"]["outcome"] == "tcp-only", resolver
    assert "answers over TCP" in resolver["summary"] and "UDP is blocked" in resolver["summary"]
    assert "blocks DNS over UDP" in resolver["hint"] and "check it is up" not in resolver["hint"]
    system = dns["ok.site.test"]
    assert system["status"] == "fail" and "over UDP" in system["summary"], system
    assert "blocks DNS over UDP" in system["hint"]
    assert code == 1
    code, finding = reach(client, home, "ok.site.test:80")
    assert finding["data"]["reason"] == "dns-udp-blocked", finding
    assert "DNS over UDP blocked" in finding["summary"] and "blocks UDP port 53" in finding["hint"]


@pytest.mark.integration
def test_use_vc_against_a_udp_only_resolver_names_use_vc(lan, home):
    """The mirror case: use-vc, but TCP/53 is rejected (dig +tcp: refused) and UDP answers."""
    router, client = lan
    router.nft(f"add rule inet fk input ip daddr {ROUTER} tcp dport 53 reject with tcp reset\n")
    client.resolv_conf(f"nameserver {ROUTER}\noptions use-vc timeout:1 attempts:1\n")
    assert dig(client, "+notcp", f"@{ROUTER}", "ok.site.test") == "NOERROR"
    assert dig(client, "+tcp", f"@{ROUTER}", "ok.site.test") != "NOERROR"
    code, findings = diag(client, home, "-c", "dns")
    dns = by_subject(findings, "dns")
    resolver = dns[f"resolver {ROUTER}"]
    assert resolver["data"]["outcome"] == "udp-only" and "use-vc" in resolver["summary"]
    assert "remove use-vc" in resolver["hint"]
    assert "use-vc" in dns["ok.site.test"]["summary"], dns["ok.site.test"]
    assert code == 1


def test_use_vc_is_read_from_resolv_conf_and_res_options(tmp_path, monkeypatch):
    from fieldkit.diagnostics._dnswire import resolver_config

    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 192.0.2.1\noptions timeout:2 use-vc\n")
    monkeypatch.delenv("RES_OPTIONS", raising=False)
    assert resolver_config(conf).tcp and resolver_config(conf).timeout_s == 2
    conf.write_text("nameserver 192.0.2.1\noptions usevc\n")  # not a glibc option
    assert not resolver_config(conf).tcp
    monkeypatch.setenv("RES_OPTIONS", "use-vc attempts:3")
    assert resolver_config(conf).tcp and resolver_config(conf).attempts == 3


# b. a dead backup gateway --------------------------------------------------------------------

def neigh_state(ns, address):
    """The independent answer: `ip neigh` as the kernel keeps it."""
    out = ns.run("ip", "-j", "neigh", "show", "to", address).stdout
    entries = json.loads(out or "[]")
    return entries[0]["state"][0] if entries and entries[0].get("state") else None


@pytest.mark.integration
def test_dead_backup_gateway_is_a_warning_naming_the_live_route(lan, home):
    router, client = lan
    client.ip("route", "add", "default", "via", ROUTER, "metric", "100")
    client.ip("route", "add", "default", "via", "10.231.0.99", "metric", "200")
    code, findings = diag(client, home, "-c", "gateway")
    preferred, backup = findings
    assert neigh_state(client, ROUTER) in ("REACHABLE", "STALE", "DELAY")
    assert neigh_state(client, "10.231.0.99") in ("FAILED", "INCOMPLETE")
    assert preferred["status"] == "ok" and preferred["data"]["address"] == ROUTER
    assert backup["status"] == "warn", backup
    assert "backup gateway 10.231.0.99 does not answer" in backup["summary"]
    assert f"traffic goes via {ROUTER}" in backup["summary"] and backup["data"]["live"] == ROUTER
    assert "network outage" not in backup["hint"] and "not urgent" in backup["hint"]
    assert code == 0


# c. the gateway, not the target, is the cause --------------------------------------------------

FAR = "10.232.0.5"  # beyond the gateway


def nmap_state(ns, address, port, *args):
    """The independent answer: nmap's connect-scan state for one port."""
    need_tool("nmap")
    out = ns.run("nmap", "-sT", "-Pn", "-n", "--max-retries", "0", "--host-timeout", "20s",
                 *args, "-p", str(port), address, check=False).stdout
    line = next((x for x in out.splitlines() if x.startswith(f"{port}/tcp")), "")
    return line.split()[1] if line else out


def reach(client, home, *args):
    code, findings = diag(client, home, "reach", *args)
    return code, findings[0]


@pytest.mark.integration
@pytest.mark.parametrize("timeout", ["2", "5"])  # before / after the kernel gives up on ARP
def test_reach_through_a_gateway_that_does_not_answer_arp_names_it(lan, home, timeout):
    _, client = lan
    client.ip("route", "add", "default", "via", "10.231.0.99")
    code, finding = reach(client, home, f"{FAR}:80", "--timeout", timeout)
    assert neigh_state(client, "10.231.0.99") in ("INCOMPLETE", "FAILED")
    data = finding["data"]
    assert (data["state"], data["reason"]) == ("unreachable", "gateway-down"), finding
    assert data["route"]["gateway"] == "10.231.0.99"
    assert "the gateway 10.231.0.99" in finding["summary"], finding
    assert "firewall drops" not in finding["hint"] and "switched off" not in finding["hint"]
    assert "10.231.0.99" in finding["hint"] and code == 1


@pytest.fixture
def backup_lan(lan):
    """A second router on a second interface: the backup default route (metric 200) reaches FAR
    (an address of router 2), the preferred router (metric 100) answers ping, forwards nothing."""
    from tests.peers.netns import Netns, veth

    router, client = lan
    router2 = Netns("fkvb")
    try:
        router2.veth_name, client.backup_if = veth(router2, "10.233.0.1/24", client,
                                                   "10.233.0.2/24")
        router2.ip("addr", "add", f"{FAR}/32", "dev", "lo")
        router2.listen(FAR, 80)
        client.ip("route", "add", "default", "via", ROUTER, "metric", "100")
        client.ip("route", "add", "default", "via", "10.233.0.1", "metric", "200")
        client.run("sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647")
        router.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=0")
        yield router, client
    finally:
        router2.close()


@pytest.mark.integration
def test_preferred_gateway_that_routes_nothing_is_named_with_the_backup(backup_lan, home):
    _, client = backup_lan
    assert nmap_state(client, FAR, 80) == "filtered"
    assert nmap_state(client, FAR, 80, "-e", client.backup_if) == "open"
    _, findings = diag(client, home, "-c", "gateway")
    assert [f["status"] for f in findings] == ["ok", "ok"], findings
    assert findings[0]["data"]["ping"] == "reply"
    code, finding = reach(client, home, f"{FAR}:80", "--timeout", "2")
    data = finding["data"]
    assert (data["state"], data["reason"]) == ("unreachable", "gateway-no-route"), finding
    assert data["route"]["gateway"] == ROUTER and data["route"]["backup"] == "10.233.0.1"
    assert data["route"]["backup_state"] == "open"
    assert f"via the preferred gateway {ROUTER}" in finding["summary"]
    assert "open via the backup route 10.233.0.1" in finding["summary"]
    assert "firewall drops" not in finding["hint"] and client.backup_if in finding["hint"]
    assert code == 1


# d. each resolver by what it did; a closed DNS port despite ICMP rate limits ---------------------

SERVFAIL, CLOSED = "10.231.0.3", "10.231.0.4"
PEERS = os.path.join(os.path.dirname(__file__), "..", "peers")


def spend_icmp_burst(client, address, count=12):
    """Spend the server kernel's ICMP burst towards us (6, then one per second and peer): the
    next datagrams to its closed port get no "port unreachable" for a while."""
    client.run(sys.executable, "-c", "import socket\ns = socket.socket(socket.AF_INET, "
               f"socket.SOCK_DGRAM)\nfor _ in range({count}): s.sendto(b'x' * 12, "
               f"('{address}', 53))\n")


@pytest.mark.integration
def test_each_resolver_is_worded_by_what_it_did(lan, home):
    """SERVFAIL + port closed (its ICMP answers rate-limited, so lookups wait on it) + a good
    one: dig and nmap name each; so must every finding, the slow lookup's too."""
    router, client = lan
    for address in (SERVFAIL, CLOSED):
        router.ip("addr", "add", f"{address}/24", "dev", router.veth_name)
    router.start(sys.executable, os.path.join(PEERS, "dnspeer.py"), SERVFAIL, "rcode", "2",
                 ready="ready")
    client.resolv_conf(f"nameserver {SERVFAIL}\nnameserver {CLOSED}\nnameserver {ROUTER}\n"
                       "options timeout:1 attempts:1\n")
    (home / "config.toml").write_text(CONFIG + "dns_slow_s = 0.5\n")
    assert dig(client, f"@{SERVFAIL}", "ok.site.test") == "SERVFAIL"
    assert dig(client, f"@{ROUTER}", "ok.site.test") == "NOERROR"
    assert nmap_state(client, CLOSED, 53, "-sU") == "closed"
    spend_icmp_burst(client, CLOSED)
    code, findings = diag(client, home, "-c", "dns")
    dns = by_subject(findings, "dns")
    servfail, closed = dns[f"resolver {SERVFAIL}"], dns[f"resolver {CLOSED}"]
    assert servfail["status"] == "warn" and "SERVFAIL" in servfail["summary"], servfail
    assert "answers SERVFAIL" in servfail["hint"] and "waits" not in servfail["hint"]
    assert closed["data"]["outcome"] == "refused" and "port closed" in closed["summary"], closed
    system = dns["ok.site.test"]
    assert system["status"] == "warn", system
    assert f"{SERVFAIL} answers SERVFAIL" in system["hint"]
    assert f"{CLOSED} has its DNS port closed" in system["hint"]
    assert "does not answer" not in system["hint"] and code == 0


@pytest.mark.integration
def test_reach_after_the_dns_check_still_sees_the_closed_dns_port(lan, home):
    """The dns check (and the lookups before) spent the server's ICMP burst: glibc's lookup
    meets silence, yet the port is closed (nmap -sU says so), and reach must say so too."""
    router, client = lan
    router.ip("addr", "add", f"{CLOSED}/24", "dev", router.veth_name)
    client.resolv_conf(f"nameserver {CLOSED}\noptions timeout:1 attempts:1\n")
    assert nmap_state(client, CLOSED, 53, "-sU") == "closed"
    diag(client, home, "-c", "dns")
    spend_icmp_burst(client, CLOSED)
    code, finding = reach(client, home, "ok.site.test:80")
    data = finding["data"]
    assert (data["state"], data["reason"]) == ("unresolved", "dns-port-closed"), finding
    assert "DNS port closed" in finding["summary"] and "no answer" not in finding["summary"]
    assert code == 1


# e. IPv6-only network, no DNS64/NAT64 ---------------------------------------------------------


@pytest.fixture
def v6_only(home):
    """client -- router over IPv6 only; the router's dnsmasq knows v4only.site.test (A only)."""
    need_root()
    need_tool("ip", "dnsmasq")
    from tests.peers.netns import Netns, veth

    router, client = Netns("fkv6r"), Netns("fkv6c")
    try:
        router_if, client_if = veth(router, f"{ROUTER6}/64", client, "")
        client.ip("addr", "add", f"{CLIENT6}/64", "dev", client_if, "nodad")
        router.ip("addr", "change", f"{ROUTER6}/64", "dev", router_if, "nodad")
        client.ip("-6", "route", "add", "default", "via", ROUTER6)
        router.start(shutil.which("dnsmasq") or "dnsmasq", "--keep-in-foreground", "--no-resolv",
                     "--no-hosts", "--log-facility=-", "--bind-interfaces",
                     f"--listen-address={ROUTER6}", "--port=53", "--pid-file=",
                     f"--address=/v4only.site.test/{FAR}", "--address=/invalid/",
                     ready="started")
        client.resolv_conf(f"nameserver {ROUTER6}\noptions timeout:1 attempts:1\n")
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text('[diag]\ndns_name = "v4only.site.test"\n')
        yield router, client
    finally:
        client.close()
        router.close()


@pytest.mark.integration
def test_ipv4_only_name_on_an_ipv6_only_network_is_said_so(v6_only, home):
    _, client = v6_only
    for _ in range(50):  # dnsmasq binds once the address is usable
        if dig(client, f"@{ROUTER6}", "A", "v4only.site.test") == "NOERROR":
            break
    out = client.run("dig", "+short", f"@{ROUTER6}", "A", "v4only.site.test").stdout.split()
    assert out == [FAR]
    assert client.run("dig", "+short", f"@{ROUTER6}", "AAAA", "v4only.site.test").stdout == ""
    code, finding = reach(client, home, "v4only.site.test:443")
    data = finding["data"]
    assert (data["state"], data["reason"]) == ("unreachable", "family-missing"), finding
    assert finding["summary"].startswith("v4only.site.test has only IPv4 addresses, and this "
                                         "network only IPv6"), finding
    assert "DNS64/NAT64" in finding["hint"] and "default gateway" not in finding["hint"]
    code, finding = reach(client, home, f"{FAR}:443")
    assert finding["data"]["reason"] == "family-missing"
    assert f"{FAR} is an IPv4 address, and this network has only IPv6" in finding["summary"]


# f. words that were not true ------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("how", ["ping_group_range", "nft output reject", "router drops echo"])
def test_gateway_says_ping_could_not_be_sent_when_it_could_not(lan, home, how):
    """Ping not permitted at all (the user's group outside net.ipv4.ping_group_range, or the
    local firewall refusing to send) is not the gateway ignoring ping; a router that drops
    echo requests is."""
    router, client = lan
    client.ip("route", "add", "default", "via", ROUTER)
    if how != "ping_group_range":
        client.run("sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647")
    if how == "nft output reject":
        client.nft("table inet fkout {\n chain out {\n type filter hook output priority 0;\n"
                   " icmp type echo-request reject\n }\n}\n")
    if how == "router drops echo":
        router.nft("add rule inet fk input icmp type echo-request drop\n")
    code, (finding,) = diag(client, home, "-c", "gateway")
    assert neigh_state(client, ROUTER) in ("REACHABLE", "STALE", "DELAY")
    assert finding["status"] == "ok" and "answers ARP/ND" in finding["summary"], finding
    if how == "router drops echo":
        assert finding["data"]["ping"] == "no reply" and "ignores ping" in finding["summary"]
    else:
        assert "ping could not be sent" in finding["summary"], finding
        assert "ignores ping" not in finding["summary"]


@pytest.mark.integration
def test_dead_first_address_hint_is_true_about_happy_eyeballs(lan, home):
    """dual.site.test: its AAAA (which clients try first: getent ahosts) is dropped, its A is
    open (nmap agrees). Browsers start the IPv4 address after ~0.25 s; one-at-a-time clients
    wait the timeout. The hint must not claim every client waits."""
    router, client = lan
    router.ip("addr", "add", f"{ROUTER6}/64", "dev", router.veth_name, "nodad")
    client.ip("addr", "add", f"{CLIENT6}/64", "dev", client.veth_name, "nodad")
    for address in (f"{DEAD6}/64", f"{WEB}/24"):
        router.ip("addr", "add", address, "dev", router.veth_name, *(
            ["nodad"] if ":" in address else []))
    router.nft(f"add rule inet fk input ip6 daddr {DEAD6} tcp dport 443 drop\n")
    router.listen(WEB, 443)
    router.listen(DEAD6, 443)
    client.resolv_conf(f"nameserver {ROUTER}\noptions timeout:1 attempts:1\n")
    order = client.run("getent", "ahosts", "dual.site.test").stdout.split()
    assert order[0] == DEAD6 and WEB in order, order
    assert nmap_state(client, DEAD6, 443, "-6") == "filtered"
    assert nmap_state(client, WEB, 443) == "open"
    code, finding = reach(client, home, "dual.site.test:443", "--timeout", "2")
    assert finding["status"] == "warn" and finding["data"]["state"] == "open", finding
    assert f"but {DEAD6}, which clients try first, is filtered" in finding["summary"]
    assert "Every client" not in finding["hint"], finding
    assert f"start {WEB} after about 0.25 s" in finding["hint"]
    assert "waits 2.0 s" in finding["hint"] and code == 0


# the pure parts, edge cases ----------------------------------------------------------------------

def test_words_for_what_was_done():
    from fieldkit.diagnostics.dns import did
    from fieldkit.diagnostics.gateway import ping_words

    assert did("SERVFAIL") == "answers SERVFAIL" and did("refused") == "has its DNS port closed"
    assert did("timeout") == "does not answer" and did("error: boom") == "fails (boom)"
    assert ping_words("no reply") == "ignores ping"
    assert "could not be sent" in ping_words("not permitted (needs root or ping_group_range)")
    assert "could not be sent" in ping_words("error: Operation not permitted")
    assert ping_words("error: No route to host") == "ping failed (No route to host)"


def test_backup_only_for_the_preferred_route_on_another_interface():
    from fieldkit.diagnostics._route import _backup_for

    gws = [{"family": "ipv4", "address": "10.0.0.1", "interface": "eth0"},
           {"family": "ipv4", "address": "10.0.0.254", "interface": "eth0"},
           {"family": "ipv4", "address": "10.9.0.1", "interface": "wlan0"}]
    assert _backup_for({"gateway": "10.0.0.1", "dev": "eth0"}, gws)["interface"] == "wlan0"
    assert _backup_for({"gateway": "10.9.0.1", "dev": "wlan0"}, gws) is None  # not preferred
    assert _backup_for({"gateway": "10.0.0.1", "dev": "eth0"}, gws[:2]) is None


def test_family_gap_needs_the_other_family_present(monkeypatch):
    from fieldkit.diagnostics import _route

    def unreachable(address):
        return {"address": address, "state": "unreachable", "reason": "net-unreach"}

    monkeypatch.setattr(_route, "default_gateways", lambda: [
        {"family": "ipv6", "address": "fe80::1", "interface": "eth0"}])
    v4, v6 = unreachable("192.0.2.1"), unreachable("2001:db8::1")
    _route.family_gap([v4, v6])
    assert v4["reason"] == "family-missing" and v4["route"]["missing"] == "IPv4"
    assert v6["reason"] == "net-unreach"  # IPv6 has a route: a different fault
    monkeypatch.setattr(_route, "default_gateways", lambda: [])
    v4 = unreachable("192.0.2.1")
    _route.family_gap([v4])
    assert v4["reason"] == "net-unreach"  # no route at all: not a family question
