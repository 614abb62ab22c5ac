"""TOML checklist files into the model, refusing anything malformed before a run starts.

Every error is one line naming the file, the step (number and id) and the field, in words a
technician can act on: ``mine.toml: step 3 (toner): kind: 'chek' is not a step kind (check,
confirm, input, choice)``. Unknown keys are errors too (with a suggestion), because a misspelt
``mandatroy`` silently ignored is a mandatory step nobody has to do. Built-ins ship in
``builtin/``; a technician's own go in ``<home>/checklists/`` and win over a built-in with the
same id. A file's id is its file name, so finding a checklist never means reading them all.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.checklists import checks, conditions
from fieldkit.checklists.answers import default_answer, parse_answer
from fieldkit.checklists.model import (
    ASKED,
    STEP_KINDS,
    Checklist,
    Option,
    Outcome,
    Step,
    input_types,
)
from fieldkit.errors import InputError, NotFoundError
from fieldkit.tickets.model import CATEGORIES, LEVELS, SEVERITIES

BUILTIN_DIR = Path(__file__).with_name("builtin")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
MAX_STEPS = 100
TOP_KEYS = ("id", "title", "category", "version", "description", "steps", "outcomes")
COMMON_KEYS = ("id", "kind", "title", "help", "tip", "mandatory", "when")
KIND_KEYS = {
    "check": ("check", "targets", "timeout_s"),
    "confirm": ("ask", "expect", "default"),
    "input": ("ask", "type", "pattern", "min", "max", "choices", "example", "default"),
    "choice": ("ask", "options", "fail_on", "default"),
}
OUTCOME_KEYS = ("when", "category", "impact", "urgency", "level", "advice")


class ChecklistError(InputError):
    """A checklist file is malformed; the message names file, step and field."""


@dataclass
class Entry:
    """A checklist file found in one of the directories (``error``: why it cannot be used)."""

    id: str
    path: Path
    builtin: bool
    checklist: Checklist | None = None
    error: str = ""


def checklist_dirs(home: Path) -> list[tuple[Path, bool]]:
    return [(home / "checklists", False), (BUILTIN_DIR, True)]


def find(checklist_id: str, home: Path) -> Checklist:
    if not ID_RE.match(checklist_id):
        raise NotFoundError(f"no checklist {checklist_id!r} (see 'fieldkit checklist list')")
    for directory, builtin in checklist_dirs(home):
        path = directory / f"{checklist_id}.toml"
        if path.is_file():
            return load(path, builtin=builtin)
    known = ", ".join(e.id for e in entries(home)) or "none"
    raise NotFoundError(f"no checklist {checklist_id!r} (known: {known})")


def entries(home: Path) -> list[Entry]:
    """Every checklist file, the user's first; a broken one is listed with its error."""
    found: dict[str, Entry] = {}
    for directory, builtin in checklist_dirs(home):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            if path.stem in found:
                continue
            entry = Entry(path.stem, path, builtin)
            try:
                entry.checklist = load(path, builtin=builtin)
            except ChecklistError as exc:
                entry.error = str(exc)
            found[path.stem] = entry
    return sorted(found.values(), key=lambda e: e.id)


def load(path: Path, *, builtin: bool = False) -> Checklist:
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ChecklistError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecklistError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ChecklistError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, path, builtin=builtin)


