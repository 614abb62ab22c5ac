"""Real printers' answers published by other projects, each with the verdict it calls for.

Sources and licences: captures/SOURCES.md. Each row says what the printer's own attributes
call for and why; the supplies are never nameless or duplicated (issue 17: an HP OfficeJet Pro
6830 made 8 supplies for 4 cartridges, an HP LaserJet M175nw that only said toner-low failed
as "empty").
"""

from pathlib import Path

import pytest

from fieldkit.diagnostics.printers.state import assess_printer
from fieldkit.diagnostics.printers.supplies import assess_supplies
from fieldkit.diagnostics.wire import ipp

CAPTURES = Path(__file__).parent / "captures"

# (capture, printer index, printer.ipp, printer.supply, supplies, why)
CASES = [
    ("pyipp-brother-mfc-j5320dw", 0, "warn", "warn", 4,
     "marker-supply-low-warning; M, C, BK at 9-11 % under their low mark 18"),
    ("pyipp-epson-xp-6000", 0, "warn", "warn", 5,
     "marker-supply-low-warning; yellow at 6 % under its low mark 15"),
    ("pyipp-hp-officejet-pro-6830", 0, "warn", "warn", 4,
     "marker-supply-low-warning; every ink at its low mark 20; 4 cartridges in both lists"),
    ("pyipp-kyocera-ecosys-m2540dn", 0, "ok", "skip", 0,
     "idle, no reasons, no supply attributes in the answer"),
    ("kotlin-cups-hp-laserjet-100-m175", 0, "warn", "warn", 5,
     "toner-low-warning; all at 5 % under the low mark 20; cups-ipp-* are CUPS' notes"),
    ("kotlin-simulated-laser-printer", 0, "ok", "ok", 1, "idle, none, black 80 %"),
    ("kotlin-xerox-b210", 0, "ok", "ok", 1, "idle, none, toner 62 % over its low mark 5"),
    ("kotlin-xerox-b210-media-jam", 0, "fail", "ok", 1,
     "stopped with media-jam-error; toner 76 % is fine"),
    ("kotlin-xerox-b210-toner-empty", 0, "fail", "fail", 1,
     "stopped with toner-empty-error and toner at 0: empty indeed"),
    ("kotlin-brother-ql-1110nwb", 0, "ok", "skip", 0, "label printer, idle, no supplies"),
    ("kotlin-cups-get-default", 0, "fail", "warn", 5,
     "queue paused (stopped); toner-low-warning, levels 5 under 20"),
    ("kotlin-cups-get-printers", 0, "fail", "warn", 5, "same queue: paused, toner low"),
    ("kotlin-cups-get-printers", 1, "ok", "skip", 0, "idle, none, no markers"),
    ("kotlin-cups-get-printers", 2, "fail", "warn", 5,
     "offline-report; cyan, magenta, yellow at 5 under the low mark 20"),
    ("kotlin-cups-get-printers", 3, "ok", "skip", 0, "idle, none"),
    ("kotlin-cups-get-printers", 4, "ok", "skip", 0,
     "only cups-ipp-* conformance notes: nothing wrong at the printer"),
    ("kotlin-cups-get-printers", 5, "fail", "skip", 0, "offline-report"),
    ("kotlin-cups-get-printers", 6, "ok", "skip", 0, "idle, none"),
    ("kotlin-cups-get-printers", 7, "fail", "skip", 0, "media-empty: out of paper"),
    ("kotlin-cups-get-printers", 8, "ok", "skip", 0, "idle, none"),
    ("kotlin-cups-get-printers", 9, "warn", "warn", 5,
     "the M175nw: idle, accepting, only toner-low-warning, all 0 with low marks 1: low, "
     "not empty"),
    ("kotlin-cups-get-printers", 10, "ok", "ok", 1, "idle, none, black 32 %, no low mark"),
    ("kotlin-cups-get-printers", 11, "ok", "ok", 1, "idle, none, toner 90 %"),
    ("ippeveprinter-get-printer-attributes", 0, "ok", "ok", 2,
     "idle, none; waste 25 % full, toner 75 %"),
    ("cupsd-cups-get-printers", 0, "fail", "skip", 0, "queue paused"),
]


def printer(name: str, index: int) -> dict:
    message = ipp.decode((CAPTURES / f"{name}.ipp").read_bytes())
    assert message.ok
    return message.all(ipp.PRINTER)[index]


@pytest.mark.parametrize(("name", "index", "state", "supply", "count", "why"), CASES,
                         ids=[f"{c[0]}[{c[1]}]" for c in CASES])
def test_capture_verdict(name, index, state, supply, count, why):
    attrs = printer(name, index)
    assert assess_printer("ipp://p", attrs).status == state, why
    finding = assess_supplies("ipp://p", attrs)
    assert finding.status == supply, why
    names = [m["name"] for m in finding.data["markers"]]
    assert len(names) == count, names
    assert all(n.strip() for n in names) and len({n.casefold() for n in names}) == len(names)


def test_officejet_6830_merges_both_lists():
    finding = assess_supplies("ipp://p", printer("pyipp-hp-officejet-pro-6830", 0))
    assert [(m["name"], m["level"], m["low"]) for m in finding.data["markers"]] == [
        ("magenta ink", 20, 20), ("cyan ink", 20, 20), ("yellow ink", 20, 20),
        ("black ink", 20, 20)]
    assert "Black" not in finding.hint or "spare" in finding.hint


def test_m175nw_at_zero_is_low_not_empty():
    finding = assess_supplies("ipp://p", printer("kotlin-cups-get-printers", 9))
    assert "will not print" not in finding.hint
    assert "low" in finding.summary and "empty" not in finding.summary


def test_printer_that_says_low_warns_even_with_good_levels():
    attrs = {"printer-state": [3], "printer-is-accepting-jobs": [True],
             "printer-state-reasons": ["toner-low-warning"],
             "marker-names": ["Black"], "marker-levels": [60], "marker-types": ["toner"]}
    finding = assess_supplies("ipp://p", attrs)
    assert finding.status == "warn" and "toner-low-warning" in finding.summary


def test_zero_with_an_empty_reason_or_a_stopped_printer_is_empty():
    base = {"marker-names": ["Black"], "marker-levels": [0], "marker-types": ["toner"],
            "printer-is-accepting-jobs": [True]}
    for extra in ({"printer-state": [3], "printer-state-reasons": ["toner-empty-warning"]},
                  {"printer-state": [5], "printer-state-reasons": ["none"]},
                  {"printer-state": [3], "printer-state-reasons": ["marker-supply-low-error"]}):
        assert assess_supplies("p", {**base, **extra}).status == "fail", extra


def test_0503_capture_is_an_ipp_error_answer():
    message = ipp.decode((CAPTURES / "pyipp-error-0x0503.ipp").read_bytes())
    assert not message.ok and message.code == 0x0503
