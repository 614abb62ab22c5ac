"""The runner against scripted answer sources: back, conditions, verdicts, suggestions, and the
answers template of every built-in as a valid answers file."""

from pathlib import Path

import pytest

from fieldkit.checklists.answers import read_answers
from fieldkit.checklists.loader import BUILTIN_DIR, load, parse
from fieldkit.checklists.model import ChecklistRun, StepRecord
from fieldkit.checklists.report import run_note, summary
from fieldkit.checklists.runner import BACK, FileAnswers, Reply, Runner, pending_mandatory
from fieldkit.checklists.template import answers_template
from fieldkit.errors import InputError

CHECKLIST = {
    "id": "t", "title": "T", "category": "network", "version": 3,
    "steps": [
        {"id": "cable", "kind": "confirm", "title": "Cable?", "expect": True, "tip": "Plug",
         "mandatory": True},
        {"id": "port", "kind": "input", "type": "number", "title": "Port?", "min": 1,
         "max": 65535, "default": 443, "when": "cable == no"},
        {"id": "site", "kind": "input", "type": "host", "title": "Host?", "example": "a.test"},
        {"id": "probe", "kind": "check", "check": "reach", "targets": ["{site}:{port}"],
         "title": "Probe", "tip": "Firewall", "mandatory": True},
        {"id": "mood", "kind": "choice", "title": "Mood?", "options": ["good", "bad"],
         "fail_on": ["bad"], "tip": "Coffee"},
        {"id": "done", "kind": "confirm", "title": "Done?", "mandatory": True,
         "when": "mood == good"},
    ],
    "outcomes": [
        {"when": "probe failed", "impact": "high", "urgency": "high", "level": 2,
         "advice": "Escalate"},
        {"when": "mood failed", "impact": "low", "advice": "Cheer up"},
        {"category": "network", "impact": "medium", "urgency": "low", "level": 1,
         "advice": "Fine"},
    ],
}


def checklist():
    return parse(CHECKLIST, Path("t.toml"))


def new_run():
    c = checklist()
    return ChecklistRun("11111111-2222-3333-4444-555555555555", c,
                        [StepRecord(s.id) for s in c.steps], "2024-01-01T00:00:00Z", "tech",
                        "host")


