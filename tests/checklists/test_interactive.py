"""The interactive mode on a real terminal: answer, go back, abort with Ctrl-C, resume."""

import json

import pytest

from tests.checklists.pty import Terminal

DESK = """id = "desk-check"
title = "Desk check"
category = "hardware"
version = 1

[[steps]]
id = "powered"
kind = "confirm"
title = "Is the monitor on?"
expect = true
mandatory = true
tip = "Switch the monitor on at its own button."

[[steps]]
id = "monitors"
kind = "input"
type = "number"
title = "How many monitors?"
min = 1
max = 4
default = 1

[[steps]]
id = "dock"
kind = "choice"
title = "Which docking station?"
options = ["usb-c", "thunderbolt", "none"]

[[steps]]
id = "disk"
kind = "check"
check = "disk.usage"
title = "Disk space"
tip = "Free some space."

[[steps]]
id = "happy"
kind = "confirm"
ask = "user"
title = "Is the user happy with the desk?"
expect = true
mandatory = true
tip = "Ask what is missing."

[[outcomes]]
when = "powered failed"
impact = "low"
urgency = "high"
level = 1
advice = "The monitor was off."
"""


@pytest.fixture
def desk(home):
    (home / "checklists").mkdir(parents=True)
    path = home / "checklists" / "desk-check.toml"
    path.write_text(DESK)
    (home / "config.toml").write_text('[technician]\nname = "Pat Tty"\n')
    return path


def test_answer_back_abort_resume(desk, home, proc):
    t = Terminal(home, "checklist", "run", "desk-check", "--new-ticket")
    t.expect(r"Desk check \(desk-check v1\) - FK-1")
    t.expect(r"< = back one step")
    t.expect(r"step 1/5 \(mandatory\)  Is the monitor on\?\n  yes/no \[yes\]: ")
    t.line("yes")
    t.expect(r"step 2/5  How many monitors\?\n  number \(min 1, max 4\) \[1\]: ")
    t.line("many")
    t.expect(r"answer with a number")
    t.line("9")
    t.expect(r"the number must be at most 4")
    t.line("<")  # back one step: the monitor question again
    t.expect(r"step 1/5 \(mandatory\)  Is the monitor on\?")
    t.line("no")
    t.expect(r"-> FAIL\n  tip: Switch the monitor on at its own button.")
    t.expect(r"step 2/5  How many monitors\?")
    t.line("")  # Enter: the default
    t.expect(r"step 3/5  Which docking station\?\n    1\) usb-c\n    2\) thunderbolt")
    t.send("\x03")  # Ctrl-C
    assert t.wait() == 130
    assert "the checklist run is saved at step 3/5; continue with 'fieldkit checklist " \
           "resume FK-1'" in t.output

    shown = proc("ticket", "show", "1", "--json").json()
    (run,) = shown["checklist_runs"]
    assert run["status"] == "in_progress"
    assert [(s["id"], s["result"], s["answer"]) for s in run["steps"]] == [
        ("powered", "fail", "no"), ("monitors", "info", "1"), ("dock", "pending", ""),
        ("disk", "pending", ""), ("happy", "pending", "")]
    assert run["steps"][0]["by"] == "Pat Tty" and run["pending_mandatory"] == ["happy"]
    r = proc("ticket", "resolve", "1", "--solution", "switched on")
    assert r.code == 2 and "mandatory steps not done (desk-check: happy)" in r.err

    # the template changes meanwhile; the run goes on with the copy it started with
    desk.write_text(DESK.replace("Which docking station?", "Which dock (new wording)?")
                    .replace("version = 1", "version = 2"))
    t = Terminal(home, "checklist", "resume")
    t.expect(r"Continuing at step 3/5\.")
    t.expect(r"step 3/5  Which docking station\?")
    t.line("2")
    t.expect(r"step 4/5  Disk space\n  runs: disk.usage\n  Enter = run, - = skip: ")
    t.line("")
    t.expect(r"disk.usage /")
    t.expect(r"step 5/5 \(mandatory\)  Ask the user: Is the user happy with the desk\?")
    t.line("-")
    t.expect(r"this step is mandatory and cannot be skipped")
    t.line("y")
    t.expect(r"Desk check \(desk-check v1\) on FK-1: completed")
    t.expect(r"Suggested: impact low, urgency high \(P3 medium\); stay at level 1")
    assert t.wait() == 0
    assert "new wording" not in t.output

    ticket = proc("ticket", "show", "1", "--json").json()
    (run,) = ticket["checklist_runs"]
    assert run["status"] == "completed" and run["version"] == 1
    assert [(s["result"], s["answer"]) for s in run["steps"]][:3] == [
        ("fail", "no"), ("info", "1"), ("info", "thunderbolt")]
    assert run["steps"][3]["result"] in ("ok", "warn", "fail")  # this machine's real disks
    assert run["steps"][4] | {"at": ""} == run["steps"][4] | {
        "at": "", "result": "ok", "answer": "yes", "asked": "user", "by": "Pat Tty"}
    assert (ticket["impact"], ticket["urgency"]) == ("low", "high")  # applied: new ticket
    human = proc("ticket", "show", "1").out
    assert "checklist desk-check v1 \"Desk check\": completed, Pat Tty" in human
    assert "Which docking station? -> thunderbolt" in human
    assert proc("ticket", "resolve", "1", "--solution", "switched on").code == 0
    assert proc("checklist", "resume").code == 3  # nothing left to resume


def test_end_of_input_keeps_the_run(desk, home, proc):
    t = Terminal(home, "checklist", "run", "desk-check")
    t.expect(r"no ticket")
    t.expect(r"yes/no \[yes\]: ")
    t.line("yes")
    t.expect(r"\[1\]: ")
    t.send("\x04")  # Ctrl-D: end of input
    assert t.wait() == 130
    assert "input ended: the checklist run is saved at step 2/5" in t.output
    r = proc("checklist", "resume", "--answers", str(desk), "--json")
    assert r.code == 2 and "unknown key 'category'" in r.err  # a checklist is no answers file
    (home / "rest.toml").write_text('checklist = "desk-check"\n[answers]\nhappy = true\n'
                                    'dock = "none"\n')
    r = proc("checklist", "resume", "--answers", str(home / "rest.toml"), "--json")
    assert r.code == 0, r.err
    run = json.loads(r.out)
    assert [s["result"] for s in run["steps"]] == ["ok", "skip", "info", "skip", "ok"]
    assert run["steps"][1]["note"] == "not answered in rest.toml"
    assert run["ticket"] is None
