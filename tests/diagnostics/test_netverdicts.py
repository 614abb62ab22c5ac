"""Issue 17, item 3 (DNS): resolver verdicts that were wrong or misleading, against real peers.

See tests/diagnostics/netlan.py for the topology; dig and nmap give the independent answers.
"""

import os
import sys

import pytest

from tests.diagnostics.netlan import (
    CLOSED,
    CONFIG,
    PEERS,
    ROUTER,
    SERVFAIL,
    build_lan,
    by_subject,
    diag,
    dig,
    nmap_state,
    reach,
)


@pytest.fixture
def lan(home):
    yield from build_lan(home)


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
    from fieldkit.diagnostics.wire.dns import resolver_config

    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 192.0.2.1\noptions timeout:2 use-vc\n")
    monkeypatch.delenv("RES_OPTIONS", raising=False)
    assert resolver_config(conf).tcp and resolver_config(conf).timeout_s == 2
    conf.write_text("nameserver 192.0.2.1\noptions usevc\n")  # not a glibc option
    assert not resolver_config(conf).tcp
    monkeypatch.setenv("RES_OPTIONS", "use-vc attempts:3")
    assert resolver_config(conf).tcp and resolver_config(conf).attempts == 3


# d. each resolver by what it did; a closed DNS port despite ICMP rate limits ---------------------

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
