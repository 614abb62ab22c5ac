"""system.clock against real time peers on loopback (webpeer.py's SNTP server and HTTP Date).

The tests keep this machine's clock and move the "outside world": each peer tells the time
shifted by its ``--offset``.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit import RELEASE_DATE
from fieldkit.diagnostics.host import timesource
from fieldkit.diagnostics.host.timesource import Reading
from tests.conftest import need, need_tool
from tests.diagnostics.test_mail import LOCAL, _start, free_ports

WEBPEER = str(Path(__file__).parents[1] / "peers" / "webpeer.py")


@pytest.fixture(scope="module")
def time_peers():
    """name -> address of a peer with HTTP on 80 and SNTP on 123 (the port sntp asks): two
    right ones, and one 150 s ahead."""
    peers, procs = {}, []
    try:
        for n, (name, offset) in enumerate((("right", 0), ("right2", 0), ("ahead150", 150))):
            address = f"127.0.0.{18 + n}"
            procs.append(_start([sys.executable, WEBPEER, address, "80", "ok",
                                 "Microsoft Connect Test", "--ntp", "123",
                                 "--offset", str(offset)]))
            peers[name] = address
        yield peers
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


def configure(home, ntp, http):
    home.mkdir(parents=True, exist_ok=True)
    servers = ", ".join(f'"{address}"' for address in ntp)
    (home / "config.toml").write_text(
        f'[diag]\nntp_servers = [{servers}]\n'
        f'portal_url = "http://{http}/connecttest.txt"\nclock_timeout_s = 1.0\n')


def sntp_offset(address):
    """sntp's (ntpdig's) own reading: the server's clock minus ours."""
    need_tool("sntp")  # the reference: locally a skip without it, in CI a failure
    out = subprocess.run(["sntp", "-j", "-t", "2", address], capture_output=True, text=True,
                         timeout=30)
    return json.loads(out.stdout)["offset"]


@pytest.mark.integration
def test_one_ntp_server_off_is_outvoted_and_named(time_peers, cli, home):
    """Issue 17: one NTP server 150 s ahead, a second NTP server and the HTTP Date agree with
    this machine: the clock is right, the odd source is the bad one."""
    bad, good = time_peers["ahead150"], time_peers["right2"]
    configure(home, [bad, good], time_peers["right"])
    r = cli("diag", "-c", "system.clock", "--json")
    clock, source = r.json()["findings"]
    assert clock["status"] == "ok" and abs(clock["data"]["offset_s"]) < 2, clock
    assert clock["data"]["outvoted"] == [f"ntp {bad}"]
    assert source["subject"] == f"ntp {bad}" and source["status"] == "warn", source
    assert "bad time source" in source["summary"] and "2 min 30 s ahead" in source["summary"]
    assert "set the correct time" not in source["hint"] and r.code == 0
    told_bad, told_good = sntp_offset(bad), sntp_offset(good)
    # the reference reads the same two servers the same way
    assert abs(told_bad - 150) < 1 and abs(told_good) < 1
    assert abs(-source["data"]["offset_s"] - told_bad) < 1


def test_one_against_one_is_not_weighed():
    ntp, date = Reading("ntp a", 150.0, 0.01), Reading("Date of b", 0.0, 1.0)
    best = timesource.weigh([ntp, date])
    assert best is ntp and best.outvoted == []


def test_agreeing_sources_outvote_the_precise_liar():
    liar = Reading("ntp liar", -150.0, 0.001)
    a, b = Reading("ntp a", 0.2, 0.01), Reading("Date of c", 0.6, 1.0)
    best = timesource.weigh([liar, a, b])
    assert best is a and best.outvoted == [liar]
    assert timesource.weigh([]) is None


