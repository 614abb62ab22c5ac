"""nics, gateway and dns verdicts, each produced inside a client namespace the test builds.

Topology per test: client (10.221.0.2) -- veth -- router (10.221.0.1, dnsmasq), plus two more
router addresses: .53 where an nft rule drops DNS, .54 where nothing listens.
"""

import json
import os
import sys
import time

import pytest

from tests.conftest import need_root, need_tool
from tests.diagnostics.netlan import diag

ROUTER, CLIENT = "10.221.0.1", "10.221.0.2"
DROPPING, CLOSED = "10.221.0.53", "10.221.0.54"
RECORDS = {"ok.site.test": "10.221.0.80", "nx.site.test": None, "invalid": None}
WEBPEER = os.path.join(os.path.dirname(__file__), "..", "peers", "webpeer.py")
CONFIG = ('[diag]\ndns_name = "ok.site.test"\ndns_timeout_s = 1.0\ngateway_timeout_s = 1.5\n'
          f'portal_url = "http://{ROUTER}/connecttest.txt"\nntp_servers = ["{ROUTER}"]\n')


@pytest.fixture
def lan(home):
    need_root()
    need_tool("ip", "nft", "dnsmasq")
    from tests.peers.netns import Netns, veth

    router, client = Netns("fkrtr"), Netns("fkcli")
    try:
        router_if, client_if = veth(router, f"{ROUTER}/24", client, f"{CLIENT}/24")
        client.veth_name = client_if
        for extra in (DROPPING, CLOSED):
            router.ip("addr", "add", f"{extra}/24", "dev", router_if)
        router.nft("table inet fk {\n chain input {\n type filter hook input priority 0;\n"
                   f" ip daddr {DROPPING} udp dport 53 drop\n }}\n}}\n")
        router.dnsmasq(ROUTER, RECORDS)
        router.start(sys.executable, WEBPEER, ROUTER, "80", "ok", "Microsoft Connect Test",
                     "--ntp", "123", ready="ready")
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(CONFIG)
        yield router, client
    finally:
        client.close()
        router.close()


def reach_data(client, home, *args):
    """`fieldkit diag reach ... --json` inside the client namespace: the one finding's data."""
    out = client.run(sys.executable, "-m", "fieldkit", "diag", "reach", *args, "--json",
                     check=False, env={**os.environ, "FIELDKIT_HOME": str(home)})
    return json.loads(out.stdout)["findings"][0]["data"]


def by_subject(findings, check):
    return {f["subject"]: f for f in findings if f["check"] == check}


@pytest.mark.integration
def test_healthy_lan(lan, home):
    router, client = lan
    client.ip("route", "add", "default", "via", ROUTER)
    client.resolv_conf(f"nameserver {ROUTER}\n")
    code, findings = diag(client, home, "-c", "network")
    statuses = {(f["check"], f["subject"]): f["status"] for f in findings}
    assert set(statuses.values()) == {"ok"}, [f for f in findings if f["status"] != "ok"]
    gw = by_subject(findings, "gateway")
    (finding,) = gw.values()
    assert finding["data"]["address"] == ROUTER
    assert "present" in finding["summary"] or "answers ping" in finding["summary"]
    dns = by_subject(findings, "dns")
    assert dns[f"resolver {ROUTER}"]["data"]["addresses"] == ["10.221.0.80"]
    assert dns["ok.site.test"]["data"]["outcome"] == "answer"
    nics = by_subject(findings, "nics")
    assert any(CLIENT in a for f in nics.values() for a in f["data"].get("ipv4", []))
    assert code == 0


@pytest.mark.integration
def test_gateway_answers_ping_when_allowed(lan, home):
    router, client = lan
    client.ip("route", "add", "default", "via", ROUTER)
    client.run("sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647")
    _, findings = diag(client, home, "-c", "gateway")
    (finding,) = findings
    assert finding["status"] == "ok" and finding["data"]["ping"] == "reply"


@pytest.mark.integration
def test_dead_gateway_fails(lan, home):
    router, client = lan
    client.ip("route", "add", "default", "via", "10.221.0.99")
    code, findings = diag(client, home, "-c", "gateway")
    (finding,) = findings
    assert finding["status"] == "fail", finding
    assert "does not answer" in finding["summary"] and finding["hint"]
    assert code == 1


