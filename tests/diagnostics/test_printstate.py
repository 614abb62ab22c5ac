"""Printer verdicts without a network: reasons, supplies, PJL codes, queues, targets, scheduler.

The real peers produce these states in test_printers.py; here are the edge cases they cannot
(every suffix, marker lists of unequal length, unknown levels, old jobs, odd CUPS_SERVER values).
"""

import pytest

from fieldkit.diagnostics.model import Status
from fieldkit.diagnostics.printers import cups, pjl
from fieldkit.diagnostics.printers.state import assess_printer, assess_reason, split_reason
from fieldkit.diagnostics.printers.supplies import assess_supplies, from_markers, merged
from fieldkit.diagnostics.printers.targets import device_target, parse_printer_target
from fieldkit.errors import InputError


@pytest.mark.parametrize(("reason", "status"), [
    ("media-empty", "fail"), ("media-empty-report", "fail"), ("media-empty-warning", "fail"),
    ("media-jam-error", "fail"), ("cover-open-warning", "fail"), ("door-open-report", "fail"),
    ("toner-empty-warning", "fail"), ("toner-low-report", "warn"), ("toner-low", "warn"),
    ("marker-supply-low-warning", "warn"), ("marker-waste-full-error", "fail"),
    ("input-tray-missing", "fail"), ("offline-report", "fail"), ("paused", "fail"),
    ("spool-area-full", "fail"), ("connecting-to-device", "warn"),
    ("cups-missing-filter-warning", "fail"), ("media-low-report", "warn"),
    ("fancy-new-thing-error", "fail"), ("fancy-new-thing-warning", "warn"),
    ("fancy-new-thing-report", "ok"), ("fancy-new-thing", "warn"),
])
def test_reason_meaning_decides_not_the_suffix(reason, status):
    condition = assess_reason(reason)
    assert condition is not None and condition.status == status
    assert condition.meaning == split_reason(reason)[0]
    if status in ("warn", "fail"):
        assert condition.hint


def test_none_is_no_condition():
    assert assess_reason("none") is None
    assert split_reason("media-jam-error") == ("media-jam", "error")
    assert split_reason("paused") == ("paused", "")


def test_paper_tip_names_the_empty_tray():
    attrs = {"printer-state": [3], "printer-state-reasons": ["media-empty-report"],
             "printer-input-tray": [b"type=sheetFeedAutoRemovableTray;maxcapacity=250;level=0;"
                                    b"name=main;", b"maxcapacity=-2;level=-2;name=auto"]}
    finding = assess_printer("ipp://p", attrs)
    assert finding.status == "fail"
    assert "out of paper" in finding.summary and "empty tray: main" in finding.summary
    assert finding.hint.startswith("Load paper") and "Empty: main." in finding.hint
    assert finding.data["trays"][0] == {"name": "main", "level": 0, "capacity": 250}


def test_stopped_without_a_reason_still_fails():
    finding = assess_printer("ipp://p", {"printer-state": [5], "printer-state-reasons": ["none"]})
    assert finding.status == "fail" and finding.hint.startswith("The printer has stopped")


def test_worst_condition_first_and_not_accepting():
    attrs = {"printer-state": [4], "printer-is-accepting-jobs": [False],
             "printer-state-reasons": ["toner-low", "media-jam-error"],
             "printer-state-message": "Jam in tray 2",
             "printer-alert-description": ["Jam in tray 2", "Toner low"]}
    attrs["printer-state-message"] = [attrs["printer-state-message"]]
    finding = assess_printer("ipp://p", attrs)
    assert finding.status == "fail"
    assert finding.summary.startswith("processing: paper jam, toner low, not accepting jobs")
    assert "'Jam in tray 2'" in finding.summary and "alerts:" in finding.summary
    assert finding.hint.startswith("Clear the paper jam")
    assert finding.data["accepting"] is False


def test_unequal_marker_lists_do_not_crash():
    """pyipp raises IndexError here; a real printer sent exactly this."""
    attrs = {"marker-names": ["Black", "Cyan", "Magenta"], "marker-levels": [3, -3],
             "marker-types": ["toner"], "marker-colors": []}
    supplies = from_markers(attrs)
    assert [(s.name, s.level, s.some_left) for s in supplies] == [
        ("Black", 3, False), ("Cyan", None, True), ("Magenta", None, False)]
    finding = assess_supplies("ipp://p", attrs)
    assert finding.status == "warn" and finding.summary == "Black 3%"
    assert finding.data["markers"][1]["some_left"] is True


@pytest.mark.parametrize(("level", "status"), [(100, "ok"), (15, "ok"), (14, "warn"),
                                               (1, "warn"), (0, "fail"), (-2, "ok")])
