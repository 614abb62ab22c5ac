"""`fieldkit diag` as a whole process: schema, exit codes, table."""

import time

import pytest

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.registry import Check

FINDING_KEYS = {"check", "subject", "status", "summary", "hint", "data", "duration_s"}


def test_diag_json_schema_and_speed(proc):
    t0 = time.monotonic()
    r = proc("diag", "--json", "--no-probe")
    elapsed = time.monotonic() - t0
    run = r.json()
    assert set(run) >= {"schema", "host", "started_at", "duration_s", "findings"}
    assert run["schema"] == "fieldkit.diag/1"
    checks = {f["check"] for f in run["findings"]}
    assert {"system.os", "system.memory", "system.clock", "disk.usage", "disk.smart"} <= checks
    for f in run["findings"]:
        assert set(f) >= FINDING_KEYS
        assert f["status"] in {"ok", "warn", "fail", "skip", "error"}
        if f["status"] in ("warn", "fail"):
            assert f["hint"]
    assert r.code == (1 if any(f["status"] == "fail" for f in run["findings"]) else 0)
    assert elapsed < 10


def test_diag_table(proc):
    r = proc("diag", "--check", "system", "--no-probe")
    assert "system.os" in r.out and ("ok" in r.out)


def test_unknown_check_is_usage_error(cli):
    r = cli("diag", "--check", "toaster")
    assert r.code == 2 and "unknown check toaster" in r.err


@pytest.mark.parametrize(("status", "code"), [(Status.FAIL, 1), (Status.WARN, 0)])
def test_exit_code_follows_failures(cli, monkeypatch, status, code):
    from fieldkit.diagnostics import registry

    def fake(ctx):
        return [Finding("fake", "x", status, "bad", "fix it")]

    monkeypatch.setattr(registry, "select",
                        lambda names=None, **kw: [Check("fake", "test", fake, "fake")])
    r = cli("diag")
    assert r.code == code
    assert "-> fix it" in r.out


def test_ticket_new_with_diag_attaches_run(cli, home):
    # the probing checks' outside defaults (NCSI URL, NTP) point at a closed loopback port here
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[diag]\nportal_url = "http://127.0.0.1:9/connecttest.txt"'
                                      '\nntp_servers = ["127.0.0.1:9"]\nclock_timeout_s = 0.5\n')
    t = cli("ticket", "new", "-t", "slow", "--diag", "--json").json()
    assert len(t["diag_runs"]) == 1
    run_id = t["diag_runs"][0]["id"]
    assert (home / "store" / "runs" / f"{run_id}.json").exists()
    t = cli("ticket", "diag", "FK-1", "--json").json()
    assert len(t["diag_runs"]) == 2


def test_no_probe_policy_holds_for_printer_targets(cli, home):
    """`probe = false` (a customer's policy) and --no-probe: printers are not asked either."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    try:
        r = cli("diag", "--no-probe", "printer", f"ipp://127.0.0.1:{port}", "--json")
        assert r.code == 0 and [f["status"] for f in r.json()["findings"]] == ["skip"]
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text("[diag]\nprobe = false\n")
        r = cli("diag", "printer", f"socket://127.0.0.1:{port}", "--json")
        assert "probe = false" in r.json()["findings"][0]["summary"]
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody knocked
    finally:
        listener.close()


def test_the_policy_travels_to_a_remote_fieldkit_as_no_probe():
    from fieldkit.diagnostics.jobs import Job, apply_policy

    job = apply_policy(Job("reach", targets=["files.acme.local:445"], settings={"probe": False}))
    assert "--no-probe" in job.argv() and job.no_probe_reason == "probe = false in config.toml"
