"""The ``when`` language: a step or an outcome rule applies only when earlier steps say so.

Small on purpose, so a technician can read and write it and lint can check every name::

    cable == no                      an answer (confirm: yes/no; choice: an option value)
    os in [windows, macos]           one of several answers
    free-gb < 5                      numbers (input type number)
    printer-state failed             a step's result: passed, failed (fail or error), warned,
                                     skipped, answered
    not colleagues == yes and reach failed or dns failed

``and`` binds tighter than ``or``; ``not`` negates one term; no parentheses. A comparison with a
step that was skipped or not answered yet is false. Parsing is separate from evaluation, so the
loader refuses a condition naming an unknown or later step before any run starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fieldkit.checklists.model import ERROR, FAIL, OK, PENDING, SKIP, WARN, Step, StepRecord

STATES = ("passed", "failed", "warned", "skipped", "answered")
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in")
_TOKEN = re.compile(r"""\s*(==|!=|<=|>=|<|>|\[|\]|,|"[^"]*"|'[^']*'|[^\s\[\],<>=!"']+)""")


class ConditionError(ValueError):
    """The condition text cannot be parsed (the loader adds file, step and field)."""


@dataclass(frozen=True)
class Term:
    step: str
    op: str  # a state (passed, ...) or an operator
    values: tuple[str, ...] = ()
    negated: bool = False


@dataclass(frozen=True)
class Condition:
    text: str
    clauses: tuple[tuple[Term, ...], ...]  # or-ed clauses of and-ed terms

    @property
    def terms(self) -> list[Term]:
        return [t for clause in self.clauses for t in clause]

    @property
    def steps(self) -> set[str]:
        return {t.step for t in self.terms}


def parse(text: str) -> Condition:
    tokens = _tokens(text)
    if not tokens:
        raise ConditionError("empty condition")
    clauses: list[tuple[Term, ...]] = []
    current: list[Term] = []
    pos = 0
    while True:
        term, pos = _term(tokens, pos, text)
        current.append(term)
        if pos == len(tokens):
            break
        joiner = tokens[pos].lower()
        if joiner not in ("and", "or"):
            raise ConditionError(f"expected 'and' or 'or' after '{_show(tokens, pos)}'")
        pos += 1
        if joiner == "or":
            clauses.append(tuple(current))
            current = []
    clauses.append(tuple(current))
    return Condition(text, tuple(clauses))


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or not match.group(1):
            raise ConditionError(f"cannot read {text[pos:].strip()!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _term(tokens: list[str], pos: int, text: str) -> tuple[Term, int]:
    negated = False
    if pos < len(tokens) and tokens[pos].lower() == "not":
        negated, pos = True, pos + 1
    if pos >= len(tokens):
        raise ConditionError(f"'{text}' ends where a step id should follow")
    step = tokens[pos]
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", step):
        raise ConditionError(f"{step!r} is not a step id")
    pos += 1
    if pos >= len(tokens):
        raise ConditionError(f"'{step}' needs a test: {', '.join(STATES)}, or a comparison "
                             "like '== yes'")
    op = tokens[pos].lower()
    if op in STATES:
        return Term(step, op, (), negated), pos + 1
    if op not in OPERATORS:
        raise ConditionError(f"unknown test {tokens[pos]!r} after '{step}' (use "
                             f"{', '.join(STATES)}, or {' '.join(OPERATORS)})")
    pos += 1
    if op == "in":
        if pos >= len(tokens) or tokens[pos] != "[":
            raise ConditionError(f"'{step} in' needs a list: {step} in [a, b]")
        values: list[str] = []
        pos += 1
        while pos < len(tokens) and tokens[pos] != "]":
            if tokens[pos] != ",":
                values.append(_unquote(tokens[pos]))
            pos += 1
        if pos >= len(tokens) or not values:
            raise ConditionError(f"'{step} in [...]' needs a closing ']' and at least one value")
        return Term(step, op, tuple(values), negated), pos + 1
    if pos >= len(tokens) or tokens[pos] in ("[", "]", ","):
        raise ConditionError(f"'{step} {op}' needs a value")
    return Term(step, op, (_unquote(tokens[pos]),), negated), pos + 1


def _unquote(token: str) -> str:
    return token[1:-1] if token[:1] in "\"'" else token


def _show(tokens: list[str], pos: int) -> str:
    return " ".join(tokens[max(0, pos - 3):pos])


def holds(condition: Condition, records: dict[str, StepRecord]) -> bool:
    return any(all(_term_holds(t, records.get(t.step)) for t in clause)
               for clause in condition.clauses)


def decided(condition: Condition, records: dict[str, StepRecord]) -> bool:
    """True when every step the condition names has its result (none still pending)."""
    return all(records.get(s) is not None and records[s].result != PENDING
               for s in condition.steps)


_STATE_TESTS: dict[str, Callable[[StepRecord], bool]] = {
    "passed": lambda r: r.result == OK,
    "failed": lambda r: r.result in (FAIL, ERROR),
    "warned": lambda r: r.result == WARN,
    "skipped": lambda r: r.result == SKIP,
    "answered": lambda r: r.result not in (SKIP, PENDING) and r.answer not in (None, ""),
}


def _term_holds(term: Term, rec: StepRecord | None) -> bool:
    if rec is None:
        result = False
    elif term.op in _STATE_TESTS:
        result = _STATE_TESTS[term.op](rec)
    elif rec.result in (SKIP, PENDING) or rec.answer is None:
        result = False
    else:
        result = compare(rec.answer, term.op, term.values)
    return not result if term.negated else result


def compare(answer: Any, op: str, values: tuple[str, ...]) -> bool:
    if op == "in":
        return any(_equal(answer, v) for v in values)
    if op == "==":
        return _equal(answer, values[0])
    if op == "!=":
        return not _equal(answer, values[0])
    left, right = _number(answer), _number(values[0])
    if left is None or right is None:
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right,
            ">=": left >= right}[op]


def _equal(answer: Any, value: str) -> bool:
    if isinstance(answer, bool):
        return answer == (value.lower() in ("yes", "true"))
    left, right = _number(answer), _number(value)
    if left is not None and right is not None:
        return left == right
    return str(answer).strip().casefold() == value.strip().casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def term_problem(term: Term, step: Step) -> str:
    """Why ``term`` can never be meaningful for ``step`` (the loader refuses it), or ""."""
    if term.op in ("passed", "failed", "warned"):
        if not step.can_fail:
            return (f"step {step.id!r} records an answer and never passes or fails: compare "
                    f"its answer instead ({step.id} == ...)")
        return ""
    if term.op in STATES:
        return ""
    if step.kind == "check":
        return f"step {step.id!r} is a check: test it with passed, failed, warned or skipped"
    if term.op in ("<", "<=", ">", ">="):
        if not (step.kind == "input" and step.type == "number"):
            return f"'{term.op}' needs a number step; {step.id!r} is not one"
        if _number(term.values[0]) is None:
            return f"{term.values[0]!r} is not a number"
        return ""
    allowed: tuple[str, ...] = ()
    if step.kind == "confirm":
        allowed = ("yes", "no", "true", "false")
    elif step.kind == "choice":
        allowed = tuple(o.value for o in step.options)
    elif step.kind == "input" and step.type == "choice":
        allowed = step.choices
    for value in term.values:
        if allowed and value.casefold() not in {a.casefold() for a in allowed}:
            return f"step {step.id!r} never answers {value!r} (it answers {', '.join(allowed)})"
    return ""

