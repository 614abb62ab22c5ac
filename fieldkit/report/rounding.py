"""How worked minutes become billed minutes: one rule for the report and ``report time``.

A visit is the work logged on one ticket on one local day. Its minutes are rounded *up* to the
next multiple of ``[report] rounding_minutes`` (billing practice: a started quarter hour
counts), and a visit with any work is billed at least ``[report] minimum_minutes``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fieldkit.tickets.vocabulary import parse_utc


@dataclass(frozen=True)
class Rounding:
    step: int = 15  # minutes; 1 means exact
    minimum: int = 0  # per visit

    def visit(self, minutes: int) -> int:
        """The billed minutes of one visit (0 stays 0: no work, no visit)."""
        if minutes <= 0:
            return 0
        step = max(self.step, 1)
        return max(-(-minutes // step) * step, self.minimum)

    def total(self, visits: Iterable[int]) -> int:
        return sum(self.visit(m) for m in visits)


def local_day(utc: str) -> date:
    """The technician's calendar day of a stored UTC time (``2026-12-01T23:30:00Z``)."""
    return parse_utc(utc).astimezone().date()


def visits(worklog: Iterable[dict]) -> dict[date, int]:
    """Worked minutes per local day, oldest day first."""
    days: dict[date, int] = {}
    for entry in sorted(worklog, key=lambda e: e.get("at", "")):
        if entry.get("at"):
            day = local_day(entry["at"])
            days[day] = days.get(day, 0) + int(entry.get("minutes") or 0)
    return days


def hours(minutes: int) -> str:
    """``95`` -> ``1:35`` (h:mm, how a time sheet reads)."""
    return f"{minutes // 60}:{minutes % 60:02d}"
