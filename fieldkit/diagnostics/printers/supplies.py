"""Toner, ink and waste levels from both places printers report them, and their verdict.

Printers report supplies as CUPS-style parallel lists (``marker-names``, ``marker-levels``, ...)
and/or as PWG ``printer-supply`` strings (``type=toner;maxcapacity=100;level=25;...``). Real
devices send lists of different lengths and levels that mean "unknown" (-1, -2) or "some left"
(-3): nothing here indexes blindly, and an unknown level is reported as unknown, never as a
number. Consumables warn under 15 % (or at the printer's own ``marker-low-levels``) and fail at
empty; waste containers (which fill up) warn from 90 % and fail when full.

The printer's own state and reasons are the authority, levels only refine them: a
``marker-supply-low`` or ``toner-low`` reason warns even when the levels look fine, and a level
of 0 on an idle (or printing), accepting printer that reports no ``-empty`` or ``-error``
reason is low, not empty (an HP LaserJet M175nw reports 0 for every cartridge that is merely
low). Many HP printers send both lists with empty ``printer-supply-description`` values: the
two lists are merged into one supply per cartridge, and no supply is ever nameless.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fieldkit.diagnostics.model import Finding, Status, worst
from fieldkit.diagnostics.printers.state import Reading, parse_fields, texts

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
    low: int | None = None  # the printer's own low mark (marker-low-levels), percent

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_markers(attrs: dict[str, list[Any]]) -> list[Supply]:
    names = texts(attrs, "marker-names")
    levels = attrs.get("marker-levels", [])
    lows = attrs.get("marker-low-levels", [])
    kinds, colors = texts(attrs, "marker-types"), texts(attrs, "marker-colors")
    found = []
    for i, name in enumerate(names):
        raw = levels[i] if i < len(levels) and isinstance(levels[i], int) else None
        low = lows[i] if i < len(lows) and isinstance(lows[i], int) and lows[i] > 0 else None
        kind = kinds[i] if i < len(kinds) else ""
        found.append(Supply(name.strip() or f"{kind or 'supply'} {i + 1}".strip(), kind,
                            colors[i] if i < len(colors) else "",
                            raw if raw is not None and raw >= 0 else None,
                            kind.startswith("waste"), "marker", raw == SOME_LEFT, low))
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
        described = descriptions[i].strip() if i < len(descriptions) else ""
        name = described or (f"{fields.get('colorantname', '')} {kind}".strip() or
                             f"supply {i + 1}")
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
    """printer-supply first (it says which class a supply is), then markers it did not name.

    Both lists describe the same cartridges: when printer-supply has no description for an
    entry and the marker at the same place names its colorant (``magenta`` and ``magenta
    ink``), that marker names it and gives its low mark; otherwise markers join by name.
    Names left equal get a number, never a duplicate.
    """
    supplies, markers = from_printer_supply(attrs), from_markers(attrs)
    described = texts(attrs, "printer-supply-description")
    for i, (supply, marker) in enumerate(zip(supplies, markers, strict=False)):
        colorant = supply.color.casefold()
        if not (i < len(described) and described[i].strip()) and colorant and \
                colorant in marker.name.casefold():
            supply.name = marker.name
    by_name = {m.name.casefold(): m for m in markers}
    for supply in supplies:
        match = by_name.pop(supply.name.casefold(), None)
        if match is not None:
            supply.low = match.low
            supply.level = supply.level if supply.level is not None else match.level
    found = supplies + list(by_name.values())
    seen: dict[str, int] = {}
    for supply in found:
        count = seen[supply.name.casefold()] = seen.get(supply.name.casefold(), 0) + 1
        if count > 1:
            supply.name = f"{supply.name} ({count})"
    return found


@dataclass(frozen=True)
class Context:
    """What the printer says of itself that decides how a level is read."""

    ready: bool  # idle or printing, and accepting jobs: it would print now
    says_empty: bool  # a reason with -empty in its meaning, or any -error reason
    low_reasons: list[str]  # the printer's own "supply low" reasons

    @classmethod
    def of(cls, attrs: dict[str, list[Any]]) -> Context:
        reading = Reading.of(attrs)
        ready = reading.state in ("idle", "processing") and reading.accepting is True
        says_empty = any(c.meaning.endswith(("-empty", "-full")) or c.reason.endswith("-error")
                         for c in reading.conditions)
        lows = [c.reason for c in reading.conditions if c.meaning in LOW_REASONS]
        return cls(ready, says_empty, lows)


LOW_REASONS = ("toner-low", "marker-supply-low", "ink-low", "marker-ink-almost-empty",
               "developer-low", "opc-near-eol", "marker-waste-almost-full")
UNKNOWN_CONTEXT = Context(False, False, [])


def judge(supply: Supply, context: Context = UNKNOWN_CONTEXT) -> tuple[Status, str]:
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
        if context.ready and not context.says_empty:
            return Status.WARN, f"{supply.name} 0% (low: the printer still prints)"
        return Status.FAIL, f"{supply.name} empty"
    if level < LOW_PCT or (supply.low is not None and level <= supply.low):
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
    context = Context.of(attrs)
    verdicts = [(s, *judge(s, context)) for s in supplies]
    status = worst([v[1] for v in verdicts], Status.OK)
    bad = [v for v in verdicts if v[1] != Status.OK]
    shown = bad or verdicts
    summary = ", ".join(words for _s, _st, words in shown[:6])
    if len(shown) > 6:
        summary += f" (+{len(shown) - 6} more)"
    hint = " ".join(tip(s, st) for s, st, _w in bad)
    if context.low_reasons:
        data["printer_reasons"] = context.low_reasons
        if not bad:
            status = worst([status, Status.WARN])
            summary = (f"the printer reports {', '.join(context.low_reasons)}; levels: "
                       f"{summary}")
            hint = ("The printer itself says a supply is low although the levels look fine "
                    "(its own display names which): make sure a spare is on site (order one).")
    return Finding("printer.supply", subject, status, summary, hint, data)