@pytest.mark.integration
def test_no_default_gateway_fails(lan, home):
    _, client = lan
    _, findings = diag(client, home, "-c", "gateway")
    (finding,) = findings
    assert finding["status"] == "fail"
    assert finding["summary"].startswith("no default gateway")


@pytest.mark.integration
def test_no_probe_reports_configuration_only(lan, home):
    router, client = lan
    client.ip("route", "add", "default", "via", ROUTER)
    client.resolv_conf(f"nameserver {ROUTER}\n")
    _, findings = diag(client, home, "-c", "network", "--no-probe")
    gw = [f for f in findings if f["check"] == "gateway"][0]
    assert "not probed" in gw["summary"] and "neighbour" in gw["data"]
    assert [f["subject"] for f in findings if f["check"] == "dns"] == ["resolv.conf"]
    dnsmasq = router.processes[0]  # dnsmasq logs queries: none may have arrived
    assert "query[" not in router.output(dnsmasq)


@pytest.mark.integration
@pytest.mark.parametrize(("resolv", "subject", "outcome", "words"), [
    (f"nameserver {DROPPING}\noptions timeout:1 attempts:1\n", f"resolver {DROPPING}", "timeout",
     "not answering (timeout"),
    (f"nameserver {CLOSED}\n", f"resolver {CLOSED}", "refused", "port closed"),
    ("# nothing\n", "resolv.conf", None, "no DNS resolver configured"),
])
def test_dns_failures_are_told_apart(lan, home, resolv, subject, outcome, words):
    _, client = lan
    client.resolv_conf(resolv)
    _, findings = diag(client, home, "-c", "dns")
    finding = by_subject(findings, "dns")[subject]
    assert finding["status"] == "fail" and words in finding["summary"], finding
    if outcome:
        assert finding["data"]["outcome"] == outcome
        system = by_subject(findings, "dns")["ok.site.test"]
        assert system["status"] == "fail"


@pytest.mark.integration
def test_dns_name_does_not_exist(lan, home):
    _, client = lan
    client.resolv_conf(f"nameserver {ROUTER}\n")
    (home / "config.toml").write_text('[diag]\ndns_name = "nx.site.test"\n')
    _, findings = diag(client, home, "-c", "dns")
    dns = by_subject(findings, "dns")
    assert dns[f"resolver {ROUTER}"]["data"]["outcome"] == "nxdomain"
    assert dns["nx.site.test"]["summary"] == "nx.site.test does not exist (name not found)"
    data = reach_data(client, home, "nx.site.test:80")
    assert (data["state"], data["reason"]) == ("unresolved", "nxdomain")


@pytest.mark.integration
def test_dns_timeout_makes_reach_unresolved(lan, home):
    _, client = lan
    client.resolv_conf(f"nameserver {DROPPING}\noptions timeout:1 attempts:1\n")
    data = reach_data(client, home, "ok.site.test:80", "--timeout", "3")
    assert (data["state"], data["reason"]) == ("unresolved", "dns-timeout")


@pytest.mark.integration
def test_link_local_address_is_a_dhcp_failure(lan, home):
    router, client = lan
    client.ip("addr", "flush", "dev", client.veth_name)
    client.ip("addr", "add", "169.254.23.7/16", "dev", client.veth_name)
    _, findings = diag(client, home, "-c", "nics")
    finding = by_subject(findings, "nics")[client.veth_name]
    assert finding["status"] == "fail" and "DHCP" in finding["hint"]


@pytest.mark.integration
def test_nothing_up_but_loopback(home):
    need_root()
    from tests.peers.netns import Netns

    ns = Netns("fkbare")
    try:
        code, findings = diag(ns, home, "-c", "nics")
        assert [(f["subject"], f["status"]) for f in findings] == [("-", "fail")]
        assert "no network interface is up" in findings[0]["summary"]
        assert code == 1
    finally:
        ns.close()


