"""Walk a run's steps against an answer source (a terminal or an answers file), then suggest.

The runner knows nothing of terminals, files or the store: it asks its source for each step's
answer, runs checks through the function it was given, and hands the run to ``save`` after
every step, so an interrupt (Ctrl-C, a closed terminal, a killed process) loses at most the
step being answered. "Back" returns to the previous step that was asked and forgets the steps
after it: conditions are evaluated again on the way forward, so a changed answer takes effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fieldkit.checklists import conditions
from fieldkit.checklists.answers import RUN, SKIP_CHECK
from fieldkit.checklists.checks import target_kind, verdict
from fieldkit.checklists.loader import PLACEHOLDER_RE
from fieldkit.checklists.model import (
    COMPLETED,
    ERROR,
    FAIL,
    INFO,
    OK,
    PENDING,
    SKIP,
    ChecklistRun,
    Step,
    StepRecord,
)
from fieldkit.errors import InputError, RemoteError
from fieldkit.tickets.model import priority_of, utc_now

CheckFunc = Callable[[Step, list[str]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Reply:
    """What the source says for a step: an answer, "back one step", or "skip this step"."""

    kind: str  # answer | back | skip
    value: Any = None
    note: str = ""


BACK = Reply("back")


class AnswerSource(Protocol):
    def ask(self, run: ChecklistRun, index: int) -> Reply:
        """The answer for step ``index``; may raise KeyboardInterrupt or EOFError."""

    def skipped(self, run: ChecklistRun, index: int) -> None:
        """Step ``index`` does not apply (its condition is false)."""

    def recorded(self, run: ChecklistRun, index: int) -> None:
        """Step ``index`` has its result (show it, and its tip when it failed)."""

    def notice(self, text: str) -> None:
        """A remark for whoever is answering."""


class Runner:
    def __init__(self, run: ChecklistRun, source: AnswerSource, check: CheckFunc,
                 technician: str, save: Callable[[ChecklistRun], None]) -> None:
        self.run, self.source, self.check = run, source, check
        self.technician, self.save = technician, save

    def execute(self) -> ChecklistRun:
        run, steps = self.run, self.run.checklist.steps
        while run.position < len(steps):
            index = run.position
            step, rec = steps[index], run.records[index]
            if step.when and not conditions.holds(conditions.parse(step.when), self._by_id()):
                rec.clear()
                rec.result, rec.note = SKIP, f"not relevant (when {step.when})"
                rec.at = utc_now()
                run.position += 1
                self._save()
                self.source.skipped(run, index)
                continue
            reply = self.source.ask(run, index)
            if reply.kind == "back":
                self._back()
                continue
            self._record(step, rec, reply)
            run.trail.append(index)
            run.position += 1
            self._save()
            self.source.recorded(run, index)
        run.suggestions = suggest(run)
        run.status, run.finished_at = COMPLETED, utc_now()
        self._save()
        return run

    def _back(self) -> None:
        run = self.run
        if not run.trail:
            self.source.notice("this is the first step: there is no step before it")
            return
        previous = run.trail.pop()
        for rec in run.records[previous:run.position + 1]:
            rec.clear()
        run.position = previous
        self._save()

    def _record(self, step: Step, rec: StepRecord, reply: Reply) -> None:
        rec.clear()
        rec.by, rec.at = self.technician, utc_now()
        if step.kind != "check" and step.ask == "user":
            rec.asked = "user"
        if reply.kind == "skip" or reply.value == SKIP_CHECK:
            rec.result, rec.note = SKIP, reply.note or "skipped by the technician"
            return
        rec.answer, rec.note = reply.value, reply.note
        if step.kind == "check":
            self._run_check(step, rec)
        else:
            rec.result = judge(step, reply.value)
            if rec.result == SKIP and not rec.note:
                rec.note = "left empty"

    def _run_check(self, step: Step, rec: StepRecord) -> None:
        targets = rec.answer if isinstance(rec.answer, list) else resolve_targets(step, self.run)
        rec.targets = list(targets)
        kind = target_kind(step.check)
        if not targets and step.targets and not (kind and kind.runs_without_targets):
            rec.result = SKIP
            rec.note = "no target: the step that gives it was skipped or left empty"
            return
        try:
            rec.findings = self.check(step, list(targets))
        except (InputError, RemoteError) as exc:  # RemoteError: --host could not be used
            rec.result, rec.note = ERROR, f"the check could not run: {exc}"
            return
        except Exception as exc:  # noqa: BLE001 - a broken check is this step's error only
            rec.result = ERROR
            rec.note = f"the check failed: {exc.__class__.__name__}: {exc}"
            return
        rec.result = verdict(rec.findings)
        rec.at = utc_now()  # when the evidence was taken

    def _by_id(self) -> dict[str, StepRecord]:
        return {r.id: r for r in self.run.records}

    def _save(self) -> None:
        self.run.updated_at = utc_now()
        self.save(self.run)


def judge(step: Step, answer: Any) -> str:
    """A question's result: ok/fail where the checklist says what is expected, else info."""
    if step.kind == "confirm":
        if step.expect is None:
            return INFO
        return OK if answer == step.expect else FAIL
    if step.kind == "choice":
        if not step.fail_on:
            return INFO
        return FAIL if answer in step.fail_on else OK
    return INFO if answer not in (None, "") else SKIP