def parse(data: dict[str, Any], path: Path, *, builtin: bool = False) -> Checklist:
    where = _Where(str(path))
    _keys(data, TOP_KEYS, where)
    checklist_id = _text(data, "id", where, required=True)
    if not ID_RE.match(checklist_id):
        raise where.error("id", f"{checklist_id!r} must be lower-case letters, digits and "
                                "dashes (like printer-not-printing)")
    if path.suffix == ".toml" and path.stem != checklist_id:
        raise where.error("id", f"{checklist_id!r} must match the file name "
                                f"({checklist_id}.toml, not {path.name})")
    title = _text(data, "title", where, required=True, limit=200)
    category = _text(data, "category", where, required=True)
    if category not in CATEGORIES:
        raise where.error("category", f"{category!r} is not a ticket category "
                                      f"({', '.join(CATEGORIES)})")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise where.error("version", "must be a whole number from 1 (raise it when you change "
                                     "the steps)")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps or \
            not all(isinstance(s, dict) for s in raw_steps):
        raise where.error("steps", "needs at least one [[steps]] table")
    if len(raw_steps) > MAX_STEPS:
        raise where.error("steps", f"at most {MAX_STEPS} steps (got {len(raw_steps)})")
    steps: list[Step] = []
    for n, raw in enumerate(raw_steps, 1):
        steps.append(_step(raw, steps, where.at_step(n, raw.get("id"))))
    raw_outcomes = data.get("outcomes", [])
    if not isinstance(raw_outcomes, list) or not all(isinstance(o, dict) for o in raw_outcomes):
        raise where.error("outcomes", "must be [[outcomes]] tables")
    outcomes = tuple(_outcome(raw, steps, where.at_outcome(n))
                     for n, raw in enumerate(raw_outcomes, 1))
    return Checklist(checklist_id, title, category, version, tuple(steps),
                     _text(data, "description", where), outcomes, str(path), builtin)


class _Where:
    def __init__(self, path: str, part: str = "") -> None:
        self.path, self.part = path, part

    def at_step(self, n: int, step_id: Any) -> _Where:
        label = f" ({step_id})" if isinstance(step_id, str) and step_id else ""
        return _Where(self.path, f"step {n}{label}: ")

    def at_outcome(self, n: int) -> _Where:
        return _Where(self.path, f"outcome {n}: ")

    def error(self, field: str, message: str) -> ChecklistError:
        return ChecklistError(f"{self.path}: {self.part}{field}: {message}")


def _keys(data: dict[str, Any], allowed: tuple[str, ...], where: _Where,
          kind: str = "") -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            scope = f" for a {kind} step" if kind else ""
            raise where.error(key, f"unknown field{scope}{hint}")


def _text(data: dict[str, Any], key: str, where: _Where, *, required: bool = False,
          limit: int = 4000) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise where.error(key, f"must be text (got {type(value).__name__})")
    value = value.strip()
    if required and not value:
        raise where.error(key, "is required")
    if len(value) > limit:
        raise where.error(key, f"is too long ({len(value)} characters, at most {limit})")
    return value


def _step(raw: dict[str, Any], earlier: list[Step], where: _Where) -> Step:
    kind = raw.get("kind")
    if kind not in STEP_KINDS:
        raise where.error("kind", f"{kind!r} is not a step kind ({', '.join(STEP_KINDS)})")
    _keys(raw, COMMON_KEYS + KIND_KEYS[kind], where, kind)
    step_id = _text(raw, "id", where, required=True)
    if not ID_RE.match(step_id) or step_id in ("and", "or", "not"):
        raise where.error("id", f"{step_id!r} must be lower-case letters, digits and dashes")
    if any(s.id == step_id for s in earlier):
        raise where.error("id", f"{step_id!r} is used by an earlier step")
    mandatory = raw.get("mandatory", False)
    if not isinstance(mandatory, bool):
        raise where.error("mandatory", "must be true or false")
    ask = _text(raw, "ask", where) or "technician"
    if ask not in ASKED:
        raise where.error("ask", f"must be {' or '.join(ASKED)}")
    values: dict[str, Any] = {
        "id": step_id, "kind": kind, "title": _text(raw, "title", where, required=True),
        "help": _text(raw, "help", where), "tip": _text(raw, "tip", where),
        "mandatory": mandatory, "ask": ask,
        "when": _when(raw, "when", earlier, where),
    }
    values.update({"check": _check_fields, "confirm": _confirm_fields,
                   "input": _input_fields, "choice": _choice_fields}[kind](raw, earlier, where))
    step = Step(**values)
    if step.can_fail and not step.tip:
        raise where.error("tip", "a step that can fail needs a tip: the first thing to try")
    _check_default(step, where)
    return step


