"""What a printer's state means for the person at it: pure verdicts, no network.

``printer-state-reasons`` keywords (RFC 8011, PWG 5100.9, CUPS' own) carry a ``-report``,
``-warning`` or ``-error`` suffix, or none. The *meaning* comes from the keyword without its
suffix: a condition that stops printing (no paper, a jam, an open cover, no toner) is ``fail``
whatever the printer calls it, a low supply is ``warn``. Only a keyword we do not know is judged
by its suffix. Every tip is written for the technician standing at the printer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fieldkit.diagnostics.model import Finding, Status, worst

STATE_NAMES = {3: "idle", 4: "processing", 5: "stopped"}
SUFFIXES = ("-report", "-warning", "-error")

_CLOSE = ("Close every cover, door and flap of the printer (front, side, toner door, scanner "
          "lid) until it clicks; the printer then carries on by itself.")
_FAULT = ("Switch the printer off, wait a minute, switch it on again; if the message comes back, "
          "call the printer's service (escalate with this finding).")

# meaning -> (status, words for the summary, tip)
REASONS: dict[str, tuple[Status, str, str]] = {
    "media-empty": (Status.FAIL, "out of paper",
                    "Load paper into the tray named in the printer's message or on its display, "
                    "push the tray fully in, and press OK/Continue if the printer asks."),
    "media-needed": (Status.FAIL, "waiting for paper to be loaded",
                     "The printer waits for the paper size or type the job asked for: load it "
                     "into the tray it names (often the manual/bypass tray), or cancel the job "
                     "and print again on the paper that is loaded."),
    "media-low": (Status.WARN, "paper running low",
                  "Paper is running low: refill the tray named in the message soon."),
    "media-jam": (Status.FAIL, "paper jam",
                  "Clear the paper jam: open the covers the display points to, pull the stuck "
                  "sheet out slowly with both hands without tearing it, then close every cover."),
    "cover-open": (Status.FAIL, "a cover is open", _CLOSE),
    "door-open": (Status.FAIL, "a door is open", _CLOSE),
    "interlock-open": (Status.FAIL, "a cover or door is open", _CLOSE),
    "input-tray-missing": (Status.FAIL, "a paper tray is missing",
                           "Push the paper tray named in the message fully back into the "
                           "printer until it clicks."),
    "output-tray-missing": (Status.FAIL, "the output tray is missing",
                            "Put the output tray back on the printer."),
    "output-area-full": (Status.FAIL, "output tray full",
                         "Take the printed pages out of the output tray."),
    "output-area-almost-full": (Status.WARN, "output tray almost full",
                                "Take the printed pages out of the output tray."),
    "toner-empty": (Status.FAIL, "toner empty",
                    "Replace the empty toner cartridge (the supply finding names the colour); "
                    "without a spare, order one and tell the user when it comes."),
    "toner-low": (Status.WARN, "toner low",
                  "Toner is low: printing goes on for now, but make sure a spare cartridge is "
                  "on site (order one)."),
    "marker-supply-empty": (Status.FAIL, "ink or toner empty",
                            "Replace the empty ink/toner cartridge (the supply finding names "
                            "it); without a spare, order one."),
    "marker-supply-low": (Status.WARN, "ink or toner low",
                          "Ink/toner is low: make sure a spare is on site (order one)."),
    "marker-waste-full": (Status.FAIL, "waste container full",
                          "Replace the waste toner/ink container (behind a front or side cover; "
                          "the display names it)."),
    "marker-waste-almost-full": (Status.WARN, "waste container almost full",
                                 "Order a new waste toner/ink container: when it is full the "
                                 "printer stops."),
    "developer-empty": (Status.FAIL, "developer empty", "Replace the developer unit (escalate "
                        "if you have no spare)."),
    "developer-low": (Status.WARN, "developer low", "Order a developer unit."),
    "opc-life-over": (Status.FAIL, "drum worn out", "Replace the drum (imaging) unit."),
    "opc-near-eol": (Status.WARN, "drum near end of life", "Order a drum (imaging) unit."),
    "fuser-over-temp": (Status.FAIL, "fuser too hot", _FAULT),
    "fuser-under-temp": (Status.FAIL, "fuser too cold", _FAULT),
    "interpreter-resource-unavailable": (Status.FAIL, "cannot render the job",
                                         "The printer lacks a font or resource the job needs: "
                                         "print the document again as PDF or with another "
                                         "driver; escalate if it happens again."),
    "offline": (Status.FAIL, "offline",
                "The printer is offline: wake it or press its Online/Ready button, and check "
                "that it is switched on and connected (cable/Wi-Fi)."),
    "paused": (Status.FAIL, "paused",
               "The printer is paused: resume it on its control panel (for a computer's queue: "
               "'cupsenable QUEUE' or Resume in the printer settings)."),
    "moving-to-paused": (Status.WARN, "pausing", "The printer is being paused: resume it on its "
                         "control panel if nobody meant to pause it."),
    "shutdown": (Status.FAIL, "shutting down", "The printer is switching off: switch it on."),
    "deactivated": (Status.FAIL, "deactivated", "The printer is deactivated: activate it in "
                    "its settings or escalate to whoever manages it."),
    "spool-area-full": (Status.FAIL, "job storage full",
                        "The printer's job storage is full: delete old or held jobs on its panel "
                        "or web page (or cancel stuck jobs), then print again."),
    "stopped-partly": (Status.WARN, "partly stopped", "Part of the printer is stopped (a "
                       "tray or finisher): look at its display and fix what it names."),
    "connecting-to-device": (Status.WARN, "the computer cannot reach the printer yet",
                             "The computer keeps trying to reach the printer: check that the "
                             "printer is on and on the network (see the device finding)."),
    "cups-missing-filter": (Status.FAIL, "driver incomplete (a filter is missing)",
                            "This queue's driver is incomplete: reinstall the printer driver or "
                            "remove and re-add the printer; escalate if you may not."),
    "cups-insecure-filter": (Status.FAIL, "driver filter refused as insecure",
                             "The driver's files have unsafe permissions, so the computer will "
                             "not use them: reinstall the driver (escalate)."),
}
UNKNOWN_ERROR_HINT = ("The printer reports a fault ({reason}): read the message on its display "
                      "and fix what it says. " + _FAULT)
UNKNOWN_WARNING_HINT = ("The printer reports '{reason}': check its display; it may need "
                        "attention soon.")
STOPPED_HINT = ("The printer has stopped: read the message on its display and fix what it says "
                "(paper, jam, cover). If it shows nothing, switch it off and on once; escalate "
                "if it stays stopped.")
REJECTING_HINT = ("The printer refuses new jobs: check its panel for a message; on a computer's "
                  "queue, accept jobs again with 'cupsaccept QUEUE' or in the printer settings.")


@dataclass(frozen=True)
class Condition:
    reason: str  # as reported, e.g. "media-jam-error"
    meaning: str  # suffix stripped: "media-jam"
    status: Status
    words: str
    hint: str

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "meaning": self.meaning, "status": str(self.status)}


def split_reason(reason: str) -> tuple[str, str]:
    """``media-empty-error`` -> (``media-empty``, ``error``); no suffix -> (reason, '')."""
    for suffix in SUFFIXES:
        if reason.endswith(suffix):
            return reason[: -len(suffix)], suffix[1:]
    return reason, ""


def assess_reason(reason: str) -> Condition | None:
    """The verdict for one keyword; ``none`` (nothing to report) gives None."""
    meaning, suffix = split_reason(reason)
    if meaning == "none":
        return None
    if meaning in REASONS:
        status, words, hint = REASONS[meaning]
        return Condition(reason, meaning, status, words, hint)
    if meaning.startswith("cups-ipp-"):  # CUPS' notes on a driverless printer's IPP support
        return Condition(reason, meaning, Status.OK, meaning.replace("-", " "), "")
    status = {"error": Status.FAIL, "report": Status.OK}.get(suffix, Status.WARN)
    hint = {Status.FAIL: UNKNOWN_ERROR_HINT, Status.WARN: UNKNOWN_WARNING_HINT}.get(status, "")
    return Condition(reason, meaning, status, meaning.replace("-", " "),
                     hint.format(reason=reason))


def assess_reasons(reasons: list[str]) -> list[Condition]:
    return [c for c in (assess_reason(r) for r in reasons) if c is not None]


def state_name(value: Any) -> str:
    return STATE_NAMES.get(value, f"unknown ({value})") if value is not None else "unknown"


def text(attrs: dict[str, list[Any]], name: str) -> str:
    """The first value of an attribute as text ('' when absent or out-of-band)."""
    values = [v for v in attrs.get(name, []) if v is not None]
    if not values:
        return ""
    value = values[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def texts(attrs: dict[str, list[Any]], name: str) -> list[str]:
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
            for v in attrs.get(name, []) if v is not None]


def parse_fields(value: str) -> dict[str, str]:
    """``type=toner;level=25;`` (printer-supply, printer-input-tray) -> a dict."""
    pairs = (item.partition("=") for item in value.split(";") if "=" in item)
    return {key.strip(): val.strip() for key, _, val in pairs}


def input_trays(attrs: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Paper trays from ``printer-input-tray``: name, sheets and capacity (-2 = unknown)."""
    trays = []
    for value in texts(attrs, "printer-input-tray"):
        fields = parse_fields(value)
        try:
            level, capacity = int(fields.get("level", "-2")), int(fields.get("maxcapacity", "-2"))
        except ValueError:
            continue
        trays.append({"name": fields.get("name", "?"), "level": level, "capacity": capacity})
    return trays


