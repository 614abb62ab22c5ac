"""system.clock against real time peers on loopback (webpeer.py's SNTP server and HTTP Date).

The tests keep this machine's clock and move the "outside world": each peer tells the time
shifted by its ``--offset``.
"""

import sys
from pathlib import Path

import pytest

from fieldkit.diagnostics import _timesource
from fieldkit.diagnostics._timesource import Reading
from tests.diagnostics.test_mail import LOCAL, _start, free_ports

WEBPEER = str(Path(__file__).parents[1] / "peers" / "webpeer.py")


@pytest.fixture(scope="module")
def time_peers():
    """name -> (http port, ntp port): right (offset 0) twice, and one 150 s ahead."""
    peers, procs = {}, []
    try:
        for name, offset in (("right", 0), ("right2", 0), ("ahead150", 150)):
            http, ntp = free_ports(2)
            procs.append(_start([sys.executable, WEBPEER, LOCAL, str(http), "ok",
                                 "Microsoft Connect Test", "--ntp", str(ntp),
                                 "--offset", str(offset)]))
            peers[name] = (http, ntp)
        yield peers
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


def configure(home, ntp, http):
    home.mkdir(parents=True, exist_ok=True)
    servers = ", ".join(f'"{LOCAL}:{port}"' for port in ntp)
    (home / "config.toml").write_text(
        f'[diag]\nntp_servers = [{servers}]\n'
        f'portal_url = "http://{LOCAL}:{http}/connecttest.txt"\nclock_timeout_s = 1.0\n')


@pytest.mark.integration
def test_one_ntp_server_off_is_outvoted_and_named(time_peers, cli, home):
    """Issue 17: one NTP server 150 s ahead, a second NTP server and the HTTP Date agree with
    this machine: the clock is right, the odd source is the bad one."""
    bad = time_peers["ahead150"][1]
    configure(home, [time_peers["ahead150"][1], time_peers["right2"][1]],
              time_peers["right"][0])
    r = cli("diag", "-c", "system.clock", "--json")
    clock, source = r.json()["findings"]
    assert clock["status"] == "ok" and abs(clock["data"]["offset_s"]) < 2, clock
    assert clock["data"]["outvoted"] == [f"ntp {LOCAL}:{bad}"]
    assert source["subject"] == f"ntp {LOCAL}:{bad}" and source["status"] == "warn", source
    assert "bad time source" in source["summary"] and "2 min 30 s ahead" in source["summary"]
    assert "set the correct time" not in source["hint"] and r.code == 0


def test_one_against_one_is_not_weighed():
    ntp, date = Reading("ntp a", 150.0, 0.01), Reading("Date of b", 0.0, 1.0)
    best = _timesource.weigh([ntp, date])
    assert best is ntp and best.outvoted == []


def test_agreeing_sources_outvote_the_precise_liar():
    liar = Reading("ntp liar", -150.0, 0.001)
    a, b = Reading("ntp a", 0.2, 0.01), Reading("Date of c", 0.6, 1.0)
    best = _timesource.weigh([liar, a, b])
    assert best is a and best.outvoted == [liar]
    assert _timesource.weigh([]) is None