class Script:
    """Answers from a list; records what the runner showed."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.asked, self.notices = [], []

    def ask(self, run, index):
        self.asked.append(run.checklist.steps[index].id)
        return self.replies.pop(0)

    def skipped(self, run, index):
        pass

    def recorded(self, run, index):
        pass

    def notice(self, text):
        self.notices.append(text)


def fake_check(results):
    calls = []

    def check(step, targets):
        calls.append(targets)
        return [{"check": step.check, "subject": t, "status": results.pop(0), "summary": "s",
                 "data": {}} for t in targets]

    check.calls = calls
    return check


def answer(value):
    return Reply("answer", value)


def test_back_conditions_and_suggestions():
    run, saved = new_run(), []
    source = Script([BACK, answer(True), answer("a.test"), answer("run"), BACK, BACK, BACK,
                     answer(False), answer(8443), answer("b.test"), answer("run"),
                     answer("bad")])
    check = fake_check(["fail"])
    Runner(run, source, check, "tech", lambda r: saved.append(r.position)).execute()
    assert source.notices == ["this is the first step: there is no step before it"]
    # back three times from "mood" returns to "cable"; with cable == no, "port" now applies
    assert source.asked == ["cable", "cable", "site", "probe", "mood", "probe", "site",
                            "cable", "port", "site", "probe", "mood"]
    assert check.calls == [["b.test:8443"]]  # the first probe had no port: nothing to probe
    results = {r.id: (r.result, r.answer) for r in run.records}
    assert results == {"cable": ("fail", False), "port": ("info", 8443),
                       "site": ("info", "b.test"), "probe": ("fail", "run"),
                       "mood": ("fail", "bad"), "done": ("skip", None)}
    assert run.record("done").note == "not relevant (when mood == good)"
    assert run.record("probe").targets == ["b.test:8443"]
    assert run.suggestions == {"impact": "high", "urgency": "high", "level": 2,
                               "advice": "Escalate", "category": "network", "priority": 1,
                               "rules": [1, 2, 3]}
    assert run.status == "completed" and saved[-1] == 6
    assert pending_mandatory(run) == []


def test_a_target_whose_answer_is_missing_is_dropped():
    run = new_run()
    source = Script([answer(True), Reply("skip"), answer("run"), answer("good"),
                     answer(True)])
    check = fake_check([])
    Runner(run, source, check, "tech", lambda r: None).execute()
    probe = run.record("probe")
    assert (probe.result, probe.targets) == ("skip", [])
    assert probe.note == "no target: the step that gives it was skipped or left empty"
    assert check.calls == []


def test_a_check_that_breaks_is_that_steps_error_only():
    def broken(step, targets):
        raise RuntimeError("boom")

    run = new_run()
    Runner(run, Script([answer(True), answer("a.test"), answer(["c.test:1"]), answer("good"),
                        answer(True)]), broken, "tech", lambda r: None).execute()
    probe = run.record("probe")
    assert (probe.result, probe.note) == ("error", "the check failed: RuntimeError: boom")
    assert run.status == "completed"


def test_pending_mandatory_ignores_steps_whose_condition_is_decided_false():
    run = new_run()
    assert pending_mandatory(run) == ["cable", "probe", "done"]
    run.records[0].result, run.records[0].answer = "ok", True
    run.records[4].result, run.records[4].answer = "fail", "bad"
    assert pending_mandatory(run) == ["probe"]  # done: mood == good is decided false


def test_summary_and_note_show_every_step():
    run = new_run()
    Runner(run, Script([answer(False), answer(22), answer("a.test"), answer("run"),
                        answer("good"), answer(True)]), fake_check(["fail"]), "Ann",
           lambda r: None).execute()
    data = summary(run)
    assert [s["result"] for s in data["steps"]] == ["fail", "info", "info", "fail", "ok",
                                                    "info"]
    assert data["steps"][0]["tip"] == "Plug" and data["steps"][3]["problems"] == [
        "reach a.test:22: s"]
    note = run_note(run.to_dict())
    assert 'fieldkit checklist "T" (t v3): completed' in note
    assert " 4/6 [FAIL   ] Probe (reach a.test:22) [Ann, " in note
    assert "        tip: Firewall" in note
    assert "Suggested: category network; impact high, urgency high (P1 critical); escalate " \
           "to level 2" in note


def test_the_run_keeps_its_copy_of_the_checklist():
    run = new_run()
    copy = ChecklistRun.from_dict(run.to_dict())
    assert copy.checklist == run.checklist and copy.records == run.records


@pytest.mark.parametrize("path", sorted(BUILTIN_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_builtins_answers_template_is_a_valid_answers_file(path, tmp_path):
    checklist = load(path, builtin=True)
    file = tmp_path / "answers.toml"
    file.write_text(answers_template(checklist))
    answers = read_answers(file, checklist)
    assert set(answers) == {s.id for s in checklist.steps}
    run = ChecklistRun("x", checklist, [StepRecord(s.id) for s in checklist.steps], "t", "me",
                       "h")
    Runner(run, FileAnswers(answers, "answers.toml"), fake_check(["ok"] * 50), "me",
           lambda r: None).execute()
    assert run.status == "completed" and run.suggestions.get("advice")


@pytest.mark.parametrize(("answers", "words"), [
    ('[answers]\ncable = "maybe"', "step 'cable': answer yes or no"),
    ('[answers]\ncable = true\nprobe = "skip"', "step 'probe' is mandatory and cannot be "
                                                "skipped"),
    ('[answers]\ncable = true\nprobe = "run"\ncabel = true', "no step 'cabel' in t"),
    ('[answers]\ncable = true', "mandatory step(s) not answered: probe, done"),
    ('checklist = "x"\n[answers]', "is for checklist 'x', not 't'"),
    ('version = 2\n[answers]', "is for version 2 of t; it is version 3 now"),
    ('[answers]\ncable = true\nprobe = ["nope"]\ndone = true', "step 'probe': target 'nope'"),
    ('[answers]\nport = 0\ncable = true\nprobe = "run"\ndone = true',
     "step 'port': the number must be at least 1"),
    ("[answers\n", "cannot be read"),
])
def test_answers_files_are_checked_whole_before_the_run(tmp_path, answers, words):
    file = tmp_path / "a.toml"
    file.write_text(answers)
    with pytest.raises(InputError) as caught:
        read_answers(file, checklist())
    assert words in str(caught.value) and str(file) in str(caught.value)