@dataclass
class Reading:
    """What a printer or a CUPS queue says of itself in the common IPP attributes."""

    state: str
    reasons: list[str]
    conditions: list[Condition]
    accepting: bool | None
    message: str

    @classmethod
    def of(cls, attrs: dict[str, list[Any]]) -> Reading:
        accepting = attrs.get("printer-is-accepting-jobs", [])
        reasons = texts(attrs, "printer-state-reasons")
        return cls(state_name(next(iter(attrs.get("printer-state", [])), None)), reasons,
                   assess_reasons(reasons), bool(accepting[0]) if accepting else None,
                   text(attrs, "printer-state-message"))

    def judge(self, tips_for: dict[str, str] | None = None
              ) -> tuple[Status, list[str], list[str]]:
        return judge_state(self.state, self.accepting, self.conditions, self.message, tips_for)

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "reasons": self.reasons,
                "conditions": [c.to_dict() for c in self.conditions], "message": self.message,
                "accepting": self.accepting}


def judge_state(state: str, accepting: bool | None, conditions: list[Condition],
                message: str, tips_for: dict[str, str] | None = None,
                ) -> tuple[Status, list[str], list[str]]:
    """(status, words, tips) for a printer or queue from its state, reasons and accepting flag.

    Worst conditions come first. ``stopped`` is ``fail`` even when no reason says why; a queue
    stopped by its ``paused`` reason needs no second tip for the state. ``tips_for`` replaces
    the tip for a meaning (a local queue is resumed differently from a printer).
    """
    tips_for = tips_for or {}
    order = {Status.FAIL: 0, Status.WARN: 1}
    conditions = sorted(conditions, key=lambda c: order.get(c.status, 2))
    statuses, words, tips = [c.status for c in conditions], [], []
    for cond in conditions:
        if cond.status != Status.OK:
            words.append(cond.words)
        tip = tips_for.get(cond.meaning, cond.hint)
        if cond.status in (Status.FAIL, Status.WARN) and tip not in tips:
            tips.append(tip)
    if state == "stopped":
        statuses.append(Status.FAIL)
        if not any(c.status == Status.FAIL for c in conditions):
            tips.insert(0, tips_for.get("stopped", STOPPED_HINT))
    if accepting is False:
        statuses.append(Status.FAIL)
        words.append("not accepting jobs")
        tips.append(tips_for.get("rejecting", REJECTING_HINT))
    if message and message.lower().rstrip(".") not in ("", "idle", "ready", "none"):
        words.append(f"'{message}'")
    return worst(statuses, Status.OK), words, tips


