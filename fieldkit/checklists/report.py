"""What a run becomes outside its own file: the ticket's summary, and the note for 2nd level.

Both are made from the run's stored (JSON) form, so the CLI, ``ticket show`` and sync render the
same facts: every step's answer, result, evidence, who and when, and the suggestions.
"""

from __future__ import annotations

from typing import Any

from fieldkit.checklists.model import ERROR, FAIL, PENDING, SKIP, ChecklistRun, Step, StepRecord
from fieldkit.checklists.runner import format_answer, pending_mandatory, problems
from fieldkit.tickets.model import PRIORITY_LABELS

MAX_SUMMARY_ANSWER = 200
MAX_SUMMARY_FINDINGS = 20


def summary(run: ChecklistRun) -> dict[str, Any]:
    """What the ticket keeps: every step's answer, result, who and when, and what went wrong;
    the findings' evidence stays in the run's file."""
    steps = []
    for n, (step, rec) in enumerate(zip(run.checklist.steps, run.records, strict=True), 1):
        answer = format_answer(rec.answer)
        entry: dict[str, Any] = {
            "n": n, "id": step.id, "title": step.title, "kind": step.kind,
            "mandatory": step.mandatory, "result": rec.result,
            "answer": answer[:MAX_SUMMARY_ANSWER], "by": rec.by, "at": rec.at}
        if rec.asked:
            entry["asked"] = rec.asked
        if rec.note:
            entry["note"] = rec.note
        if rec.findings:  # the verdicts; their evidence (data) stays in the run's file
            entry["findings"] = [{k: f.get(k) for k in ("check", "subject", "status", "summary")}
                                 for f in rec.findings[:MAX_SUMMARY_FINDINGS]]
        found = problems(step, rec)
        if found:
            entry["problems"] = found[:10]
        if rec.result in (FAIL, ERROR) and step.tip:
            entry["tip"] = step.tip
        steps.append(entry)
    return {"id": run.id, "checklist": run.checklist.id, "title": run.checklist.title,
            "version": run.checklist.version, "status": run.status,
            "technician": run.technician, "host": run.host, "started_at": run.started_at,
            "finished_at": run.finished_at, "counts": run.counts(),
            "pending_mandatory": pending_mandatory(run), "steps": steps,
            "suggestions": run.suggestions}


def suggestion_text(suggestions: dict[str, Any]) -> str:
    parts = []
    if suggestions.get("category"):
        parts.append(f"category {suggestions['category']}")
    severity = [f"{k} {suggestions[k]}" for k in ("impact", "urgency") if suggestions.get(k)]
    if severity:
        priority = suggestions.get("priority")
        label = f" (P{priority} {PRIORITY_LABELS[priority]})" if priority else ""
        parts.append(", ".join(severity) + label)
    if suggestions.get("level"):
        level = suggestions["level"]
        parts.append("stay at level 1" if level == 1 else f"escalate to level {level}")
    return "; ".join(parts)


def run_note(data: dict[str, Any]) -> str:
    """A run (stored form) as a note a 2nd-level colleague reads top to bottom."""
    run = ChecklistRun.from_dict(data)
    checklist = run.checklist
    total = len(checklist.steps)
    lines = [f'fieldkit checklist "{checklist.title}" ({checklist.id} v{checklist.version}): '
             f"{run.status.replace('_', ' ')}",
             f"Technician {run.technician or '?'} on {run.host or '?'}; started {run.started_at}"
             + (f", finished {run.finished_at}" if run.finished_at else ""),
             "Results: " + ", ".join(f"{n} {r}" for r, n in sorted(run.counts().items())), ""]
    for n, (step, rec) in enumerate(zip(checklist.steps, run.records, strict=True), 1):
        lines += step_lines(n, total, step, rec)
    if run.suggestions:
        text = suggestion_text(run.suggestions)
        if text:
            lines += ["", f"Suggested: {text}"]
        if run.suggestions.get("advice"):
            lines.append(f"Advice: {run.suggestions['advice']}")
    if run.override:
        lines += ["", f"Override: resolved with --force by {run.override.get('by') or '?'} at "
                      f"{run.override.get('at')}; mandatory steps not done: "
                      f"{', '.join(run.override.get('pending', []))}"]
    return "\n".join(lines)


def step_lines(n: int, total: int, step: Step, rec: StepRecord) -> list[str]:
    head = f"{n:>2}/{total} [{rec.result.upper():<7}] {step.title}"
    if rec.result == PENDING:
        return [head + (" (mandatory, not done)" if step.mandatory else " (not done)")]
    if rec.result == SKIP and rec.note and not rec.by:
        return [f"{head} - {rec.note}"]
    answer = format_answer(rec.answer)
    if step.kind == "check":
        detail = f" ({step.check} {', '.join(rec.targets)})" if rec.targets else \
            f" ({step.check})"
    else:
        detail = f" -> {answer}" if answer else ""
    who = ", ".join(x for x in ("asked the user" if rec.asked == "user" else "", rec.by,
                                rec.at) if x)
    lines = [f"{head}{detail}" + (f" [{who}]" if who else "")]
    if rec.note and rec.result != SKIP:
        lines.append(f"        note: {rec.note}")
    elif rec.result == SKIP and rec.note:
        lines.append(f"        {rec.note}")
    for finding in rec.findings:
        if finding.get("status") != "ok" or step.kind == "check":
            lines.append(f"        {finding['status']:<5} {finding['check']} "
                         f"{finding['subject']}: {finding['summary']}")
    if rec.result in (FAIL, ERROR, "warn") and step.tip:
        lines.append(f"        tip: {step.tip}")
    return lines
