"""One rounding rule for the report and the time sheet: a started step counts, per visit."""

import pytest

from fieldkit.report.rounding import Rounding, hours, visits


@pytest.mark.parametrize(("minutes", "step", "minimum", "billed"), [
    (0, 15, 30, 0), (1, 15, 0, 15), (15, 15, 0, 15), (16, 15, 0, 30), (62, 15, 0, 75),
    (7, 15, 30, 30), (62, 1, 0, 62), (50, 30, 60, 60), (61, 30, 60, 90)])
def test_a_visit_is_rounded_up_and_billed_at_least_the_minimum(minutes, step, minimum, billed):
    assert Rounding(step, minimum).visit(minutes) == billed


def test_visits_are_days_in_the_local_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        log = [{"at": "2026-12-01T22:30:00Z", "minutes": 10},  # 23:30 in Berlin
               {"at": "2026-12-01T23:30:00Z", "minutes": 20},  # 00:30 the next day
               {"at": "2026-12-02T08:00:00Z", "minutes": 5}]
        days = {d.isoformat(): m for d, m in visits(log).items()}
        assert days == {"2026-12-01": 10, "2026-12-02": 25}
        assert Rounding(15, 0).total(days.values()) == 15 + 30
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_hours_read_as_a_time_sheet():
    assert hours(75) == "1:15" and hours(5) == "0:05" and hours(600) == "10:00"
