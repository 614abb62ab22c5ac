"""Remote diagnostics against a real sshd: the probe on a bare python3, a fieldkit installed
there, targeted checks run *from* the remote, tickets, and clean-up after every run."""

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from fieldkit.tickets.store import TicketStore
from tests.conftest import need
from tests.peers.sshd import BARE_ALT, HOST_NAME, INSTALLED, NO_PYTHON
from tests.remote.conftest import DROPPED, LISTENING, remote_config

pytestmark = pytest.mark.integration

RUN_KEYS = {"schema", "host", "started_at", "duration_s", "findings"}
FINDING_KEYS = {"check", "subject", "status", "summary", "hint", "data", "duration_s"}


def on(sshd, port=BARE_ALT):
    return ["--host", sshd.url(port), "-i", str(sshd.user_key)]


def assert_run_schema(run):
    assert set(run) == RUN_KEYS and run["schema"] == "fieldkit.diag/1"
    for finding in run["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["status"] in {"ok", "warn", "fail", "skip", "error"}


def test_without_fieldkit_the_probe_runs_the_same_checks(proc, sshd, trusted):
    calls, dirs = len(sshd.calls()), len(sshd.probe_dirs())
    r = proc("diag", *on(sshd), "--json")
    assert r.code in (0, 1), r.err
    remote = r.json()
    assert_run_schema(remote)
    assert remote["host"] == HOST_NAME
    local = proc("diag", "--json", "--no-probe").json()
    assert {f["check"] for f in remote["findings"]} == {f["check"] for f in local["findings"]}
    status = {f["check"]: f for f in remote["findings"]}
    assert status["system.os"]["status"] == "ok" and status["system.os"]["subject"] == HOST_NAME
    # the remote python3 has no psutil or netifaces: /proc, /sys and os stand in for them
    assert not [f for f in remote["findings"] if "Python library" in f["summary"]]
    assert status["system.memory"]["status"] == "ok" and status["gateway"]["status"] != "skip"
    assert r.code == (1 if any(f["status"] == "fail" for f in remote["findings"]) else 0)
    assert len(sshd.calls()) == calls, "no fieldkit there: the probe must have run"
    assert sshd.probe_dirs()[dirs:] == ["700 root"], "the probe's temp dir must be private"
    assert sshd.leftovers() == [], "the temp dir must be gone after the run"


def test_with_fieldkit_installed_it_runs_there(proc, sshd, trusted):
    calls, dirs = len(sshd.calls()), len(sshd.probe_dirs())
    r = proc("diag", *on(sshd, INSTALLED), "--check", "system", "--json")
    assert r.code in (0, 1), r.err
    run = r.json()
    assert_run_schema(run)
    assert run["host"] == HOST_NAME
    assert sshd.calls()[calls:] == ["diag --json --check system"]
    assert len(sshd.probe_dirs()) == dirs
    memory = next(f for f in run["findings"] if f["check"] == "system.memory")
    assert memory["status"] != "skip"  # that fieldkit has psutil


def test_every_check_fieldkit_runs_there_runs_without_it_with_the_same_status(proc, sshd,
                                                                                 trusted):
    """Issue 23 item 2: the same machine, once through its installed fieldkit (psutil,
    netifaces), once through the probe on a bare python3 (neither)."""
    installed = proc("diag", *on(sshd, INSTALLED), "--no-probe", "--json").json()["findings"]
    bare = proc("diag", *on(sshd), "--no-probe", "--json").json()["findings"]
    ran = {(f["check"], f["subject"]): f["status"] for f in installed if f["status"] != "skip"}
    assert {"system.uptime", "system.memory", "disk.usage", "nics", "gateway"} <= {
        check for check, _ in ran}
    assert {(f["check"], f["subject"]): f["status"] for f in bare
            if (f["check"], f["subject"]) in ran} == ran


def test_use_installed_false_uploads_the_probe_anyway(proc, sshd, trusted, home):
    remote_config(home, use_installed=False)
    calls = len(sshd.calls())
    r = proc("diag", *on(sshd, INSTALLED), "--check", "system.os", "--json")
    assert r.code == 0, r.err
    assert len(sshd.calls()) == calls


@pytest.mark.parametrize("port", [BARE_ALT, INSTALLED])
def test_reach_is_checked_from_the_remote(proc, sshd, trusted, port):
    target = f"127.0.0.1:{LISTENING}"  # listens only in the remote's own namespace
    here = proc("diag", "reach", target, "--timeout", "1", "--json").json()
    assert here["findings"][0]["data"]["state"] == "closed"
    r = proc("diag", "reach", target, "--timeout", "1", "--json", *on(sshd, port))
    assert r.code == 0, r.err
    there = r.json()
    assert there["host"] == HOST_NAME and there["findings"][0]["data"]["state"] == "open"


def test_mail_and_printer_run_on_the_remote(proc, sshd, trusted):
    r = proc("diag", "mail", "smtp://127.0.0.1:2525", "--timeout", "1", "--json", *on(sshd))
    assert r.code in (0, 1), r.err
    run = r.json()
    assert_run_schema(run)
    assert run["host"] == HOST_NAME and run["findings"][0]["check"].startswith("mail")
    r = proc("diag", "printer", "socket://127.0.0.1:9100", "--timeout", "1", "--json",
             *on(sshd))
    assert r.code in (0, 1), r.err
    assert r.json()["host"] == HOST_NAME


@pytest.fixture(scope="module")
def remote_web(sshd, tmp_path_factory):
    """An HTTPS page signed by a test CA that only the remote reaches (127.0.0.1:2443 in its
    namespace). Returns (port, CA file)."""
    from tests.peers.certs import make_certs

    certs = make_certs(tmp_path_factory.mktemp("webcerts"), ["127.0.0.1"])
    webpeer = Path(__file__).parents[1] / "peers" / "webpeer.py"
    sshd.ns.start(sys.executable, str(webpeer), "127.0.0.1", "2443", "ok", "hello", "--tls",
                  str(certs / "server.crt"), str(certs / "server.key"), ready="ready")
    return 2443, certs / "ca.crt"


@pytest.mark.parametrize("port", [BARE_ALT, INSTALLED])
def test_http_runs_on_the_remote_with_its_options(proc, sshd, trusted, remote_web, port):
    web_port, ca = remote_web
    url = f"https://127.0.0.1:{web_port}/"
    trusted_run = proc("diag", "http", url, "--ca-file", str(ca), "--timeout", "2", "--json",
                       *on(sshd, port))
    assert trusted_run.code == 0, trusted_run.err
    [finding] = trusted_run.json()["findings"]
    assert trusted_run.json()["host"] == HOST_NAME
    assert (finding["status"], finding["data"]["status_code"]) == ("ok", 200)
    untrusted = proc("diag", "http", url, "--insecure", "--timeout", "2", "--json",
                     *on(sshd, port))  # no CA there: only --insecure gets the answer
    [finding] = untrusted.json()["findings"]
    assert (finding["status"], finding["data"]["insecure"]) == ("warn", True), untrusted.err


@pytest.fixture(scope="module")
def submission(sshd, tmp_path_factory):
    """An SMTP submission server (STARTTLS, AUTH fieldkit/s3cret) that only the remote reaches:
    127.0.0.1 inside its namespace. Returns (port, CA file)."""
    need(importlib.util.find_spec("aiosmtpd") is not None, "needs aiosmtpd (the test extra)")
    from tests.peers.certs import make_certs

    certs = make_certs(tmp_path_factory.mktemp("certs"), ["localhost", "127.0.0.1"])
    server = Path(__file__).parents[1] / "peers" / "smtp_server.py"
    sshd.ns.start(sys.executable, str(server), "127.0.0.1", str(certs), "2587:submission",
                  ready="ready")
    return 2587, certs / "ca.crt"


@pytest.mark.parametrize("port", [BARE_ALT, INSTALLED])
@pytest.mark.parametrize(("password", "auth"), [("s3cret", "ok"), ("wrong", "rejected")])
def test_a_mail_login_is_tested_from_the_remote(proc, sshd, trusted, submission, monkeypatch,
                                                port, password, auth):
    """The password reaches the remote on stdin (never a command line), for the probe and for
    an installed fieldkit alike; --ca-file names a file there."""
    smtp_port, ca = submission
    monkeypatch.setenv("FIELDKIT_MAIL_PASSWORD", password)
    r = proc("diag", "mail", f"submission://127.0.0.1:{smtp_port}", "--user", "fieldkit",
             "--ca-file", str(ca), "--timeout", "3", "--json", *on(sshd, port))
    assert r.code in (0, 1), r.err
    finding = r.json()["findings"][0]
    assert finding["data"]["tls"]["verify"] == "ok", finding
    assert finding["data"]["auth"].startswith(auth), finding


def test_bad_input_is_refused_before_connecting(cli, sshd, trusted):
    r = cli("diag", "reach", "not a target", *on(sshd))
    assert r.code == 2 and r.out == ""
    r = cli("diag", "--check", "toaster", *on(sshd))
    assert r.code == 2 and "unknown check toaster" in r.err


def test_no_python3_on_the_remote_is_exit_7(proc, sshd, trusted):
    r = proc("diag", *on(sshd, NO_PYTHON), "--check", "system.os")
    assert r.code == 7 and "no python3 on the remote" in r.err
    assert len([line for line in r.err.splitlines() if line]) == 1


def test_a_run_that_times_out_leaves_nothing_behind(proc, sshd, trusted, home):
    """The probe is still probing a dropped port when the command timeout strikes: fieldkit
    gives up (exit 7) and removes the temp dir itself."""
    remote_config(home, command_timeout_s=5)
    t0 = time.monotonic()
    r = proc("diag", "reach", f"{sshd.address}:{DROPPED}", "--timeout", "20", *on(sshd))
    assert r.code == 7 and "did not finish within 5 s" in r.err, r.err
    assert time.monotonic() - t0 < 15
    assert sshd.leftovers() == []


def test_ticket_diag_and_new_attach_the_remote_run(proc, sshd, trusted, home):
    r = proc("ticket", "new", "-t", "slow PC", "--diag", *on(sshd), "--json")
    assert r.code == 0, r.err
    assert r.json()["diag_runs"][0]["host"] == HOST_NAME
    r = proc("ticket", "diag", "FK-1", *on(sshd, INSTALLED), "--json")
    assert r.code == 0, r.err
    runs = r.json()["diag_runs"]
    assert [run["host"] for run in runs] == [HOST_NAME, HOST_NAME]
    stored = TicketStore.at_home(home).load_run(runs[1]["id"])
    assert stored["schema"] == "fieldkit.diag/1" and stored["host"] == HOST_NAME
    assert proc("ticket", "diag", "FK-9", *on(sshd)).code == 3  # not found, before connecting


def test_host_before_a_subcommand_is_refused_not_ignored(cli, sshd):
    r = cli("diag", "--host", sshd.url(), "reach", "127.0.0.1:9")
    assert r.code == 2 and "after the subcommand" in r.err and r.out == ""


def test_host_without_diag_on_ticket_new_is_refused(cli, sshd):
    r = cli("ticket", "new", "-t", "x", "--host", sshd.url())
    assert r.code == 2 and "give --diag too" in r.err
