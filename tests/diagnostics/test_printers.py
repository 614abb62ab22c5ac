"""Printer verdicts against real peers: ippeveprinter, a private cupsd, nftables, mDNS.

Peers: ippeveprinter on loopback (its avahi-daemon in an empty namespace, so no mDNS leaves);
a stdlib fake printer (tests/peers/fake_printer.py) for what ippeveprinter cannot show (stopped,
``*-error`` reasons, IPP 1.1 only, an odd path, PJL on 9100) in a "site" namespace whose nft
rules reject or drop ports per address; a cupsd with its own spool and socket; and, for
discovery, ippeveprinter announcing itself through avahi on a veth pair between two namespaces.
fieldkit always runs as a separate process, as a technician runs it.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import need_root, need_tool

pytestmark = pytest.mark.integration

SITE_HOST, SITE = "10.224.0.1", "10.224.0"
PRINTER, NO_IPP, LPD_ONLY, DROPPED, HOST_UNREACH = (f"{SITE}.{n}" for n in (2, 3, 4, 5, 6))
TLS_HOST, TLS_PRINTER = "10.224.1.1", "10.224.1.2"
SITE_RULES = f"""
table inet fk {{
  chain input {{
    type filter hook input priority 0; policy accept;
    ip daddr {NO_IPP} tcp dport 631 reject with tcp reset
    ip daddr {LPD_ONLY} tcp dport {{ 631, 9100 }} reject with tcp reset
    ip daddr {DROPPED} tcp dport {{ 631, 9100, 515 }} drop
    ip daddr {HOST_UNREACH} tcp dport 631 reject with icmpx type host-unreachable
  }}
}}
"""


def fk(home, *args, env=None, netns=None, timeout=60):
    """``fieldkit diag ... --json`` as a process: (exit code, findings, seconds)."""
    cmd = [sys.executable, "-m", "fieldkit", "diag", *args, "--json"]
    if netns is not None:
        cmd = netns.exec_cmd(*cmd)
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**(env or os.environ), "FIELDKIT_HOME": str(home)})
    elapsed = time.monotonic() - t0
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)["findings"], elapsed


def by_check(findings):
    return {f["check"]: f for f in findings}


@pytest.fixture(scope="module")
def eve():
    need_root()
    need_tool("ippeveprinter", "ipptool", "dbus-daemon", "avahi-daemon", "unshare")
    from tests.peers.ipp import Bus, IppEvePrinter

    bus = Bus()
    try:
        printer = IppEvePrinter(bus)
        yield printer
        printer.close()
    finally:
        bus.close()


@pytest.fixture
def printer(eve):
    """The ippeveprinter, healthy: full supplies, paper in every tray, no job running."""
    eve.reset()
    yield eve
    eve.reset()


def test_idle_printer_is_ok(printer, home):
    code, findings, _ = fk(home, "printer", printer.uri)
    state, supply = by_check(findings)["printer.ipp"], by_check(findings)["printer.supply"]
    assert code == 0 and state["status"] == "ok" and supply["status"] == "ok"
    assert state["subject"] == printer.uri
    assert state["data"]["state"] == "idle" and state["data"]["reasons"] == ["none"]
    assert state["data"]["make_model"] == "Acme FieldKit Sim"
    assert state["data"]["ipp"]["version"] == "2.0" and state["data"]["tls"] is None
    assert {m["name"]: m["level"] for m in supply["data"]["markers"]} == {
        "Toner Waste Tank": 25, "Black Toner": 75}


def test_media_empty_fails_with_a_paper_tip(printer, home):
    printer.media(main=0)
    code, findings, _ = fk(home, "printer", printer.uri)
    state = by_check(findings)["printer.ipp"]
    assert code == 1 and state["status"] == "fail"
    assert any(r.startswith("media-empty") for r in state["data"]["reasons"])
    assert "out of paper" in state["summary"] and "main" in state["summary"]
    assert state["hint"].startswith("Load paper")


def test_toner_low_warns_and_empty_fails(printer, home):
    printer.supplies(black=5)
    code, findings, _ = fk(home, "printer", printer.uri)
    assert code == 0
    assert {f["check"]: f["status"] for f in findings} == {"printer.ipp": "warn",
                                                           "printer.supply": "warn"}
    assert "toner-low" in by_check(findings)["printer.ipp"]["data"]["reasons"][0]
    assert by_check(findings)["printer.supply"]["summary"] == "Black Toner 5%"
    printer.supplies(black=0)
    code, findings, _ = fk(home, "printer", printer.uri)
    assert code == 1 and {f["status"] for f in findings} == {"fail"}
    assert "Replace" in by_check(findings)["printer.supply"]["hint"]


@pytest.mark.parametrize(("reason", "words"), [("cover-open", "a cover is open"),
                                                ("media-jam", "paper jam")])
def test_condition_raised_while_printing_fails(printer, home, reason, words):
    """The print command says ``STATE: +REASON`` while the job runs (ippeveprinter's -c)."""
    printer.print_job(reason, hold_s=3)
    deadline = time.monotonic() + 5
    while True:
        code, findings, _ = fk(home, "printer", printer.uri)
        state = by_check(findings)["printer.ipp"]
        if any(r.startswith(reason) for r in state["data"]["reasons"]):
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert code == 1 and state["status"] == "fail" and state["data"]["state"] == "processing"
    assert words in state["summary"] and state["hint"]


def test_ipps_self_signed_is_evidence_not_a_failure(printer, home):
    uri = printer.uri.replace("ipp://", "ipps://")
    code, findings, _ = fk(home, "printer", uri)
    state = by_check(findings)["printer.ipp"]
    assert code == 0 and state["status"] == "ok"
    tls = state["data"]["tls"]
    assert (tls["verify"], tls["verified"]) == ("self-signed", False)
    assert "not verified" in tls["note"] and tls["version"].startswith("TLSv1")
    assert "TLS certificate not verified (self-signed)" in state["summary"]


def test_resource_path_is_searched(printer, home):
    code, findings, _ = fk(home, "printer", f"ipp://127.0.0.1:{printer.port}")
    assert code == 0 and by_check(findings)["printer.ipp"]["data"]["ipp"]["path"] == "/ipp/print"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A customer site: the fake printer on 631/9100/515 behind per-address nft rules."""
    need_root()
    need_tool("ip", "nft")
    from tests.peers.netns import HERE, Netns, veth

    state = tmp_path_factory.mktemp("fake") / "state.json"
    ns = Netns("fkprn")
    try:
        _, inside = veth(None, f"{SITE_HOST}/24", ns, f"{PRINTER}/24")
        for address in (NO_IPP, LPD_ONLY, DROPPED, HOST_UNREACH):
            ns.ip("addr", "add", f"{address}/24", "dev", inside)
        ns.nft(SITE_RULES)
        ns.start(sys.executable, str(HERE / "fake_printer.py"), "0.0.0.0", "631", "9100", "515",
                 str(state), ready="ready")
        ns.state_file = state
        yield ns
    finally:
        ns.close()


@pytest.fixture(scope="module")
def tls_only(tmp_path_factory):
    """The fake printer with port 631 speaking only TLS, in its own namespace."""
    need_root()
    need_tool("ip")
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.peers.certs import _cert, _name, _write
    from tests.peers.netns import HERE, Netns, veth

    work = tmp_path_factory.mktemp("fake-tls")
    key = ec.generate_private_key(ec.SECP256R1())
    _write(work, "printer", _cert(TLS_PRINTER, _name(TLS_PRINTER), key, key, days_before=1,
                                  days_after=30, sans=[TLS_PRINTER]), key)
    ns = Netns("fkprt")
    try:
        veth(None, f"{TLS_HOST}/24", ns, f"{TLS_PRINTER}/24")
        ns.start(sys.executable, str(HERE / "fake_printer.py"), TLS_PRINTER, "631", "9100",
                 "515", str(work / "state.json"), str(work / "printer.crt"),
                 str(work / "printer.key"), ready="ready")
        yield ns
    finally:
        ns.close()


def test_tls_only_port_says_use_ipps(tls_only, home):
    """Issue 17: ipp:// to a TLS-only 631 said "the network service hangs, power-cycle"."""
    code, findings, _ = fk(home, "printer", f"ipp://{TLS_PRINTER}/ipp/print")
    (finding,) = findings
    assert code == 1 and finding["check"] == "printer.ipp" and finding["status"] == "fail"
    assert "speaks only TLS" in finding["summary"]
    assert f"ipps://{TLS_PRINTER}:631/ipp/print" in finding["hint"]
    assert "power" not in finding["hint"] and finding["data"]["tls_only"]["handshake"] == "ok"
    code, findings, _ = fk(home, "printer", f"ipps://{TLS_PRINTER}/ipp/print")
    assert by_check(findings)["printer.ipp"]["status"] == "ok"


@pytest.fixture
def fake(site):
    def configure(**state):
        site.state_file.write_text(json.dumps(state))

    configure()
    yield configure
    configure()


def test_stopped_printer_with_error_reasons(fake, home):
    fake(state="stopped", reasons=["media-jam-error", "cover-open-error"],
         message="Paper jam in tray 2", accepting=False, marker_names=["Black", "Cyan"],
         marker_levels=[3], alerts=["Jam in tray 2"])
    code, findings, _ = fk(home, "printer", f"ipp://{PRINTER}/ipp/print")
    state, supply = by_check(findings)["printer.ipp"], by_check(findings)["printer.supply"]
    assert code == 1 and state["status"] == "fail" and state["data"]["state"] == "stopped"
    assert state["summary"].startswith("stopped: paper jam, a cover is open, not accepting jobs")
    assert "'Paper jam in tray 2'" in state["summary"] and "alerts: Jam in tray 2" in state[
        "summary"]
    assert state["hint"].startswith("Clear the paper jam")
    assert state["data"]["firmware"] == ["ACME-FW 2.1"]
    assert supply["status"] == "warn" and supply["summary"] == "Black 3%"
    assert supply["data"]["markers"][1] == {"name": "Cyan", "kind": "", "color": "",
                                            "level": None, "waste": False, "source": "marker",
                                            "some_left": False, "low": None}


def test_ipp_1_1_only_and_odd_path(fake, home):
    fake(versions=["1.1"], paths=["/ipp"])
    code, findings, _ = fk(home, "printer", f"ipp://{PRINTER}")
    ipp_data = by_check(findings)["printer.ipp"]["data"]["ipp"]
    assert code == 0 and (ipp_data["path"], ipp_data["version"]) == ("/ipp", "1.1")
    assert [(a["path"], a["version"], a["result"]) for a in ipp_data["attempts"]] == [
        ("/ipp/print", "2.0", "HTTP 404 text/plain"), ("/ipp", "2.0",
                                                       "server-error-version-not-supported"),
        ("/ipp", "1.1", "successful-ok")]


def test_given_path_404_finds_the_one_that_works(fake, home):
    """Issue 17: ipp://host/ipp/print answering 404 where /ipp works is not "not a printer"."""
    fake(paths=["/ipp"])
    code, findings, _ = fk(home, "printer", f"ipp://{PRINTER}/ipp/print")
    state = by_check(findings)["printer.ipp"]
    assert state["status"] == "warn" and state["data"]["ipp"]["path"] == "/ipp"
    assert f"it answers at ipp://{PRINTER}:631/ipp" in state["summary"]
    assert state["hint"].startswith(f"The printer does not answer at /ipp/print but at "
                                    f"ipp://{PRINTER}:631/ipp")
    assert "not an IPP printer" not in state["hint"]
    assert state["data"]["ipp"]["given_path"] == "/ipp/print"


def test_web_page_on_the_ipp_port_is_not_a_printer(fake, home):
    fake(mode="html")
    code, findings, _ = fk(home, "printer", f"ipp://{PRINTER}/ipp/print")
    (finding,) = findings
    assert code == 1 and finding["status"] == "fail"
    assert "not IPP" in finding["summary"] and "ipp://HOST/ipp/print" in finding["hint"]


def test_no_ipp_service_at_any_usual_path(fake, home):
    fake(paths=["/printers/elsewhere"])
    code, findings, _ = fk(home, "printer", f"ipp://{PRINTER}")
    (finding,) = findings
    assert code == 1 and finding["summary"] == "no IPP printer at /ipp/print, /ipp, /"
    assert len(finding["data"]["ipp"]["attempts"]) == 3


def test_bare_host_tries_ipp_then_9100_then_515(fake, home):
    t0 = time.monotonic()
    code, findings, _ = fk(home, "printer", PRINTER, NO_IPP, LPD_ONLY, DROPPED, "--timeout", "1")
    elapsed = time.monotonic() - t0
    assert [(f["check"], f["subject"], f["status"]) for f in findings] == [
        ("printer.ipp", f"ipp://{PRINTER}:631/ipp/print", "ok"),
        ("printer.supply", f"ipp://{PRINTER}:631/ipp/print", "ok"),
        ("printer.raw", f"socket://{NO_IPP}:9100", "ok"),
        ("printer.lpd", f"lpd://{LPD_ONLY}:515", "ok"),
        ("printer.reach", DROPPED, "fail")]
    assert findings[2]["data"]["pjl"]["id"] == "ACME FIELDKIT FAKE 9000"
    assert findings[4]["data"]["ports"] == {p: {"state": "filtered", "reason": "no-response"}
                                            for p in ("631", "9100", "515")}
    assert code == 1 and elapsed < 2.5, "every port of every target costs one timeout together"


def test_raw_port_pjl_states(fake, home):
    fake(pjl={"code": 40022, "display": "PAPER JAM", "online": False, "id": "ACME 9000"})
    code, findings, _ = fk(home, "printer", f"socket://{PRINTER}")
    (raw,) = findings
    assert code == 1 and raw["status"] == "fail" and raw["check"] == "printer.raw"
    assert raw["summary"].endswith("paper jam 'PAPER JAM' - ACME 9000")
    assert raw["data"]["pjl"] == {"id": "ACME 9000", "code": 40022, "display": "PAPER JAM",
                                  "online": False}
    fake(pjl_silent=True)
    code, findings, elapsed = fk(home, "printer", f"socket://{PRINTER}:9100", "--timeout", "1")
    assert code == 0 and findings[0]["status"] == "ok" and "no PJL answer" in findings[0][
        "summary"]
    assert elapsed < 2.5


def test_unreachable_and_filtered_printers_fail(site, home):
    t0 = time.monotonic()
    code, findings, _ = fk(home, "printer", f"ipp://{DROPPED}/ipp/print",
                           f"ipp://{HOST_UNREACH}/ipp/print", f"ipp://{NO_IPP}/ipp/print",
                           f"lpd://{DROPPED}/q", "--timeout", "1")
    elapsed = time.monotonic() - t0
    got = [(f["check"], f["status"], f["data"]["state"], f["data"]["reason"]) for f in findings]
    assert got == [("printer.ipp", "fail", "filtered", "no-response"),
                   ("printer.ipp", "fail", "unreachable", "host-unreach"),
                   ("printer.ipp", "fail", "closed", "conn-refused"),
                   ("printer.lpd", "fail", "filtered", "no-response")]
    assert code == 1 and elapsed < 2.5
    assert "firewall drops" in findings[0]["hint"] and "configuration page" in findings[1]["hint"]


@pytest.fixture(scope="module")
def cupsd(eve):
    """A private cupsd with queues in every state, all in front of the ippeveprinter."""
    need_tool("cupsd", "lpadmin", "cupsdisable", "cupsreject", "lp")
    from tests.peers.ipp import Cupsd, free_port

    server = Cupsd()
    try:
        for name in ("office", "paused", "rejecting", "held"):
            server.run("lpadmin", "-p", name, "-E", "-v", eve.uri)
        server.run("cupsdisable", "-r", "toner swap by IT", "paused")
        server.run("cupsreject", "-r", "moving office", "rejecting")
        server.run("lp", "-d", "held", "-H", "hold", str(eve.page))
        server.run("lp", "-d", "paused", str(eve.page))
        server.down_uri = f"ipp://127.0.0.1:{free_port()}/ipp/print"
        server.run("lpadmin", "-p", "down", "-E", "-v", server.down_uri)
        yield server
    finally:
        server.close()


def test_local_queues(cupsd, printer, home):
    code, findings, _ = fk(home, "printer", env=cupsd.env())
    queues = {f["subject"]: f for f in findings if f["check"] == "printer.queue"}
    assert {q: f["status"] for q, f in queues.items()} == {
        "office": "ok", "paused": "fail", "rejecting": "fail", "held": "warn", "down": "ok"}
    assert queues["paused"]["data"]["state"] == "stopped"
    assert "toner swap by IT" in queues["paused"]["summary"]
    assert "cupsenable paused" in queues["paused"]["hint"]
    assert queues["rejecting"]["data"]["accepting"] is False
    assert "cupsaccept rejecting" in queues["rejecting"]["hint"]
    assert queues["held"]["data"]["jobs"]["held"] == 1 and "1 held" in queues["held"]["summary"]
    assert queues["office"]["data"]["device_uri"] == printer.uri
    devices = {f["subject"]: f for f in findings if f["check"] == "printer.ipp"}
    assert devices[printer.uri]["status"] == "ok"
    assert set(devices[printer.uri]["data"]["queue"].split(", ")) == {
        "held", "office", "paused", "rejecting"}
    assert devices[cupsd.down_uri]["status"] == "fail"
    assert devices[cupsd.down_uri]["data"]["queue"] == "down"
    assert code == 1


def test_plain_diag_runs_the_queue_check(cupsd, printer, home):
    code, findings, _ = fk(home, "-c", "printer", env=cupsd.env())
    assert code == 1 and {f["check"] for f in findings} == {"printer.queue", "printer.ipp",
                                                             "printer.supply"}
    code, findings, _ = fk(home, "--no-probe", "-c", "printer", env=cupsd.env())
    assert {f["check"] for f in findings} == {"printer.queue"}
    assert findings[0]["data"]["device_check"] == "not asked (--no-probe)"


def test_stuck_jobs_by_age(cupsd, printer, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[diag]\nprinter_stuck_after_min = 0\n")
    _, findings, _ = fk(home, "printer", env=cupsd.env())
    queues = {f["subject"]: f for f in findings if f["check"] == "printer.queue"}
    assert queues["paused"]["data"]["jobs"]["stuck"] == 1
    assert "1 waiting over 0 min" in queues["paused"]["summary"]


def test_scheduler_from_client_conf(cupsd, home, tmp_path):
    (tmp_path / "client.conf").write_text(f"ServerName {cupsd.socket}\n")
    env = {k: v for k, v in os.environ.items() if k != "CUPS_SERVER"}
    env.update(CUPS_SERVERROOT=str(tmp_path), HOME=str(tmp_path))
    _, findings, _ = fk(home, "printer", env=env)
    assert {f["subject"] for f in findings if f["check"] == "printer.queue"} == {
        "office", "paused", "rejecting", "held", "down"}
    assert findings[0]["data"]["scheduler"] == cupsd.socket


def test_no_print_system_is_skip(home, tmp_path):
    """`unshare -n` as the README suggests; an empty /run hides any system scheduler's socket."""
    env = {k: v for k, v in os.environ.items() if k != "CUPS_SERVER"}
    env.update(CUPS_SERVERROOT=str(tmp_path), HOME=str(tmp_path), FIELDKIT_HOME=str(home))
    for args in ("printer", "-c printer"):
        t0 = time.monotonic()
        done = subprocess.run(
            ["unshare", "-n", "-m", "sh", "-c", "mount -t tmpfs tmpfs /run && exec "
             f"{sys.executable} -m fieldkit diag {args} --json"],
            capture_output=True, text=True, env=env, timeout=30)
        (finding,) = json.loads(done.stdout)["findings"]
        assert done.returncode == 0 and finding["status"] == "skip"
        assert finding["summary"].startswith("no print system")
        assert time.monotonic() - t0 < 3


def test_named_print_server_down_fails(home, tmp_path):
    code, findings, _ = fk(home, "printer", env={**os.environ,
                                                 "CUPS_SERVER": str(tmp_path / "gone.sock")})
    (finding,) = findings
    assert code == 1 and finding["status"] == "fail" and "CUPS_SERVER" in finding["hint"]


@pytest.fixture(scope="module")
def mdns_site():
    """ippeveprinter announcing itself through avahi on a veth between two namespaces."""
    need_root()
    need_tool("ippeveprinter", "dbus-daemon", "avahi-daemon", "ip")
    from tests.peers.ipp import Bus, IppEvePrinter
    from tests.peers.netns import Netns, veth

    site, client = Netns("fkmds"), Netns("fkmdc")
    bus = printer = None
    try:
        site_if, _ = veth(site, "10.225.0.1/24", client, "10.225.0.2/24")
        bus = Bus(netns=site.name, interface=site_if)
        printer = IppEvePrinter(bus, name="FieldKit Front Desk", netns=site.name, host=None)
        yield client
    finally:
        if printer:
            printer.close()
        if bus:
            bus.close()
        client.close()
        site.close()


def test_discover_lists_announced_printers(mdns_site, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[diag]\nprinter_discover_s = 2\n")
    code, findings, elapsed = fk(home, "printer", "--discover", netns=mdns_site)
    (found,) = [f for f in findings if f["check"] == "printer.discover"]
    assert code == 0 and found["status"] == "ok"
    assert found["data"]["make_model"] == "Acme FieldKit Sim"
    assert found["data"]["name"] == "FieldKit Front Desk"
    assert found["data"]["addresses"][0] == "10.225.0.1"
    assert [s["scheme"] for s in found["data"]["services"]] == ["ipps", "ipp"]
    assert found["subject"].startswith("ipps://10.225.0.1:") and found["subject"].endswith(
        "/ipp/print")
    assert elapsed < 6


def test_discover_with_nothing_announced_warns(home):
    need_root()
    from tests.peers.netns import Netns, veth

    lonely, other = Netns("fkmdl"), Netns("fkmdo")
    try:
        veth(other, "10.226.0.1/24", lonely, "10.226.0.2/24")
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text("[diag]\nprinter_discover_s = 1\n")
        code, findings, _ = fk(home, "printer", "--discover", netns=lonely)
        (found,) = [f for f in findings if f["check"] == "printer.discover"]
        assert code == 0 and found["status"] == "warn" and "mDNS" in found["hint"]
    finally:
        lonely.close()
        other.close()


def test_discover_without_a_network_is_skip(home):
    need_root()
    done = subprocess.run(["unshare", "-n", sys.executable, "-m", "fieldkit", "diag", "printer",
                           "--discover", "--json"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "FIELDKIT_HOME": str(home)})
    found = [f for f in json.loads(done.stdout)["findings"] if f["check"] == "printer.discover"]
    assert done.returncode == 0 and found[0]["status"] == "skip", done.stderr
    assert "no network" in found[0]["summary"]
