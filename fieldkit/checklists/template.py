"""The answers template: a ready answers file, every step answered with its default.

Written as TOML with each step's question, kind and accepted values in a comment above it, so a
technician (or a script preparing a rollout) copies it, edits what differs and runs it with
``--answers``. ``read_answers`` accepts it unchanged: the loader already refused any checklist
whose defaults or examples are not valid answers.
"""

from __future__ import annotations

import json
from typing import Any

from fieldkit.checklists.answers import default_answer
from fieldkit.checklists.checks import target_kind
from fieldkit.checklists.model import Checklist, Step


def answers_template(checklist: Checklist) -> str:
    lines = [
        f"# Answers for fieldkit checklist {checklist.id} (version {checklist.version}): "
        f"{checklist.title}",
        f"# Edit the values, then: fieldkit checklist run {checklist.id} --answers FILE "
        "[--ticket REF | --new-ticket]",
        "# Every step is answered with its default. A step left out is skipped (mandatory "
        "steps must stay).",
        f"checklist = {_toml(checklist.id)}",
        f"version = {checklist.version}",
        "",
        "[answers]",
    ]
    total = len(checklist.steps)
    for n, step in enumerate(checklist.steps, 1):
        flags = ", mandatory" if step.mandatory else ""
        lines.append(f"# {n}/{total} {_kind(step)}{flags}: {_one_line(step.title)}")
        if step.when:
            lines.append(f"#   only when: {step.when}")
        lines.append(f"#   {_accepts(step)}")
        lines.append(f"{_key(step.id)} = {_toml(default_answer(step))}")
    return "\n".join(lines) + "\n"


def _kind(step: Step) -> str:
    if step.kind == "check":
        return f"check {step.check}"
    if step.kind == "input":
        return f"input ({step.type})"
    return step.kind


def _accepts(step: Step) -> str:
    if step.kind == "confirm":
        return "true (yes) or false (no)" + (f"; expected: {'yes' if step.expect else 'no'}"
                                             if step.expect is not None else "")
    if step.kind == "choice":
        return "one of: " + ", ".join(f"{o.value} ({_one_line(o.label)})"
                                      if o.label != o.value else o.value for o in step.options)
    if step.kind == "check":
        targets = f" (targets: {', '.join(step.targets)})" if step.targets else ""
        other = ', or a list of targets to use instead' if target_kind(step.check) else ""
        return f'"run"{targets}, "skip"{other}'
    if step.type == "choice":
        return "one of: " + ", ".join(step.choices)
    if step.type == "number":
        bounds = [f">= {step.min:g}" if step.min is not None else "",
                  f"<= {step.max:g}" if step.max is not None else ""]
        return "a number " + " ".join(b for b in bounds if b)
    if step.type == "pattern":
        return f"text matching {step.pattern}"
    from fieldkit.diagnostics import kinds

    kind = kinds.for_input_type(step.type)
    if kind is not None:
        return kind.input_words
    return {"text": "text", "email": "an e-mail address", "host": "a host name or IP address"
            }[step.type]


def _key(step_id: str) -> str:
    return step_id  # step ids are [a-z0-9-]: bare TOML keys


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def _one_line(text: str) -> str:
    return " ".join(text.split())
