"""Reachability verdicts against real firewall rules in a network namespace (nftables)."""

import json
import os
import subprocess
import sys
import time

import pytest

from fieldkit.diagnostics.net.reach import parse_target, sweep, to_finding
from fieldkit.errors import InputError
from tests.conftest import need_root, need_tool

SITE_HOST, SITE_PEER = "10.220.0.1", "10.220.0.2"
SITE_HOST6, SITE_PEER6 = "fd20:220::1", "fd20:220::2"
WAVE_PORTS = "20000-21199"  # 1,200 dropped ports: more sockets than a 1,024 open-file limit
RULES = f"""
table inet fk {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport 8081 drop
    tcp dport 8082 reject with tcp reset
    tcp dport 8083 reject
    tcp dport 8084 reject with icmpx type admin-prohibited
    tcp dport 8086 reject with icmpx type host-unreachable
    tcp dport {WAVE_PORTS} drop
  }}
}}
"""
# this machine's own firewall (the test session's namespace): rejects to port 8090 and 8091
LOCAL_RULES = f"""
table inet fklocal {{
  chain output {{
    type filter hook output priority 0; policy accept;
    ip daddr {SITE_PEER} tcp dport 8090 reject with icmpx type admin-prohibited
    ip6 daddr {SITE_PEER6} tcp dport 8090 reject with icmpx type admin-prohibited
    ip daddr {SITE_PEER} tcp dport 8091 reject
    ip6 daddr {SITE_PEER6} tcp dport 8091 reject
  }}
}}
"""


@pytest.fixture(scope="module")
def site():
    """A 'customer site' behind a firewall: 10.220.0.2, listener on 8080-8086 except 8085."""
    need_root()
    need_tool("ip", "nft")
    from tests.peers.netns import Netns, sh, veth

    ns = Netns("fksite")
    try:
        host_if, peer_if = veth(None, f"{SITE_HOST}/24", ns, f"{SITE_PEER}/24")
        sh("ip", "addr", "add", f"{SITE_HOST6}/64", "dev", host_if, "nodad")
        ns.ip("addr", "add", f"{SITE_PEER6}/64", "dev", peer_if, "nodad")
        ns.nft(RULES)
        ns.listen(SITE_PEER, 8080, 8081, 8082, 8083, 8084, 8086, 8090, 8091)
        ns.listen(SITE_PEER6, 8080, 8084, 8090, 8091)
        yield ns
    finally:
        ns.close()


EXPECTED = {
    8080: ("open", "syn-ack"),
    8081: ("filtered", "no-response"),
    8082: ("closed", "conn-refused"),
    8083: ("closed", "conn-refused"),
    8084: ("filtered", "admin-prohibited"),
    8085: ("closed", "conn-refused"),
    8086: ("unreachable", "host-unreach"),
}


@pytest.mark.integration
def test_every_firewall_verdict(site):
    targets = [parse_target(f"{SITE_PEER}:{port}") for port in EXPECTED]
    t0 = time.monotonic()
    probes = sweep(targets, timeout_s=1.0)
    elapsed = time.monotonic() - t0
    assert {p.target.port: (p.state, p.reason) for p in probes} == EXPECTED
    assert elapsed < 1.6, "the dropped port must cost one timeout, not more"
    findings = {p.target.port: to_finding(p) for p in probes}
    assert findings[8080].status == "ok"
    assert all(findings[p].status == "fail" and findings[p].hint for p in EXPECTED if p != 8080)
    assert "silently drops" in findings[8081].hint
    assert findings[8084].data["icmp_from"] == SITE_PEER and "not this machine" in \
        findings[8084].hint


@pytest.mark.integration
@pytest.mark.parametrize("peer", [SITE_PEER, f"[{SITE_PEER6}]"])
def test_rejects_read_the_same_in_both_families(site, peer):
    """Case 4: a remote admin-prohibited reject (IPv4 EHOSTUNREACH, IPv6 EACCES) names the
    sender; the same reject made by this machine's own nft rules is the local firewall."""
    from tests.peers.netns import sh

    sh("nft", "-f", "-", input=LOCAL_RULES)
    try:
        t0 = time.monotonic()
        probes = sweep([parse_target(f"{peer}:{p}") for p in (8080, 8084, 8090, 8091)], 2.0)
        elapsed = time.monotonic() - t0
    finally:
        sh("nft", "delete", "table", "inet", "fklocal")
    open_, remote, local, local_plain = (to_finding(p) for p in probes)
    assert open_.data["state"] == "open"
    assert (remote.data["state"], remote.data["reason"]) == ("filtered", "admin-prohibited")
    assert remote.data["icmp_from"] == peer.strip("[]")
    assert "This machine" not in remote.hint and "administratively prohibited" in remote.hint
    for finding in (local, local_plain):
        assert (finding.data["state"], finding.data["reason"]) == ("filtered", "local-firewall")
        assert "This machine's own firewall" in finding.hint
    assert elapsed < 1.0, "rejects answer at once, they must not wait for the timeout"


