"""Checklists and their runs for humans: ``checklist show``, the end of a run, ``ticket show``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from fieldkit.cli import render
from fieldkit.cli.ticketview import local_time

if TYPE_CHECKING:
    from fieldkit.checklists.model import Checklist, ChecklistRun
    from fieldkit.tickets.model import Ticket

RESULT_STYLE = {"ok": "ok", "fail": "fail", "error": "error", "warn": "warn", "skip": "skip",
                "pending": "bold", "info": "dim"}


def format_checklist(checklist: Checklist) -> str:
    where = "built in" if checklist.builtin else checklist.source
    lines = [render.paint(f"{checklist.title}", "bold"),
             f"  {checklist.id} v{checklist.version}, category {checklist.category} ({where})"]
    if checklist.description:
        lines += ["", _fill(checklist.description, 2)]
    lines.append("")
    total = len(checklist.steps)
    for n, step in enumerate(checklist.steps, 1):
        what = {"check": f"check {step.check}", "input": f"input {step.type}"}.get(step.kind,
                                                                                  step.kind)
        flags = " mandatory" if step.mandatory else ""
        asked = " (ask the user)" if step.ask == "user" and step.kind != "check" else ""
        lines.append(f"  {n:>2}/{total} {step.id}  [{what}{flags}]{asked}  {step.title}")
        if step.targets:
            lines.append(f"         targets: {', '.join(step.targets)}")
        if step.kind == "choice":
            lines.append("         options: " + ", ".join(o.value for o in step.options))
        if step.when:
            lines.append(f"         when: {step.when}")
        if step.tip:
            lines.append(render.paint(_fill(f"tip: {step.tip}", 9), "dim"))
    if checklist.outcomes:
        lines += ["", "  outcome rules (each value comes from the first matching rule that "
                      "sets it):"]
        for n, rule in enumerate(checklist.outcomes, 1):
            sets = ", ".join(f"{k} {v}" for k, v in rule.to_dict().items()
                             if k not in ("when", "advice"))
            lines.append(f"  {n:>2} when {rule.when or 'always'}: {sets or '-'}")
            if rule.advice:
                lines.append(render.paint(_fill(f"advice: {rule.advice}", 5), "dim"))
    return "\n".join(lines)


def format_finished(run: ChecklistRun, applied: Ticket | None) -> str:
    """The end of a run: every step, the suggestions, and the commands that act on them."""
    from fieldkit.checklists.report import step_lines, suggestion_text

    checklist = run.checklist
    on = f" on {run.ticket_ref}" if run.ticket_ref else " (no ticket: not recorded for sync)"
    lines = [render.paint(f"{checklist.title} ({checklist.id} v{checklist.version}){on}: "
                          f"{run.status.replace('_', ' ')}", "bold")]
    for n, (step, rec) in enumerate(zip(checklist.steps, run.records, strict=True), 1):
        lines += step_lines(n, len(checklist.steps), step, rec)
    lines.append(", ".join(f"{n} {r}" for r, n in sorted(run.counts().items())))
    sug = run.suggestions
    text = suggestion_text(sug)
    if text:
        lines += ["", render.paint(f"Suggested: {text}", "bold")]
    if sug.get("advice"):
        lines.append(_fill(f"Advice: {sug['advice']}", 0))
    if applied is not None:
        lines.append(f"Applied to the new ticket {applied.ref}: category {applied.category}, "
                     f"impact {applied.impact}, urgency {applied.urgency} "
                     f"(P{applied.priority} {applied.priority_label})")
    elif run.ticket_ref and any(sug.get(k) for k in ("category", "impact", "urgency")):
        args = [f"--{k} {sug[k]}" for k in ("category", "impact", "urgency") if sug.get(k)]
        lines.append(f"To apply: fieldkit ticket edit {run.ticket_ref} {' '.join(args)}")
    if run.ticket_ref and (sug.get("level") or 1) > 1:
        reason = _escalation_reason(run)
        lines.append(f"To escalate: fieldkit ticket escalate {run.ticket_ref} --level "
                     f"{sug['level']} --reason {shlex.quote(reason)}")
    return "\n".join(lines)


def _fill(text: str, indent: int) -> str:
    import shutil
    import textwrap

    width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    return textwrap.fill(text, width=max(40, width), initial_indent=" " * indent,
                         subsequent_indent=" " * indent)


def _escalation_reason(run: ChecklistRun) -> str:
    from fieldkit.checklists.runner import problems

    found = [p for step, rec in zip(run.checklist.steps, run.records, strict=True)
             for p in problems(step, rec)]
    detail = "; ".join(found[:3]) or "see the checklist run on the ticket"
    return f"checklist {run.checklist.id}: {detail}"


def ticket_lines(ticket: Ticket) -> list[str]:
    """The checklist runs a ticket holds, for ``ticket show``: every step's answer, result,
    who and when."""
    from fieldkit.checklists.report import suggestion_text

    lines: list[str] = []
    for run in ticket.checklist_runs:
        counts = ", ".join(f"{n} {r}" for r, n in sorted(run.get("counts", {}).items()))
        status = run["status"].replace("_", " ")
        lines += ["", f"  checklist {run['checklist']} v{run['version']} \"{run['title']}\": "
                      f"{status}, {run['technician']} on {run['host']}, started "
                      f"{local_time(run['started_at'])} ({counts})"]
        for step in run.get("steps", []):
            lines += _step_lines(step)
        if run.get("pending_mandatory") and run["status"] == "in_progress":
            lines.append(f"    mandatory steps not done: {', '.join(run['pending_mandatory'])} "
                         f"(fieldkit checklist resume {ticket.ref})")
        text = suggestion_text(run.get("suggestions") or {})
        if text:
            lines.append(f"    suggested: {text}")
        override = run.get("override")
        if override:
            lines.append(f"    OVERRIDE: resolved with --force by {override.get('by') or '?'} at "
                         f"{local_time(override.get('at') or '')}; mandatory steps not done: "
                         f"{', '.join(override.get('pending', []))}")
    return lines


def _step_lines(step: dict[str, Any]) -> list[str]:
    result = step["result"]
    mark = render.paint(f"{result:<7}", RESULT_STYLE.get(result, "bold"))
    title = step["title"] if len(step["title"]) <= 60 else step["title"][:59] + "…"
    head = f"    {step['n']:>2} {mark} {title}"
    if result == "pending":
        return [head + (" (mandatory)" if step.get("mandatory") else "")]
    if step.get("answer") and step["kind"] != "check":
        head += f" -> {step['answer']}"
    who = ", ".join(x for x in ("asked the user" if step.get("asked") == "user" else "",
                                step.get("by", ""), local_time(step.get("at", ""))) if x)
    lines = [head + (f"  [{who}]" if who else "")]
    if step.get("note") and result in ("skip", "error"):
        lines.append(render.paint(f"         {step['note']}", "dim"))
    if step["kind"] == "check":  # a question's problem is its answer, shown above
        lines += [f"         - {p}" for p in step.get("problems", [])]
    if step.get("tip"):
        lines.append(render.paint(_fill(f"tip: {step['tip']}", 9), "dim"))
    return lines
