from collections import namedtuple
from datetime import UTC, datetime

import pytest

from fieldkit.diagnostics.host import clock, system, timesource
from fieldkit.diagnostics.host.timesource import Reading
from fieldkit.diagnostics.model import Status
from fieldkit.diagnostics.registry import CheckContext

CTX = CheckContext()


def test_real_machine_checks_produce_honest_findings():
    for func in (system.os_info, system.uptime, system.cpu_load, system.memory, system.swap,
                 system.battery):
        for finding in func(CTX):
            assert finding.status in set(Status)
            assert finding.summary
            if finding.status in (Status.WARN, Status.FAIL):
                assert finding.hint


Battery = namedtuple("Battery", "percent secsleft power_plugged")
Memory = namedtuple("Memory", "total available")


@pytest.mark.parametrize(("battery", "status"), [
    (None, Status.SKIP),
    (Battery(50, 3600, False), Status.OK),
    (Battery(15, 600, False), Status.WARN),
    (Battery(3, 60, False), Status.FAIL),
    (Battery(3, -2, True), Status.OK),
])
def test_battery_thresholds(monkeypatch, battery, status):
    monkeypatch.setattr(system.source(), "sensors_battery", lambda: battery)
    assert system.battery(CTX)[0].status == status


@pytest.mark.parametrize(("available", "status"), [(50, Status.OK), (8, Status.WARN),
                                                    (2, Status.FAIL)])
def test_memory_thresholds(monkeypatch, available, status):
    monkeypatch.setattr(system.source(), "virtual_memory", lambda: Memory(100, available))
    assert system.memory(CTX)[0].status == status


def test_clock_in_the_past_fails():
    finding = clock.assess_clock(datetime(2019, 5, 1, tzinfo=UTC), True, None, [])
    assert finding.status == Status.FAIL and "date and time" in finding.hint


def reading(offset_s):
    return Reading("ntp 192.0.2.1", offset_s, 0.01)


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("offset", "status", "words"), [
    (0.3, Status.OK, "0.3 s ahead of ntp 192.0.2.1 (right)"),
    (-90, Status.OK, "90.0 s behind"),
    (150, Status.WARN, "2 min 30 s ahead"),
    (-301, Status.FAIL, "5 min 1 s behind"),
    (400 * 86400, Status.FAIL, "400 days ahead"),
])
def test_clock_thresholds_against_an_outside_source(offset, status, words):
    """Case 5: warn over 2 minutes, fail over 5 (Kerberos), whatever the OS believes."""
    finding = clock.assess_clock(NOW, True, reading(offset), [])
    assert finding.status == status and words in finding.summary
    assert finding.data["offset_s"] == offset


def test_cannot_tell_is_skip_never_ok():
    finding = clock.assess_clock(NOW, None, None, ["ntp 192.0.2.1: no answer"])
    assert finding.status == Status.SKIP and "cannot tell" in finding.summary
    assert "no answer" in finding.summary


def test_os_sync_state_without_a_source():
    assert clock.assess_clock(NOW, False, None, []).status == Status.WARN
    assert clock.assess_clock(NOW, True, None, []).status == Status.OK
    finding = clock.assess_clock(NOW, False, reading(1.0), [])
    assert finding.status == Status.WARN and "time sync is off" in finding.summary


def test_no_probe_clock_sends_nothing_and_says_why(monkeypatch):
    monkeypatch.setattr(clock, "_ntp_synced", lambda: None)
    monkeypatch.setattr(clock, "_ask_sources", lambda ctx: pytest.fail("must not probe"))
    (finding,) = clock.clock(CheckContext(probe=False))
    assert finding.status == Status.SKIP and "--no-probe" in finding.summary


@pytest.mark.parametrize(("key", "value"), [("clock_timeout_s", "soon"), ("clock_timeout_s", 0),
                                            ("ntp_servers", "pool.ntp.org"),
                                            ("portal_url", "https://x/")])
def test_bad_settings_are_named_not_ignored(key, value):
    from fieldkit.errors import ConfigError

    ctx = CheckContext(settings={key: value})
    with pytest.raises(ConfigError, match=key):
        clock._ask_sources(ctx)


def test_ntp_servers_from_the_system_configuration(tmp_path):
    (tmp_path / "chrony.conf").write_text("pool 2.debian.pool.ntp.org iburst\n# server x\n")
    (tmp_path / "timesyncd.conf").write_text("[Time]\nNTP=ntp1.example ntp2.example\n")
    assert timesource.system_ntp_servers([tmp_path / "chrony.conf",
                                           tmp_path / "timesyncd.conf"]) == [
        "2.debian.pool.ntp.org", "ntp1.example", "ntp2.example"]