def _when(raw: dict[str, Any], key: str, steps: list[Step], where: _Where) -> str:
    text = _text(raw, key, where)
    if not text:
        return ""
    try:
        condition = conditions.parse(text)
    except conditions.ConditionError as exc:
        raise where.error(key, f"{exc}") from None
    known = {s.id: s for s in steps}
    for term in condition.terms:
        step = known.get(term.step)
        if step is None:
            raise where.error(key, f"{term.step!r} is not an earlier step")
        problem = conditions.term_problem(term, step)
        if problem:
            raise where.error(key, problem)
    return text


def _check_fields(raw: dict[str, Any], earlier: list[Step], where: _Where) -> dict[str, Any]:
    name = _text(raw, "check", where, required=True)
    problem = checks.unknown_check(name)
    if problem:
        raise where.error("check", problem)
    targets = raw.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise where.error("targets", "must be a list of text")
    if targets and checks.target_kind(name) is None:
        raise where.error("targets", f"check {name!r} takes no targets (only "
                                     f"{', '.join(checks.targeted())} do)")
    for target in targets:
        _check_target(name, target.strip(), earlier, where)
    timeout = raw.get("timeout_s")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0 < timeout <= 120):
        raise where.error("timeout_s", "must be a number of seconds from 0 to 120")
    return {"check": name, "targets": tuple(t.strip() for t in targets),
            "timeout_s": float(timeout) if timeout is not None else None}


def _check_target(check: str, target: str, earlier: list[Step], where: _Where) -> None:
    refs = PLACEHOLDER_RE.findall(target)
    whole = len(refs) == 1 and target == "{" + refs[0] + "}"
    samples = [target]
    for ref in refs:
        step = next((s for s in earlier if s.id == ref), None)
        if step is None or step.kind not in ("input", "choice"):
            raise where.error("targets", f"'{{{ref}}}' must name an earlier input or choice step")
        if step.kind == "choice" or step.type == "choice":
            answers = [o.value for o in step.options] or list(step.choices)
        else:
            kind = checks.target_kind(check)
            assert kind is not None  # only a targeted check has targets (checked before)
            wanted = (kind.input_type,) if whole else ("host", "number")
            if step.type not in wanted:
                raise where.error("targets", f"'{{{ref}}}' is an input of type {step.type}; "
                                             f"{'a' if whole else 'inside a'} {check} target "
                                             f"needs type {' or '.join(wanted)}")
            answers = [str(default_answer(step))]
        samples = [s.replace("{" + ref + "}", a) for s in samples for a in answers]
    for sample in samples:
        if not sample:
            continue  # an optional step left empty: the target is dropped at run time
        try:
            checks.parse_target(check, sample)
        except InputError as exc:
            raise where.error("targets", f"{exc}") from None


def _confirm_fields(raw: dict[str, Any], _earlier: list[Step], where: _Where
                    ) -> dict[str, Any]:
    for key in ("expect", "default"):
        if key in raw and not isinstance(raw[key], bool):
            raise where.error(key, "must be true (yes) or false (no)")
    return {"expect": raw.get("expect"), "default": raw.get("default")}