@pytest.mark.integration
def test_more_targets_than_open_files_run_in_waves(site, home):
    """Case 8: 1,200 targets under a 1,024 open-file limit: every target gets its verdict."""
    first, last = (int(p) for p in WAVE_PORTS.split("-"))
    targets = [f"{SITE_PEER}:{p}" for p in range(first, last + 1)]
    assert len(targets) == 1200
    t0 = time.monotonic()
    out = subprocess.run(["prlimit", "--nofile=1024:1024", sys.executable, "-m", "fieldkit",
                          "diag", "reach", "--timeout", "1", "--json", *targets],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "FIELDKIT_HOME": str(home)})
    elapsed = time.monotonic() - t0
    assert out.returncode == 1, out.stderr[-500:]
    findings = json.loads(out.stdout)["findings"]
    assert len(findings) == 1200
    assert {(f["data"]["state"], f["data"]["reason"]) for f in findings} == {
        ("filtered", "no-response")}
    assert elapsed < 8, f"two waves of a 1-s timeout took {elapsed:.1f} s"


@pytest.mark.integration
def test_address_with_no_host_is_unreachable(site):
    (probe,) = sweep([parse_target("10.220.0.99:80")], timeout_s=6.0)
    assert (probe.state, probe.reason) == ("unreachable", "host-unreach")


@pytest.mark.integration
def test_no_default_route_is_net_unreach(site, home):
    out = site.run(sys.executable, "-m", "fieldkit", "diag", "reach", "198.51.100.7:443",
                   "--json", check=False, env={**os.environ, "FIELDKIT_HOME": str(home)})
    finding = json.loads(out.stdout)["findings"][0]
    assert (finding["data"]["state"], finding["data"]["reason"]) == ("unreachable", "net-unreach")
    assert out.returncode == 1


@pytest.mark.integration
def test_cli_sweep_json_and_concurrency(site, proc):
    targets = [f"{SITE_PEER}:{p}" for p in EXPECTED] + [f"{SITE_PEER}:8081"] * 20
    t0 = time.monotonic()
    r = proc("diag", "reach", *targets, "--timeout", "1", "--json")
    elapsed = time.monotonic() - t0
    run = r.json()
    assert r.code == 1
    # case 8: duplicates are merged, probed and reported once
    assert [f["subject"] for f in run["findings"]] == targets[:len(EXPECTED)]
    assert run["findings"][1]["data"]["given"] == 21
    for f in run["findings"]:
        assert f["check"] == "reach"
        assert set(f["data"]) >= {"state", "reason", "latency_ms"}
    assert elapsed < 2.5, f"27 targets with 21 dropped took {elapsed:.1f} s"


@pytest.mark.integration
def test_user_profile(site, proc, home):
    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "site.toml").write_text(
        f'description = "test site"\ntargets = ["{SITE_PEER}:8080", "{SITE_PEER}:8085"]\n')
    run = proc("diag", "reach", "--profile", "site", "--timeout", "1", "--json").json()
    assert [f["data"]["state"] for f in run["findings"]] == ["open", "closed"]
    listed = proc("diag", "profiles", "--json").json()
    assert {"site", "microsoft365"} <= {p["name"] for p in listed}


@pytest.mark.parametrize("bad", ["host:99999", ":80", "", "host", "host:0", "http://x:80",
                                 "fe80::1:80", "[::1]80", "[zz]:80", "bad host:80"])
def test_bad_targets(bad):
    with pytest.raises(InputError):
        parse_target(bad)


@pytest.mark.parametrize("bad", ["host:99999", ":80", "", "smtp://x:25"])
def test_bad_targets_cli(cli, bad):
    r = cli("diag", "reach", bad)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1


def test_good_targets():
    assert parse_target("[::1]:443").host == "::1"
    assert parse_target(" mail.example.com:587 ").port == 587
    assert parse_target("10.0.0.1:1").text == "10.0.0.1:1"


def test_builtin_profiles_parse(cli):
    from fieldkit.diagnostics.profiles import BUILTIN_DIR, list_profiles

    profiles = list_profiles(BUILTIN_DIR.parent / "nonexistent-home")
    assert profiles and all(p.builtin for p in profiles)
    for profile in profiles:  # parsed only: built-ins name public endpoints, never probed here
        for target in profile.targets:
            parse_target(target)
    r = cli("diag", "reach", "--profile", "nope")
    assert r.code == 3 and "no reach profile" in r.err


def test_unresolved_in_isolated_session(cli):
    """In the test session's namespace no resolver is reachable: the verdict says so."""
    r = cli("diag", "reach", "no-such-host.fieldkit.test:80", "--timeout", "2", "--json")
    finding = json.loads(r.out)["findings"][0]
    assert finding["data"]["state"] == "unresolved"