def assess_printer(subject: str, attrs: dict[str, list[Any]],
                   extra: dict[str, Any] | None = None) -> Finding:
    """The ``printer.ipp`` finding from a Get-Printer-Attributes answer."""
    reading = Reading.of(attrs)
    status, words, tips = reading.judge()
    trays = input_trays(attrs)
    empty = [t["name"] for t in trays if t["level"] == 0]
    if empty:
        words.append(f"empty tray{'s' if len(empty) > 1 else ''}: {', '.join(empty)}")
        if any(c.meaning in ("media-empty", "media-needed") for c in reading.conditions):
            tips.append(f"Empty: {', '.join(empty)}.")
    alerts = texts(attrs, "printer-alert-description")
    state = reading.state
    data: dict[str, Any] = {
        **reading.to_dict(),
        "make_model": text(attrs, "printer-make-and-model"),
        "firmware": texts(attrs, "printer-firmware-string-version"),
        "location": text(attrs, "printer-location"), "info": text(attrs, "printer-info"),
        "uuid": text(attrs, "printer-uuid"),
        "queued_jobs": next(iter(attrs.get("queued-job-count", [])), None),
        "alerts": alerts, "alert_codes": texts(attrs, "printer-alert"), "trays": trays,
        **(extra or {}),
    }
    model = f" - {data['make_model']}" if data["make_model"] else ""
    summary = f"{state}{': ' + ', '.join(words) if words else ''}{model}"
    if alerts:
        summary += f" (alerts: {'; '.join(alerts[:3])})"
    return Finding("printer.ipp", subject, status, summary, " ".join(tips), data)
