"""``fieldkit report time``: worked and billed minutes per ticket, site and day.

Billed minutes come from :mod:`fieldkit.report.rounding`, the rule the service report uses, so
the time sheet and the signed report never disagree about a visit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from fieldkit.report.rounding import Rounding, visits


@dataclass(frozen=True)
class TimeRow:
    ref: str
    site: str
    day: str  # ISO date, local
    minutes: int
    billed: int
    title: str


def rows(tickets: Iterable[Any], rounding: Rounding, since: date | None = None,
         until: date | None = None, site: str | None = None) -> list[TimeRow]:
    """One row per ticket and local day with work, by day then ref; both dates inclusive."""
    found = []
    for ticket in tickets:
        if site is not None and ticket.site.casefold() != site.casefold():
            continue
        for day, minutes in visits(ticket.worklog).items():
            if (since and day < since) or (until and day > until) or minutes <= 0:
                continue
            found.append(TimeRow(ticket.ref, ticket.site, day.isoformat(), minutes,
                                 rounding.visit(minutes), ticket.title))
    return sorted(found, key=lambda r: (r.day, _number(r.ref)))


def document(found: list[TimeRow], rounding: Rounding) -> dict[str, Any]:
    """The ``--json`` form: the rows, the totals and the rule that rounded them."""
    return {"rows": [asdict(r) for r in found],
            "total": {"minutes": sum(r.minutes for r in found),
                      "billed": sum(r.billed for r in found)},
            "rounding": {"step_minutes": rounding.step, "minimum_minutes": rounding.minimum}}


CSV_FIELDS = ("ref", "site", "day", "minutes", "billed", "title")


def _number(ref: str) -> int:
    digits = "".join(ch for ch in ref if ch.isdigit())
    return int(digits) if digits else 0
