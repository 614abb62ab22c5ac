"""One answer, checked against its step: the same rules at a terminal and in an answers file.

An answers file (TOML, or JSON when it ends in .json) names the checklist, optionally its
version, and an ``[answers]`` table keyed by step id. The whole file is checked before the run
starts: a misspelt step id, a wrong value or a missing mandatory step is an error naming the
file and the step, never a surprise half way through the run.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from fieldkit.checklists import checks
from fieldkit.checklists.model import BASIC_INPUT_TYPES, Checklist, Step
from fieldkit.errors import InputError

RUN, SKIP_CHECK = "run", "skip"
YES = ("yes", "y", "true", "ja", "j", "oui", "si")
NO = ("no", "n", "false", "nein", "non")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_ANSWER = 4000


def parse_answer(step: Step, raw: Any) -> Any:
    """The value to record for ``raw``, or InputError saying what the step accepts."""
    if step.kind == "confirm":
        return _confirm(raw)
    if step.kind == "choice":
        return _choice(step, raw)
    if step.kind == "check":
        return _check(step, raw)
    return _input(step, raw)


def _confirm(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise InputError(f"answer yes or no (got {raw!r})")


def _choice(step: Step, raw: Any) -> str:
    text = str(raw).strip()
    values = [o.value for o in step.options]
    if text.isdigit() and 1 <= int(text) <= len(values) and text not in values:
        return values[int(text) - 1]
    for value in values:
        if value.casefold() == text.casefold():
            return value
    raise InputError(f"choose one of {', '.join(values)} (or its number; got {raw!r})")


def _check(step: Step, raw: Any) -> str | list[str]:
    """``run`` (the step's own targets), ``skip``, or other targets to use instead."""
    if isinstance(raw, str) and raw.strip().lower() in (RUN, SKIP_CHECK):
        return raw.strip().lower()
    if checks.target_kind(step.check) is None:
        raise InputError(f"answer 'run' or 'skip' (check {step.check} takes no targets)")
    items = raw if isinstance(raw, list) else str(raw).replace(",", " ").split()
    if not items or not all(isinstance(t, str) and t.strip() for t in items):
        raise InputError(f"answer 'run', 'skip' or a list of {step.check} targets")
    targets = [t.strip() for t in items]
    for target in targets:
        checks.parse_target(step.check, target)
    return targets


def _input(step: Step, raw: Any) -> Any:
    if isinstance(raw, bool) or isinstance(raw, list | dict):
        raise InputError("answer with text or a number")
    if step.type == "number":
        return _number(step, raw)
    text = str(raw).strip()
    if any(ch in text for ch in "\x00\x1b") or len(text) > MAX_ANSWER:
        raise InputError(f"the answer must be text without control characters, at most "
                         f"{MAX_ANSWER} characters")
    if not text:
        if step.mandatory:
            raise InputError("this step is mandatory: an answer is needed")
        return ""
    if step.type == "email" and not EMAIL_RE.match(text):
        raise InputError(f"{text!r} is not an e-mail address (name@domain.tld)")
    if step.type == "choice":
        for value in step.choices:
            if value.casefold() == text.casefold():
                return value
        raise InputError(f"answer one of {', '.join(step.choices)} (got {text!r})")
    if step.type == "pattern" and not re.fullmatch(step.pattern, text):
        raise InputError(f"{text!r} does not have the expected form ({step.pattern})")
    if step.type == "host":
        _host(text)
    elif step.type not in BASIC_INPUT_TYPES:  # a targeted kind's: its answers are targets
        from fieldkit.diagnostics import kinds

        kind = kinds.for_input_type(step.type)
        if kind is not None:
            kind.parse_target(text)
    return text


def _host(text: str) -> None:
    from fieldkit.diagnostics.net.targets import host_problem

    problem = host_problem(text)  # the linear-time check reach and mail use
    if problem:
        raise InputError(f"{text!r} is not a host name or IP address ({problem})")


def _number(step: Step, raw: Any) -> int | float:
    try:
        value = float(str(raw).strip().replace(",", ".")) if not isinstance(raw, int | float) \
            else float(raw)
    except ValueError:
        raise InputError(f"answer with a number (got {raw!r})") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"answer with a number (got {raw!r})")
    if step.min is not None and value < step.min:
        raise InputError(f"the number must be at least {step.min:g} (got {value:g})")
    if step.max is not None and value > step.max:
        raise InputError(f"the number must be at most {step.max:g} (got {value:g})")
    return int(value) if value.is_integer() else value


def default_answer(step: Step) -> Any:
    """What Enter means at the prompt, and what the answers template writes."""
    if step.kind == "check":
        return RUN
    if step.kind == "confirm":
        if step.default is not None:
            return bool(step.default)
        return step.expect if step.expect is not None else True
    if step.kind == "choice":
        return step.default if step.default is not None else step.options[0].value
    if step.default is not None:
        return step.default
    return step.example


def read_answers(path: Path, checklist: Checklist, *, remaining: set[str] | None = None
                 ) -> dict[str, Any]:
    """Parse and check a whole answers file; ``remaining``: the steps still to answer (resume)."""
    where = str(path)
    try:
        raw_text = path.read_bytes().decode("utf-8")
        data = json.loads(raw_text) if path.suffix == ".json" else tomllib.loads(raw_text)
    except FileNotFoundError:
        raise InputError(f"answers file {where}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"answers file {where} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict):
        raise InputError(f"answers file {where}: needs an [answers] table keyed by step id")
    named = data.get("checklist", checklist.id)
    if named != checklist.id:
        raise InputError(f"answers file {where} is for checklist {named!r}, not "
                         f"{checklist.id!r}")
    version = data.get("version", checklist.version)
    if version != checklist.version:
        raise InputError(f"answers file {where} is for version {version} of {checklist.id}; "
                         f"it is version {checklist.version} now: make a new one with "
                         f"'fieldkit checklist show {checklist.id} --answers-template'")
    unknown = sorted(set(data) - {"checklist", "version", "answers"})
    if unknown:
        raise InputError(f"answers file {where}: unknown key {unknown[0]!r} (steps go in "
                         "[answers])")
    given: dict[str, Any] = data.get("answers", {})
    answers: dict[str, Any] = {}
    for step_id, raw in given.items():
        step = checklist.step(step_id)
        if step is None:
            raise InputError(f"answers file {where}: no step {step_id!r} in {checklist.id} "
                             f"(steps: {', '.join(s.id for s in checklist.steps)})")
        try:
            answers[step_id] = parse_answer(step, raw)
        except InputError as exc:
            raise InputError(f"answers file {where}: step {step_id!r}: {exc}") from None
        if answers[step_id] == SKIP_CHECK and step.mandatory:
            raise InputError(f"answers file {where}: step {step_id!r} is mandatory and cannot "
                             "be skipped")
    wanted = remaining if remaining is not None else {s.id for s in checklist.steps}
    missing = [s.id for s in checklist.steps if s.mandatory and s.id in wanted
               and s.id not in answers]
    if missing:
        raise InputError(f"answers file {where}: mandatory step(s) not answered: "
                         f"{', '.join(missing)}")
    return answers
