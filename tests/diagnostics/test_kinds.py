"""Targeted kinds are declared once: every reader (jobs, checklists, CLI) takes them from
``fieldkit.diagnostics.kinds``, and a new declaration is enough for a job to run."""

import importlib

import pytest

from fieldkit.checklists.model import BASIC_INPUT_TYPES, input_types
from fieldkit.diagnostics import kinds
from fieldkit.diagnostics.jobs import Job, run_job
from fieldkit.diagnostics.kinds import Option, TargetedKind, timeout_option
from fieldkit.diagnostics.model import Finding, Status
from fieldkit.errors import InputError


def test_the_declared_kinds_and_their_functions_resolve():
    assert kinds.names() == ("reach", "http", "printer", "mail")
    for kind in kinds.all_kinds():
        for ref in filter(None, (kind.parse, kind.run, kind.expand, kind.check_here)):
            module, _, name = ref.partition(":")
            assert callable(getattr(importlib.import_module(module), name)), ref
        assert kind.input_type not in BASIC_INPUT_TYPES
    assert input_types() == (*BASIC_INPUT_TYPES, "host-port", "url", "printer", "mail")
    assert [k.timeout_s for k in kinds.all_kinds()] == [3.0, 5.0, None, 5.0]


def echo(job, context, password):
    loud = bool(job.options.get("loud"))
    return [Finding("echo", t, Status.OK, f"{t} within {job.timeout:g} s, loud={loud}")
            for t in job.targets]


def parse_echo(text):
    if not text.isalpha():
        raise InputError(f"{text!r}: letters only")


@pytest.fixture
def echo_kind(monkeypatch):
    kind = TargetedKind("echo", "Say it back.", "", "WORD...", "a word",
                        parse=f"{__name__}:parse_echo", run=f"{__name__}:echo",
                        input_type="word", input_words="a word",
                        options=(timeout_option(2.0, "Seconds."),
                                 Option("loud", ("--loud",), "Shout.", type="flag")))
    kinds.all_kinds()
    monkeypatch.setitem(kinds._KINDS, "echo", kind)
    return kind


def test_a_new_declaration_is_a_job_that_validates_runs_and_travels(echo_kind):
    job = Job("echo", targets=["hello"], options={"loud": True})
    job.validate()
    assert job.argv() == ["diag", "echo", "--json", "--loud", "--", "hello"]
    assert Job.from_dict(job.to_dict()) == job
    (found,) = run_job(job).findings
    assert found.summary == "hello within 2 s, loud=True"  # the kind's default timeout
    with pytest.raises(InputError, match="letters only"):
        Job("echo", targets=["h3llo"]).validate()
    assert kinds.for_input_type("word") is echo_kind