@pytest.mark.integration
def test_resolver_without_upstream_is_failing_not_silent(lan, home):
    _, client = lan
    client.resolv_conf(f"nameserver {ROUTER}\n")
    (home / "config.toml").write_text('[diag]\ndns_name = "www.elsewhere.test"\n')
    _, findings = diag(client, home, "-c", "dns")
    finding = by_subject(findings, "dns")[f"resolver {ROUTER}"]
    assert finding["status"] == "fail"
    assert finding["data"]["outcome"] in ("REFUSED", "SERVFAIL")
    assert "fails to resolve" in finding["summary"] and "Escalate" in finding["hint"]


def _sent_packets(client) -> int:
    out = client.run("nft", "-j", "list", "table", "inet", "fkcount").stdout
    rules = [i["rule"] for i in json.loads(out)["nftables"] if "rule" in i]
    return sum(e["counter"]["packets"] for r in rules for e in r["expr"] if "counter" in e)


@pytest.mark.integration
def test_no_probe_holds_for_every_subcommand(lan, home):
    """Case 6: with --no-probe (or `probe = false` in config.toml) nothing leaves: an nft
    counter on the client's output and dnsmasq's query log stay at zero."""
    router, client = lan
    client.ip("route", "add", "default", "via", ROUTER)
    client.resolv_conf(f"nameserver {ROUTER}\n")
    client.run("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")  # no kernel chatter
    # loopback is not the wire: the local print scheduler (localhost:631) may still be asked
    client.nft("table inet fkcount {\n chain out {\n type filter hook output priority 0;\n"
               " oifname != \"lo\" counter\n }\n}\n")
    runs = [
        ("--no-probe",),
        ("--no-probe", "reach", "ok.site.test:443", f"{ROUTER}:80"),
        ("reach", "--no-probe", "ok.site.test:443", f"{ROUTER}:80", "ok.site.test:443"),
        ("mail", "--no-probe", "submission://ok.site.test", f"imaps://{ROUTER}"),
        ("--no-probe", "mail", "ok.site.test"),
    ]
    for args in runs:
        code, findings = diag(client, home, *args)
        assert code == 0, (args, findings)
        if args[-1] != "--no-probe":
            assert {f["status"] for f in findings} == {"skip"}, findings
            assert all("not probed (--no-probe)" in f["summary"] for f in findings)
    (home / "config.toml").write_text(CONFIG + "probe = false\n")
    code, findings = diag(client, home, "reach", "ok.site.test:443")
    assert findings[0]["status"] == "skip" and "probe = false" in findings[0]["summary"]
    code, findings = diag(client, home)
    skipped = {f["check"] for f in findings if "--no-probe" in f["summary"]}
    assert {"portal", "system.clock"} <= skipped
    assert _sent_packets(client) == 0
    assert "query[" not in router.output(router.processes[0])


@pytest.mark.integration
def test_dead_preferred_gateway_names_the_live_backup(lan, home):
    """Case 9: a dead preferred default route next to a live backup route."""
    router, client = lan
    client.ip("route", "add", "default", "via", "10.221.0.99", "metric", "100")
    client.ip("route", "add", "default", "via", ROUTER, "metric", "200")
    t0 = time.monotonic()
    code, findings = diag(client, home, "-c", "gateway")
    assert time.monotonic() - t0 < 6, "each gateway costs at most its 1.5-s timeout"
    dead, backup = findings
    assert dead["data"]["address"] == "10.221.0.99" and dead["status"] == "fail", dead
    assert f"backup route via {ROUTER} answers" in dead["summary"]
    assert "backup" in dead["hint"] and dead["data"]["backup"] == ROUTER
    assert backup["status"] == "ok" and code == 1


@pytest.mark.integration
def test_no_probe_gateway_remembers_a_failed_neighbour(lan, home):
    """Case 9: --no-probe with the neighbour entry FAILED is not 'ok'."""
    router, client = lan
    client.ip("route", "add", "default", "via", "10.221.0.99")
    diag(client, home, "-c", "gateway")  # a real probe leaves the kernel's FAILED entry
    t0 = time.monotonic()
    code, (finding,) = diag(client, home, "-c", "gateway", "--no-probe")
    assert time.monotonic() - t0 < 3
    assert finding["data"]["neighbour"] in ("FAILED", "INCOMPLETE"), finding
    assert finding["status"] == "warn" and "did not answer when last tried" in finding["summary"]