def test_consumable_thresholds(level, status):
    attrs = {"marker-names": ["Black"], "marker-levels": [level], "marker-types": ["toner"]}
    assert assess_supplies("s", attrs).status == status


@pytest.mark.parametrize(("level", "status"), [(25, "ok"), (89, "ok"), (90, "warn"),
                                               (100, "fail")])
def test_waste_fills_up(level, status):
    attrs = {"printer-supply": [f"type=wasteToner;class=receptacleThatIsFilled;maxcapacity=100;"
                                f"level={level};".encode()],
             "printer-supply-description": ["Waste"]}
    finding = assess_supplies("s", attrs)
    assert finding.status == status
    assert finding.data["markers"][0]["waste"] is True


def test_printer_supply_and_markers_merge_without_duplicates():
    attrs = {"printer-supply": [b"type=toner;maxcapacity=200;level=20;colorantname=black;",
                                b"type=toner;maxcapacity=-2;level=-3;colorantname=cyan;"],
             "printer-supply-description": ["Black Toner"],
             "marker-names": ["Black Toner", "Drum"], "marker-levels": [10, 60],
             "marker-types": ["toner", "opc"]}
    supplies = merged(attrs)
    assert [(s.name, s.level, s.source) for s in supplies] == [
        ("Black Toner", 10, "printer-supply"), ("cyan toner", None, "printer-supply"),
        ("Drum", 60, "marker")]
    finding = assess_supplies("s", attrs)
    assert finding.status == "warn" and "Black Toner" in finding.hint


def test_no_supplies_is_skip_not_ok():
    assert assess_supplies("s", {}).status == "skip"


def test_pjl_parse_and_verdicts():
    answer = pjl.parse(b'\x1b%-12345X@PJL INFO ID\r\n"ACME 9000"\r\n\x0c@PJL INFO STATUS\r\n'
                       b'CODE=40022\r\nDISPLAY="PAPER JAM"\r\nONLINE=FALSE\r\n\x0c')
    assert answer == {"id": "ACME 9000", "code": 40022, "display": "PAPER JAM", "online": False}
    status, words, tip = pjl.assess(answer)
    assert (status, words) == (Status.FAIL, "paper jam") and "PAPER JAM" not in words
    assert pjl.assess({"code": 10001, "online": True})[0] == Status.OK
    assert pjl.assess({"code": 10001, "online": False})[:2] == (Status.FAIL, "offline")
    assert pjl.assess({"code": 41203, "display": "LOAD TRAY 2"})[1] == "out of paper"
    assert "LOAD TRAY 2" in pjl.assess({"code": 41203, "display": "LOAD TRAY 2"})[2]
    assert pjl.assess({"code": 10006})[0] == Status.WARN
    assert pjl.assess({"code": 50001})[1] == "hardware fault"
    assert pjl.assess({"code": 99999})[0] == Status.WARN


@pytest.mark.parametrize(("text", "kind", "host", "port", "path"), [
    ("ipp://printer.local/ipp/print", "ipp", "printer.local", 631, "/ipp/print"),
    ("ipps://10.0.0.5:8443", "ipps", "10.0.0.5", 8443, ""),
    ("socket://10.0.0.5", "socket", "10.0.0.5", 9100, ""),
    ("socket://[2001:db8::5]:9101/", "socket", "2001:db8::5", 9101, "/"),
    ("lpd://10.0.0.5/raw", "lpd", "10.0.0.5", 515, "raw"),
    ("IPP://P1/ipp", "ipp", "p1", 631, "/ipp"),
    ("printer-3.acme.local", "auto", "printer-3.acme.local", 631, ""),
    ("[2001:db8::5]", "auto", "2001:db8::5", 631, ""),
    ("2001:db8::5", "auto", "2001:db8::5", 631, ""),
])
def test_targets(text, kind, host, port, path):
    target = parse_printer_target(text)
    assert (target.kind, target.host, target.port, target.path) == (kind, host, port, path)


@pytest.mark.parametrize("bad", ["", "http://p/", "ipp://", "ipp://p:99999/", "socket://p/x",
                                 "printer:9100", "bad host", "smb://server/printer"])
def test_bad_targets(bad):
    with pytest.raises(InputError):
        parse_printer_target(bad)


def test_uri_forms():
    assert parse_printer_target("[2001:db8::5]").uri("ipp", 631, "/ipp") == \
        "ipp://[2001:db8::5]:631/ipp"
    assert parse_printer_target("lpd://h/q").uri() == "lpd://h:515/q"


