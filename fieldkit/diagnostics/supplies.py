"""Toner, ink and waste levels from both places printers report them, and their verdict.

Printers report supplies as CUPS-style parallel lists (``marker-names``, ``marker-levels``, ...)
and/or as PWG ``printer-supply`` strings (``type=toner;maxcapacity=100;level=25;...``). Real
devices send lists of different lengths and levels that mean "unknown" (-1, -2) or "some left"
(-3): nothing here indexes blindly, and an unknown level is reported as unknown, never as a
number. Consumables warn under 15 % and fail at empty; waste containers (which fill up) warn
from 90 % and fail when full.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.printstate import parse_fields, texts, worst

LOW_PCT = 15
WASTE_WARN_PCT = 90
SOME_LEFT = -3


@dataclass
class Supply:
    name: str
    kind: str  # toner, ink, waste-toner, opc, staples ... as the printer says
    color: str
    level: int | None  # percent; None = the printer does not know
    waste: bool  # a container that fills up instead of running empty
    source: str  # "marker" or "printer-supply"
    some_left: bool = False  # level unknown but not empty (-3)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_markers(attrs: dict[str, list[Any]]) -> list[Supply]:
    names = texts(attrs, "marker-names")
    levels = attrs.get("marker-levels", [])
    kinds, colors = texts(attrs, "marker-types"), texts(attrs, "marker-colors")
    found = []
    for i, name in enumerate(names):
        raw = levels[i] if i < len(levels) and isinstance(levels[i], int) else None
        kind = kinds[i] if i < len(kinds) else ""
        found.append(Supply(name, kind, colors[i] if i < len(colors) else "",
                            raw if raw is not None and raw >= 0 else None,
                            kind.startswith("waste"), "marker", raw == SOME_LEFT))
    return found


def from_printer_supply(attrs: dict[str, list[Any]]) -> list[Supply]:
    descriptions = texts(attrs, "printer-supply-description")
    found = []
    for i, value in enumerate(texts(attrs, "printer-supply")):
        fields = parse_fields(value)
        level, capacity = _int(fields.get("level")), _int(fields.get("maxcapacity"))
        percent = None
        if level is not None and level >= 0:
            if capacity and capacity > 0:
                percent = min(100, round(level * 100 / capacity))
            elif fields.get("unit") == "percent":
                percent = min(100, level)
        kind = fields.get("type", "")
        name = descriptions[i] if i < len(descriptions) else (
            f"{fields.get('colorantname', '')} {kind}".strip() or f"supply {i + 1}")
        found.append(Supply(name, kind, fields.get("colorantname", ""), percent,
                            fields.get("class") == "receptacleThatIsFilled" or
                            kind.lower().startswith("waste"), "printer-supply",
                            level == SOME_LEFT))
    return found


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def merged(attrs: dict[str, list[Any]]) -> list[Supply]:
    """printer-supply first (it says which class a supply is), then markers it did not name."""
    supplies = from_printer_supply(attrs)
    known = {s.name.casefold() for s in supplies}
    return supplies + [s for s in from_markers(attrs) if s.name.casefold() not in known]


def judge(supply: Supply) -> tuple[Status, str]:
    level = supply.level
    if level is None:
        return Status.OK, f"{supply.name} {'has some left' if supply.some_left else 'unknown'}"
    if supply.waste:
        if level >= 100:
            return Status.FAIL, f"{supply.name} full"
        if level >= WASTE_WARN_PCT:
            return Status.WARN, f"{supply.name} {level}% full"
        return Status.OK, f"{supply.name} {level}% full"
    if level <= 0:
        return Status.FAIL, f"{supply.name} empty"
    if level < LOW_PCT:
        return Status.WARN, f"{supply.name} {level}%"
    return Status.OK, f"{supply.name} {level}%"


def tip(supply: Supply, status: Status) -> str:
    what = "waste container" if supply.waste else (supply.kind or "supply").replace("-", " ")
    if status == Status.FAIL:
        verb = "Empty or replace" if supply.waste else "Replace"
        return (f"{verb} the {supply.name} ({what}) now: the printer will not print until then. "
                "Without a spare, order one and tell the user.")
    return (f"{supply.name} ({what}) is nearly {'full' if supply.waste else 'used up'}: make "
            "sure a spare is on site (order one) before the printer stops.")


def assess_supplies(subject: str, attrs: dict[str, list[Any]],
                    extra: dict[str, Any] | None = None) -> Finding:
    """The ``printer.supply`` finding; ``skip`` when the printer reports no levels at all."""
    supplies = merged(attrs)
    data: dict[str, Any] = {"markers": [s.to_dict() for s in supplies], **(extra or {})}
    if not supplies:
        return Finding("printer.supply", subject, Status.SKIP,
                       "the printer reports no supply levels", data=data)
    verdicts = [(s, *judge(s)) for s in supplies]
    status = worst([v[1] for v in verdicts])
    bad = [v for v in verdicts if v[1] != Status.OK]
    shown = bad or verdicts
    summary = ", ".join(words for _s, _st, words in shown[:6])
    if len(shown) > 6:
        summary += f" (+{len(shown) - 6} more)"
    hint = " ".join(tip(s, st) for s, st, _w in bad)
    return Finding("printer.supply", subject, status, summary, hint, data)