def resolve_targets(step: Step, run: ChecklistRun) -> list[str]:
    """The step's targets with ``{step}`` replaced by answers; a target whose answer is
    missing or empty is dropped."""
    by_id = {r.id: r for r in run.records}
    targets = []
    for target in step.targets:
        value: str | None = target
        for ref in PLACEHOLDER_RE.findall(target):
            rec = by_id.get(ref)
            answer = rec.answer if rec and rec.result not in (SKIP, PENDING) else None
            if answer in (None, "") or value is None:
                value = None
                break
            value = value.replace("{" + ref + "}", str(answer))
        if value:
            targets.append(value)
    return targets


def suggest(run: ChecklistRun) -> dict[str, Any]:
    """Apply the outcome rules in order: each value (category, impact, urgency, level, advice)
    comes from the first matching rule that sets it. So specific rules go first and a rule
    without ``when`` last: it fills in only what no earlier rule decided."""
    records = {r.id: r for r in run.records}
    found: dict[str, Any] = {}
    matched: list[int] = []
    for n, rule in enumerate(run.checklist.outcomes, 1):
        if rule.when and not conditions.holds(conditions.parse(rule.when), records):
            continue
        matched.append(n)
        for key in ("category", "impact", "urgency", "level", "advice"):
            value = getattr(rule, key)
            if value not in ("", None):
                found.setdefault(key, value)
    if "impact" in found and "urgency" in found:
        found["priority"] = priority_of(found["impact"], found["urgency"])
    if matched:
        found["rules"] = matched
    return found


def pending_mandatory(run: ChecklistRun) -> list[str]:
    """Mandatory steps not done yet that may still apply: what blocks resolving the ticket.

    A step whose condition is already decided false does not count; one whose condition still
    depends on unanswered steps does (it may apply)."""
    records = {r.id: r for r in run.records}
    pending = []
    for step, rec in zip(run.checklist.steps, run.records, strict=True):
        if not step.mandatory or rec.result != PENDING:
            continue
        if step.when:
            condition = conditions.parse(step.when)
            if conditions.decided(condition, records) and not conditions.holds(condition,
                                                                               records):
                continue
        pending.append(step.id)
    return pending


def problems(step: Step, rec: StepRecord) -> list[str]:
    """One line per thing that went wrong at a step (for summaries and notes)."""
    lines = [f"{f['check']} {f['subject']}: {f['summary']}" for f in rec.findings
             if f.get("status") in (FAIL, ERROR, "warn")]
    if rec.result in (FAIL, ERROR) and not lines:
        lines.append(rec.note if step.kind == "check" and rec.note else
                     f"{step.title} -> {format_answer(rec.answer)}")
    return lines


def format_answer(answer: Any) -> str:
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, list):
        return ", ".join(str(a) for a in answer)
    if answer is None:
        return ""
    return str(answer) if answer != RUN else "run"


class FileAnswers:
    """The answer source of an answers file (already checked whole by ``read_answers``): a
    step the file leaves out is skipped, with that said in the run."""

    def __init__(self, answers: dict[str, Any], name: str) -> None:
        self.answers, self.name = answers, name

    def ask(self, run: ChecklistRun, index: int) -> Reply:
        step = run.checklist.steps[index]
        if step.id not in self.answers:
            return Reply("skip", note=f"not answered in {self.name}")
        return Reply("answer", self.answers[step.id])

    def skipped(self, run: ChecklistRun, index: int) -> None:
        pass

    def recorded(self, run: ChecklistRun, index: int) -> None:
        pass

    def notice(self, text: str) -> None:
        pass