@pytest.mark.parametrize(("uri", "expect"), [
    ("ipp://10.0.0.5/ipp/print", ("ipp", 631, "/ipp/print")),
    ("https://10.0.0.5/ipp/print", ("ipps", 631, "/ipp/print")),
    ("socket://10.0.0.5:9100?contimeout=30", ("socket", 9100, "")),
    ("lpd://10.0.0.5/PASSTHRU?reserve=none", ("lpd", 515, "PASSTHRU")),
    ("usb://HP/LaserJet?serial=1", "USB printer"),
    ("dnssd://Acme._ipp._tcp.local/", "mDNS"),
    ("cups-pdf:/", "not a network printer"),
])
def test_device_uris(uri, expect):
    target = device_target(uri, "q1")
    if isinstance(expect, str):
        assert isinstance(target, str) and expect in target
    else:
        assert not isinstance(target, str)
        assert (target.kind, target.port, target.path) == expect
        assert (target.text, target.queue) == (uri, "q1")


@pytest.mark.parametrize(("value", "where", "host", "port", "unix"), [
    ("/run/cups/cups.sock", "/run/cups/cups.sock", "localhost", 631, "/run/cups/cups.sock"),
    ("print.acme.local", "print.acme.local:631", "print.acme.local", 631, None),
    ("print.acme.local:8631/version=1.1", "print.acme.local:8631", "print.acme.local", 8631,
     None),
    ("[::1]:631", "[::1]:631", "::1", 631, None),
])
def test_cups_server_values(value, where, host, port, unix):
    sched = cups.parse_server(value, "CUPS_SERVER")
    assert (sched.where, sched.host, sched.port, sched.unix_path) == (where, host, port, unix)
    assert sched.explicit


def test_scheduler_search_order(tmp_path):
    root, home = tmp_path / "etc", tmp_path / "home"
    root.mkdir()
    assert cups.candidates({"CUPS_SERVER": "a:1"}, home)[0].where == "a:1"
    assert cups.candidates({"CUPS_SERVERROOT": str(root)}, home)[-1].where == "localhost:631"
    (root / "client.conf").write_text("# company print server\nServerName print.acme:631\n")
    (found,) = cups.candidates({"CUPS_SERVERROOT": str(root)}, home)
    assert (found.where, found.source) == ("print.acme:631", str(root / "client.conf"))
    (home / ".cups").mkdir(parents=True)
    (home / ".cups" / "client.conf").write_text("servername /tmp/mine.sock\n")
    assert cups.candidates({"CUPS_SERVERROOT": str(root)}, home)[0].unix_path == "/tmp/mine.sock"
    with pytest.raises(ValueError):
        cups.parse_server("host:notaport", "CUPS_SERVER")


def queue(state=3, reasons=("none",), accepting=True, jobs=(), now=10_000):
    attrs = {"printer-name": ["q"], "printer-state": [state], "printer-state-reasons": list(
        reasons), "printer-is-accepting-jobs": [accepting], "printer-up-time": [now],
        "device-uri": ["ipp://p/ipp/print"]}
    return cups.Queue("q", attrs, [cups.Job(i, s, [], c) for i, (s, c) in enumerate(jobs)])


def test_queue_verdicts():
    assert cups.assess_queue(queue(), 10).status == "ok"
    paused = cups.assess_queue(queue(5, ["paused"]), 10)
    assert paused.status == "fail" and "cupsenable q" in paused.hint
    rejecting = cups.assess_queue(queue(accepting=False), 10)
    assert rejecting.status == "fail" and "cupsaccept q" in rejecting.hint
    old = cups.assess_queue(queue(jobs=[("pending", 10_000 - 1200), ("pending", 9_990)]), 10)
    assert old.status == "warn" and old.data["jobs"] == {
        "not_completed": 2, "held": 0, "stuck": 1, "oldest_age_min": 20.0, "ids": [0, 1]}
    assert "1 waiting over 10 min (oldest 20 min)" in old.summary
    held = cups.assess_queue(queue(jobs=[("pending-held", 9_999)]), 10)
    assert held.status == "warn" and "lp -i JOB-ID -H resume" in held.hint
    both = cups.assess_queue(queue(5, ["paused"], jobs=[("pending", 1)]), 10)
    assert both.status == "fail" and both.data["jobs"]["stuck"] == 1


def test_printer_settings():
    """Bad values are refused by the config schema (tests/test_config.py covers every key)."""
    from fieldkit.diagnostics.printers.printer import Options

    assert Options.from_settings({}) == Options(3.0, 10.0, True, 3.0)
    assert Options.from_settings({"printer_timeout_s": 5, "printer_pjl": False}, 1.5) == \
        Options(1.5, 10.0, False, 3.0)
