"""The ``when`` language: parsing, precedence, and what a skipped or pending step means."""

import pytest

from fieldkit.checklists.conditions import ConditionError, decided, holds, parse
from fieldkit.checklists.model import StepRecord


def rec(step_id, result, answer=None):
    return StepRecord(step_id, result=result, answer=answer)


RECORDS = {r.id: r for r in [
    rec("cable", "ok", True), rec("os", "info", "windows"), rec("free", "info", 3.5),
    rec("reach", "fail"), rec("dns", "error"), rec("gw", "warn"), rec("opt", "skip"),
    rec("later", "pending"), rec("name", "info", "Ann Smith"), rec("empty", "skip", ""),
]}

CASES = [
    ("cable == yes", True), ("cable == no", False), ("cable != no", True),
    ("cable == true", True), ("os == Windows", True), ("os in [macos, windows]", True),
    ("os in [macos, linux]", False), ("free < 5", True), ("free >= 3.5", True),
    ("free > 10", False), ("reach failed", True), ("dns failed", True),
    ("reach passed", False), ("cable passed", True), ("gw warned", True),
    ("opt skipped", True), ("opt == yes", False), ("opt != yes", False),
    ("later == x", False), ("not later == x", True), ("name answered", True),
    ("empty answered", False), ("name == 'Ann Smith'", True),
    ("cable == no and os == windows or reach failed", True),
    ("cable == yes and reach passed or dns passed", False),
    ("not cable == yes or free < 1", False), ("os == windows and free < 5 and gw warned", True),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_evaluation(text, expected):
    assert holds(parse(text), RECORDS) is expected


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty condition"), ("cable", "needs a test"), ("cable ==", "needs a value"),
    ("cable is yes", "unknown test 'is'"), ("cable == yes and", "ends where a step id"),
    ("cable == yes also os == x", "expected 'and' or 'or'"), ("os in windows", "needs a list"),
    ("os in [windows", "closing ']'"), ("Cable == yes", "'Cable' is not a step id"),
])
def test_parse_errors_say_what_is_wrong(text, words):
    with pytest.raises(ConditionError, match=words.replace("[", r"\[").replace("(", r"\(")):
        parse(text)


def test_decided_needs_every_named_step_answered():
    assert decided(parse("cable == yes and os == windows"), RECORDS)
    assert not decided(parse("cable == yes or later == x"), RECORDS)
    assert parse("a == b or c passed and not d skipped").steps == {"a", "c", "d"}
