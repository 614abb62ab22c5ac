"""What a service report says, built once from a ticket; every format renders this.

Why a model of its own: the ticket holds everything in the form sync and the store need (UTC
times, stable status values, run summaries); the customer needs it in plain words, in their
language, with the time rounded as it is billed. Building it once keeps the md, html and pdf
reports saying the same thing, and makes the content testable without parsing a PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fieldkit.i18n import N_, _, language
from fieldkit.report.rounding import Rounding, visits
from fieldkit.report.signoff import SignOff, latest
from fieldkit.tickets.vocabulary import parse_utc

PAPERS = ("a4", "letter")
# findings the customer reads first: what failed, then warnings, then checks that broke
ORDER = {"fail": 0, "warn": 1, "error": 2}
WORDS = {"fail": N_("failed"), "warn": N_("warning"), "error": N_("not checked"),
         "ok": N_("ok"), "skip": N_("skipped"), "pending": N_("open"), "info": N_("info"),
         "completed": N_("completed"), "in_progress": N_("in progress"),
         "abandoned": N_("ended unfinished"), "new": N_("new"), "resolved": N_("resolved"),
         "closed": N_("closed")}


def word(value: str) -> str:
    """A stable status value in the reader's words."""
    return _(WORDS[value]) if value in WORDS else value.replace("_", " ")


@dataclass(frozen=True)
class Settings:
    """``[report]`` (and what it falls back to) as the report needs it."""

    company: str = ""
    address: str = ""
    logo: str = ""
    rounding: Rounding = field(default_factory=Rounding)
    paper: str = "a4"
    technician: str = ""
    place: str = ""
    escalation_queues: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FindingLine:
    status: str
    check: str
    summary: str
    tip: str


@dataclass(frozen=True)
class WorkLine:
    at: str  # local, as the reader writes dates
    minutes: int
    text: str


@dataclass(frozen=True)
class StepLine:
    n: int
    title: str
    result: str
    answer: str


@dataclass(frozen=True)
class ChecklistLine:
    title: str
    status: str
    steps: tuple[StepLine, ...]


@dataclass(frozen=True)
class Report:
    settings: Settings
    ref: str
    remote_id: str
    title: str
    site: str
    requester: str
    contact: str
    asset: str
    problem: str
    status: str
    findings: tuple[FindingLine, ...]
    checks_ok: int
    work: tuple[WorkLine, ...]
    minutes_logged: int
    minutes_billed: int
    checklists: tuple[ChecklistLine, ...]
    solution: str
    still_open: tuple[str, ...]
    technician: str
    place: str
    date: str
    signoff: SignOff | None
    created: datetime  # the PDF's creation date: fixed, so the same ticket gives the same bytes


def build(ticket: Any, settings: Settings, created: datetime,
          load_run: Callable[[str], dict[str, Any]] | None = None,
          signoff: SignOff | None = None) -> Report:
    """The report of ``ticket``. ``load_run`` reads a diagnostic run's findings (their tips are
    not in the ticket's summary); ``signoff`` overrides the ticket's last one (the report being
    signed shows its own signature)."""
    findings, ok = _findings(ticket, load_run)
    logged = sum(int(e.get("minutes") or 0) for e in ticket.worklog)
    return Report(
        settings=settings, ref=ticket.ref, remote_id=ticket.remote.id or "",
        title=ticket.title, site=ticket.site, requester=ticket.requester,
        contact=ticket.contact, asset=ticket.asset, problem=ticket.description,
        status=ticket.status, findings=findings, checks_ok=ok,
        work=tuple(WorkLine(local(e["at"]), int(e.get("minutes") or 0), e["text"])
                   for e in ticket.worklog),
        minutes_logged=logged,
        minutes_billed=settings.rounding.total(visits(ticket.worklog).values()),
        checklists=tuple(_checklist(run) for run in ticket.checklist_runs),
        solution=ticket.solution, still_open=_still_open(ticket, settings),
        technician=settings.technician, place=settings.place or ticket.site,
        date=local(created.isoformat(), with_time=False),
        signoff=signoff if signoff is not None else latest(ticket), created=created)


def local(utc: str, with_time: bool = True) -> str:
    """A stored time as the reader writes it: ``02.12.2026 14:05`` in German,
    ``2026-12-02 14:05`` otherwise (local zone)."""
    try:
        moment = parse_utc(utc).astimezone()
    except ValueError:
        return utc
    day = "%d.%m.%Y" if language() == "de" else "%Y-%m-%d"
    return moment.strftime(f"{day} %H:%M" if with_time else day)


def _findings(ticket: Any, load_run: Callable[[str], dict[str, Any]] | None
              ) -> tuple[tuple[FindingLine, ...], int]:
    """The latest diagnostic run's problems, fail first, each with its tip."""
    if not ticket.diag_runs:
        return (), 0
    summary = ticket.diag_runs[-1]
    try:
        run = load_run(summary["id"]) if load_run else None
    except Exception:  # noqa: BLE001 - a run file gone: the summary's problem lines still tell
        run = None
    if run is None:
        lines = [FindingLine("fail", check, text, "") for check, _sep, text in
                 (p.partition(": ") for p in summary.get("problems", []))]
        return tuple(lines), int(summary.get("counts", {}).get("ok", 0))
    wanted = sorted((f for f in run.get("findings", []) if f["status"] in ORDER),
                    key=lambda f: ORDER[f["status"]])
    ok = sum(1 for f in run.get("findings", []) if f["status"] == "ok")
    return tuple(FindingLine(f["status"], f["check"], f["summary"], f.get("hint", ""))
                 for f in wanted), ok


def _checklist(run: dict[str, Any]) -> ChecklistLine:
    steps = tuple(StepLine(s["n"], s["title"], s["result"],
                           s.get("answer", "") if s.get("kind") != "check" else "")
                  for s in run.get("steps", []))
    return ChecklistLine(run.get("title", run.get("checklist", "")), run["status"], steps)


def _still_open(ticket: Any, settings: Settings) -> tuple[str, ...]:
    lines = []
    for esc in ticket.escalations:
        level = str(esc["to_level"])
        whom = settings.escalation_queues.get(level) or (
            _("2nd level support") if level == "2" else _("3rd level (vendor)"))
        lines.append(_("Escalated on {date} to {whom}: {reason}").format(
            date=local(esc["at"], with_time=False), whom=whom, reason=esc["reason"]))
    for run in ticket.checklist_runs:
        if run["status"] == "in_progress" and run.get("pending_mandatory"):
            lines.append(_("Checklist {title}: mandatory steps not done ({steps})").format(
                title=run.get("title", ""), steps=", ".join(run["pending_mandatory"])))
    if ticket.is_open() and not lines:
        lines.append(_("The ticket is still open ({status}).").format(status=word(ticket.status)))
    return tuple(lines)
