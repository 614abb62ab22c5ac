"""The interactive answer source: one clear question at a time on a terminal.

Plain line input on purpose (no curses, no Typer): it works over SSH, in a serial console and in
a pty test alike. Every prompt says where you are ("step 3/9") and what the keys do; ``<`` goes
back one step, ``?`` shows the step's help, ``-`` skips an optional step; Enter takes the
default shown in brackets. Streams are parameters so tests can drive it without a terminal.
"""

from __future__ import annotations

import sys
from typing import TextIO

from fieldkit.checklists.answers import SKIP_CHECK, default_answer, parse_answer
from fieldkit.checklists.model import ERROR, FAIL, OK, WARN, ChecklistRun, Step
from fieldkit.checklists.runner import BACK, Reply, format_answer
from fieldkit.diagnostics import kinds
from fieldkit.errors import InputError

KEYS = "Enter = the default in [brackets], < = back one step, ? = help, - = skip (optional " \
       "steps), Ctrl-C = stop (continue later with 'fieldkit checklist resume')"
MARK = {OK: "ok", FAIL: "FAIL", ERROR: "ERROR", WARN: "warn"}


class TerminalAnswers:
    def __init__(self, inp: TextIO | None = None, out: TextIO | None = None) -> None:
        self.inp = inp or sys.stdin
        self.out = out or sys.stdout
        self._introduced = False

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _read(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def introduce(self, run: ChecklistRun) -> None:
        checklist = run.checklist
        on = f" - {run.ticket_ref}" if run.ticket_ref else " - no ticket"
        self.say(f"{checklist.title} ({checklist.id} v{checklist.version}){on}")
        if checklist.description:
            self.say(checklist.description)
        if run.position:
            self.say(f"Continuing at step {run.position + 1}/{len(checklist.steps)}.")
        self.say(KEYS)
        self._introduced = True

    def ask(self, run: ChecklistRun, index: int) -> Reply:
        if not self._introduced:
            self.introduce(run)
        step = run.checklist.steps[index]
        total = len(run.checklist.steps)
        self.say("")
        flags = " (mandatory)" if step.mandatory else ""
        who = "Ask the user: " if step.ask == "user" and step.kind != "check" else ""
        self.say(f"step {index + 1}/{total}{flags}  {who}{step.title}")
        while True:
            raw = self._read(self._question(step, run))
            text = raw.strip()
            if text == "<":
                return BACK
            if text == "?":
                self.say("  " + (step.help or "no further help for this step"))
                continue
            if text == "-":
                if step.mandatory:
                    self.say("  this step is mandatory and cannot be skipped")
                    continue
                return Reply("skip", note="skipped by the technician")
            try:
                if text:
                    value = parse_answer(step, text)
                elif step.kind == "input" and step.default is None:
                    value = parse_answer(step, "")  # an example is no default: empty is empty
                else:
                    value = default_answer(step)
            except InputError as exc:
                self.say(f"  {exc}")
                continue
            if value == SKIP_CHECK and step.kind == "check" and step.mandatory:
                self.say("  this step is mandatory and cannot be skipped")
                continue
            return Reply("answer", value)

    def _question(self, step: Step, run: ChecklistRun) -> str:
        default = format_answer(default_answer(step))
        if step.kind == "confirm":
            return f"  yes/no [{default}]: "
        if step.kind == "choice":
            for n, option in enumerate(step.options, 1):
                self.say(f"    {n}) {option.label}" + (f" [{option.value}]"
                                                      if option.label != option.value else ""))
            return f"  number or value [{default}]: "
        if step.kind == "check":
            from fieldkit.checklists.runner import resolve_targets

            targets = resolve_targets(step, run)
            what = f"{step.check} {', '.join(targets)}" if targets else step.check
            self.say(f"  runs: {what}")
            how = "Enter = run, - = skip" if not step.mandatory else "Enter = run"
            kind = kinds.get(step.check)
            others = step.targets or (kind is not None and kind.runs_without_targets)
            other = ", or type other targets" if others else ""
            return f"  {how}{other}: "
        hint = self._input_hint(step)
        if step.default is not None and str(step.default) != "":
            return f"  {hint}[{step.default}]: "
        if step.example:
            return f"  {hint}(e.g. {step.example}): "
        return f"  {hint}: " if hint else "  : "

    @staticmethod
    def _input_hint(step: Step) -> str:
        if step.type == "choice":
            return "/".join(step.choices) + " "
        if step.type == "number":
            bounds = [f"min {step.min:g}" if step.min is not None else "",
                      f"max {step.max:g}" if step.max is not None else ""]
            return "number" + (f" ({', '.join(b for b in bounds if b)})" if any(bounds) else "") \
                + " "
        basic = {"text": "", "email": "e-mail ", "pattern": "", "host": "host or IP "}
        if step.type in basic:
            return basic[step.type]
        kind = kinds.for_input_type(step.type)  # a targeted kind's: its answers are targets
        return f"{kind.input_hint or kind.input_words} " if kind else ""

    def skipped(self, run: ChecklistRun, index: int) -> None:
        step = run.checklist.steps[index]
        self.say(f"step {index + 1}/{len(run.checklist.steps)}  skipped: {step.title} - "
                 f"{run.records[index].note}")

    def recorded(self, run: ChecklistRun, index: int) -> None:
        step, rec = run.checklist.steps[index], run.records[index]
        for finding in rec.findings:
            self.say(f"    {finding['status']:<5} {finding['check']} {finding['subject']}: "
                     f"{finding['summary']}")
        if rec.note and rec.result == ERROR:
            self.say(f"    {rec.note}")
        mark = MARK.get(rec.result)
        if mark and (step.kind == "check" or step.can_fail):
            self.say(f"  -> {mark}")
        if rec.result in (FAIL, ERROR, WARN) and step.tip:
            self.say(f"  tip: {step.tip}")

    def notice(self, text: str) -> None:
        self.say(f"  {text}")