def faked(home, *args, when="2019-05-01 12:00:00"):
    """`fieldkit ARGS` with this process's clock at ``when`` (libfaketime: the real clock and
    every peer stay right; OpenSSL in fieldkit verifies against the faked date too)."""
    need_tool("faketime")
    env = {**os.environ, "FIELDKIT_HOME": str(home), "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    out = subprocess.run(["faketime", when, sys.executable, "-m", "fieldkit", *args, "--json"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout, out.stderr
    return out.returncode, json.loads(out.stdout)["findings"]


def no_time_source(home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[diag]\nntp_servers = ["{LOCAL}:9"]\nportal_url = "http://{LOCAL}:9/x"\n'
        'clock_timeout_s = 0.5\n')


@pytest.mark.integration
def test_clock_before_this_release_is_certainly_wrong(home):
    no_time_source(home)
    code, (f,) = faked(home, "diag", "-c", "system.clock")
    assert f["data"]["utc"].startswith("2019-05-01"), f  # the fake reached fieldkit
    assert f["status"] == "fail" and code == 1
    assert "before this fieldkit release was built" in f["summary"], f
    assert f["data"]["release_date"] == RELEASE_DATE and "date and time" in f["hint"]


@pytest.fixture(scope="module")
def smtps(tmp_path_factory):
    need(importlib.util.find_spec("aiosmtpd") is not None, "needs aiosmtpd (the test extra)")
    from tests.peers.certs import make_certs

    certs = make_certs(tmp_path_factory.mktemp("clockmail") / "certs", ["localhost", LOCAL])
    (port,) = free_ports(1)
    peer = _start([sys.executable, str(Path(__file__).parents[1] / "peers" / "smtp_server.py"),
                   LOCAL, str(certs), f"{port}:smtps"])
    yield certs, port
    peer.terminate()
    peer.wait(timeout=10)


@pytest.mark.integration
def test_not_yet_valid_certificate_with_an_impossible_clock_blames_the_clock(smtps, home):
    """Issue 17: the clock in 2019, no time source, a certificate 'not yet valid': not 'renew
    the certificate' but 'this machine's clock is certainly wrong'."""
    certs, port = smtps
    no_time_source(home)
    _, (f,) = faked(home, "diag", "mail", f"smtps://{LOCAL}:{port}", "--ca-file",
                    str(certs / "ca.crt"), "--timeout", "3")
    assert f["status"] == "fail" and f["data"]["tls"]["verify"] == "clock", f
    assert "clock is certainly wrong" in f["summary"] and "2019-05-01" in f["summary"]
    assert "not yet valid" in f["summary"] and "renew" not in f["hint"]
    assert "date and time" in f["hint"]
    # openssl, at the real date, verifies the same server: the certificate is fine
    out = subprocess.run(["openssl", "s_client", "-connect", f"{LOCAL}:{port}", "-CAfile",
                          str(certs / "ca.crt"), "-verify_return_error"], input="",
                         capture_output=True, text=True, timeout=30)
    assert "Verify return code: 0 (ok)" in out.stdout


def test_not_yet_valid_with_a_possible_clock_and_no_source_does_not_say_renew():
    from fieldkit.diagnostics.mail import server as mail

    info = {"verify": "not-yet-valid", "not_before": "2027-01-01T00:00:00+00:00",
            "not_after": "2028-01-01T00:00:00+00:00"}
    status, summary, hint = mail._dated(info, lambda: (None, ["ntp x: no answer"]))
    assert "renew" not in hint and "too early" in hint and "clock" in summary


def test_a_wrong_clock_is_not_called_right_when_the_certificate_is_bad_anyway():
    """Seven years behind (a reading says so) and a certificate not valid at the real date
    either: both are named, the clock is not 'right'."""
    from fieldkit.diagnostics.mail import server as mail

    info = {"verify": "not-yet-valid", "version": "TLSv1.3",
            "not_before": "2099-01-01T00:00:00+00:00", "not_after": "2100-01-01T00:00:00+00:00"}
    behind = Reading("ntp a", -7 * 365 * 86400.0, 0.01)
    _status, summary, _hint = mail._dated(info, lambda: (behind, []))
    assert "clock is right" not in summary and "days behind" in summary, summary
    info["verify"] = "not-yet-valid"
    _status, summary, _hint = mail._dated(info, lambda: (Reading("ntp a", 1.0, 0.01), []))
    assert "clock is right" in summary
