from collections import namedtuple

import pytest

from fieldkit.diagnostics import system
from fieldkit.diagnostics.model import Status
from fieldkit.diagnostics.registry import CheckContext

CTX = CheckContext()


def test_real_machine_checks_produce_honest_findings():
    for func in (system.os_info, system.uptime, system.cpu_load, system.memory, system.swap,
                 system.clock, system.battery):
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
    monkeypatch.setattr(system.psutil, "sensors_battery", lambda: battery)
    assert system.battery(CTX)[0].status == status


@pytest.mark.parametrize(("available", "status"), [(50, Status.OK), (8, Status.WARN),
                                                    (2, Status.FAIL)])
def test_memory_thresholds(monkeypatch, available, status):
    monkeypatch.setattr(system.psutil, "virtual_memory", lambda: Memory(100, available))
    assert system.memory(CTX)[0].status == status


def test_clock_in_the_past_fails(monkeypatch):
    import datetime as real

    class Past(real.datetime):
        @classmethod
        def now(cls, tz=None):
            return real.datetime(2019, 5, 1, tzinfo=tz)

    monkeypatch.setattr(system, "datetime", Past)
    finding = system.clock(CTX)[0]
    assert finding.status == Status.FAIL and "date and time" in finding.hint


def test_clock_not_synchronised_warns(monkeypatch):
    monkeypatch.setattr(system, "_ntp_synced", lambda: False)
    assert system.clock(CTX)[0].status == Status.WARN
