"""Issue 17, item 3 (routes and words): gateway and reach verdicts that blamed the wrong hop or
said what was not true, against real peers.

See tests/diagnostics/netlan.py for the topology; ``ip neigh``, nmap, dig and getent give the
independent answers.
"""

import shutil

import pytest

from tests.conftest import need_root, need_tool
from tests.diagnostics.netlan import (
    CLIENT6,
    DEAD6,
    FAR,
    ROUTER,
    ROUTER6,
    WEB,
    build_lan,
    diag,
    dig,
    neigh_state,
    nmap_state,
    reach,
)


@pytest.fixture
def lan(home):
    yield from build_lan(home)


# b. a dead backup gateway --------------------------------------------------------------------

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
    from fieldkit.diagnostics.net.dns import did
    from fieldkit.diagnostics.net.gateway import ping_words

    assert did("SERVFAIL") == "answers SERVFAIL" and did("refused") == "has its DNS port closed"
    assert did("timeout") == "does not answer" and did("error: boom") == "fails (boom)"
    assert ping_words("no reply") == "ignores ping"
    assert "could not be sent" in ping_words("not permitted (needs root or ping_group_range)")
    assert "could not be sent" in ping_words("error: Operation not permitted")
    assert ping_words("error: No route to host") == "ping failed (No route to host)"


def test_backup_only_for_the_preferred_route_on_another_interface():
    from fieldkit.diagnostics.net.route import _backup_for

    gws = [{"family": "ipv4", "address": "10.0.0.1", "interface": "eth0"},
           {"family": "ipv4", "address": "10.0.0.254", "interface": "eth0"},
           {"family": "ipv4", "address": "10.9.0.1", "interface": "wlan0"}]
    assert _backup_for({"gateway": "10.0.0.1", "dev": "eth0"}, gws)["interface"] == "wlan0"
    assert _backup_for({"gateway": "10.9.0.1", "dev": "wlan0"}, gws) is None  # not preferred
    assert _backup_for({"gateway": "10.0.0.1", "dev": "eth0"}, gws[:2]) is None


def test_family_gap_needs_the_other_family_present(monkeypatch):
    from fieldkit.diagnostics.net import route

    def unreachable(address):
        return {"address": address, "state": "unreachable", "reason": "net-unreach"}

    monkeypatch.setattr(route, "default_gateways", lambda: [
        {"family": "ipv6", "address": "fe80::1", "interface": "eth0"}])
    v4, v6 = unreachable("192.0.2.1"), unreachable("2001:db8::1")
    route.family_gap([v4, v6])
    assert v4["reason"] == "family-missing" and v4["route"]["missing"] == "IPv4"
    assert v6["reason"] == "net-unreach"  # IPv6 has a route: a different fault
    monkeypatch.setattr(route, "default_gateways", lambda: [])
    v4 = unreachable("192.0.2.1")
    route.family_gap([v4])
    assert v4["reason"] == "net-unreach"  # no route at all: not a family question


def test_reprobe_survives_sockets_that_cannot_be_made(monkeypatch):
    """Finding 6: when socket() failed (out of descriptors), the except closed an unbound
    name (a traceback) or the previous item's socket still waiting for its answer."""
    import errno
    import socket

    from fieldkit.diagnostics.net import route

    listener = socket.create_server(("127.0.0.1", 0))
    spare = socket.create_server(("127.0.0.1", 0))
    open_port, closed_port = listener.getsockname()[1], spare.getsockname()[1]
    spare.close()
    calls = []

    class Flaky:  # the socket module, whose socket() fails on every other call
        def __getattr__(self, name):
            return getattr(socket, name)

        def socket(self, *args):
            calls.append(args)
            if len(calls) % 2:
                raise OSError(errno.EMFILE, "Too many open files")
            return socket.socket(*args)

    monkeypatch.setattr(route, "socket", Flaky())
    items = [("127.0.0.1", 1, "lo"), ("127.0.0.1", open_port, "lo"),
             ("127.0.0.1", 2, "lo"), ("127.0.0.1", closed_port, "lo")]
    try:
        found = route._reprobe(items, 5.0)
    finally:
        listener.close()
    assert len(calls) == 4
    assert found == {items[1]: "open", items[3]: "closed"}