def _input_fields(raw: dict[str, Any], _earlier: list[Step], where: _Where) -> dict[str, Any]:
    kind = _text(raw, "type", where) or "text"
    if kind not in input_types():
        raise where.error("type", f"{kind!r} is not an input type ({', '.join(input_types())})")
    values: dict[str, Any] = {"type": kind, "example": _text(raw, "example", where),
                              "default": raw.get("default")}
    pattern = _text(raw, "pattern", where)
    if (kind == "pattern") != bool(pattern):
        raise where.error("pattern", "type pattern needs a pattern (a regular expression), and "
                                     "only type pattern takes one")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise where.error("pattern", f"not a valid regular expression ({exc})") from None
    values["pattern"] = pattern
    for key in ("min", "max"):
        value = raw.get(key)
        if value is None:
            continue
        if kind != "number":
            raise where.error(key, "only type number takes min and max")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise where.error(key, "must be a number")
        values[key] = float(value)
    choices = raw.get("choices", [])
    if (kind == "choice") != bool(choices):
        raise where.error("choices", "type choice needs a list of choices, and only type "
                                     "choice takes one")
    if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip()
                                                for c in choices):
        raise where.error("choices", "must be a list of text")
    values["choices"] = tuple(c.strip() for c in choices)
    return values


def _choice_fields(raw: dict[str, Any], _earlier: list[Step], where: _Where) -> dict[str, Any]:
    raw_options = raw.get("options")
    if not isinstance(raw_options, list) or len(raw_options) < 2:
        raise where.error("options", "a choice step needs a list of at least two options")
    options: list[Option] = []
    for item in raw_options:
        if isinstance(item, str) and item.strip():
            options.append(Option(item.strip(), item.strip()))
        elif isinstance(item, dict) and set(item) <= {"value", "label"} and \
                isinstance(item.get("value"), str) and item["value"].strip():
            label = item.get("label", item["value"])
            if not isinstance(label, str):
                raise where.error("options", "an option's label must be text")
            options.append(Option(item["value"].strip(), label.strip() or item["value"]))
        else:
            raise where.error("options", "each option is text or { value = \"...\", label = "
                                         "\"...\" }")
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        raise where.error("options", "option values must differ")
    if any(v.isdigit() for v in values):
        raise where.error("options", "option values must not be plain numbers (numbers pick "
                                     "an option at the prompt)")
    fail_on = raw.get("fail_on", [])
    if not isinstance(fail_on, list) or not all(v in values for v in fail_on):
        raise where.error("fail_on", f"must list option values ({', '.join(values)})")
    return {"options": tuple(options), "fail_on": tuple(fail_on), "default": raw.get("default")}


def _check_default(step: Step, where: _Where) -> None:
    """The default (and the example) must be an answer the step accepts: the answers template
    is made of them and must run as it is."""
    if step.kind == "input" and step.mandatory and step.default is None and not step.example:
        raise where.error("example", "a mandatory input needs a default or an example (the "
                                     "answers template writes it)")
    for key, value in (("default", step.default), ("example", step.example or None)):
        if value is None or step.kind == "confirm":
            continue
        try:
            parse_answer(step, value)
        except InputError as exc:
            raise where.error(key, f"{value!r} is not a valid answer: {exc}") from None


def _outcome(raw: dict[str, Any], steps: list[Step], where: _Where) -> Outcome:
    _keys(raw, OUTCOME_KEYS, where)
    values: dict[str, Any] = {"when": _when(raw, "when", steps, where)}
    category = _text(raw, "category", where)
    if category and category not in CATEGORIES:
        raise where.error("category", f"{category!r} is not a ticket category")
    for key in ("impact", "urgency"):
        value = _text(raw, key, where)
        if value and value not in SEVERITIES:
            raise where.error(key, f"must be one of {', '.join(SEVERITIES)}")
        values[key] = value
    level = raw.get("level")
    if level is not None and (isinstance(level, bool) or level not in LEVELS):
        raise where.error("level", "must be 1, 2 or 3 (the support level to hand over to)")
    advice = _text(raw, "advice", where)
    if not (category or values["impact"] or values["urgency"] or level or advice):
        raise where.error("when", "the rule suggests nothing: give category, impact, urgency, "
                                  "level or advice")
    return Outcome(values["when"], category, values["impact"], values["urgency"], level, advice)
