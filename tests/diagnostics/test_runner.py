import time

import pytest

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.registry import Check, CheckContext, all_checks, select
from fieldkit.diagnostics.runner import run_checks, run_concurrently
from fieldkit.errors import InputError


def _check(name, func, timeout_s=1.0, **kw):
    return Check(name, "test", func, "test check", timeout_s=timeout_s, **kw)


def test_checks_run_concurrently_and_timeouts_become_errors():
    def slow(ctx):
        time.sleep(0.4)
        return [Finding("slow", "x", Status.OK, "done")]

    def stuck(ctx):
        time.sleep(30)
        return []

    t0 = time.monotonic()
    run = run_checks([_check(f"slow{i}", slow) for i in range(5)]
                     + [_check("stuck", stuck, timeout_s=0.5)])
    elapsed = time.monotonic() - t0
    assert elapsed < 1.5, "checks must not run one after another"
    by_check = {f.check: f for f in run.findings}
    assert by_check["stuck"].status == Status.ERROR
    assert "did not finish within 0.5 s" in by_check["stuck"].summary
    assert sum(f.status == Status.OK for f in run.findings) == 5


def test_a_crashing_check_is_an_error_not_a_crash():
    def broken(ctx):
        raise OSError(5, "Input/output error")

    run = run_checks([_check("broken", broken)])
    assert run.findings[0].status == Status.ERROR
    assert "Input/output error" in run.findings[0].summary


def test_missing_tool_and_no_probe_mean_skip_with_reason():
    def never(ctx):
        raise AssertionError("must not run")

    run = run_checks([_check("tool", never, needs=("no-such-tool-xyz",)),
                      _check("net", never, probes=True)], CheckContext(probe=False))
    reasons = {f.check: (f.status, f.summary) for f in run.findings}
    assert reasons["tool"] == (Status.SKIP, "needs no-such-tool-xyz, which is not installed")
    assert reasons["net"][0] == Status.SKIP and "--no-probe" in reasons["net"][1]


def test_warn_and_fail_need_a_hint():
    with pytest.raises(ValueError):
        Finding("x", "y", Status.FAIL, "bad")
    Finding("x", "y", Status.SKIP, "fine without hint")


def test_registry_discovers_domains_and_rejects_unknown_names():
    names = {c.name for c in all_checks()}
    assert {"system.os", "system.clock", "disk.usage", "disk.smart"} <= names
    assert {c.domain for c in select(["disk"])} == {"disk"}
    with pytest.raises(InputError, match="unknown check"):
        select(["nope"])


def test_run_concurrently_keeps_order_and_exceptions():
    results = run_concurrently([("a", lambda: 1, 1), ("b", lambda: 1 / 0, 1)])
    assert list(results) == ["a", "b"]
    assert results["a"] == 1 and isinstance(results["b"], ZeroDivisionError)


def test_worst_status_wins_and_skips_count_least():
    from fieldkit.diagnostics.model import Status, worst

    assert worst(["ok", "warn", "skip"]) == Status.WARN
    assert worst([Status.ERROR, Status.FAIL]) == Status.FAIL
    assert worst(["skip", "ok"]) == Status.OK
    assert worst([]) == Status.SKIP and worst([], Status.OK) == Status.OK
