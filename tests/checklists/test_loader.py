"""Checklist files: every built-in is valid; anything malformed is one clear line naming file,
step and field, at lint or load time - never a traceback, never at step 7 of a run."""

import json
from pathlib import Path

import pytest

from fieldkit.checklists.loader import BUILTIN_DIR

GOOD = """id = "{id}"
title = "Sample"
category = "network"
version = 1

[[steps]]
id = "a"
kind = "confirm"
title = "Cable in?"
expect = true
tip = "Plug it in."

[[steps]]
id = "b"
kind = "input"
type = "host-port"
title = "Which service?"
example = "intranet.example.com:443"

[[steps]]
id = "c"
kind = "check"
check = "reach"
targets = ["{{b}}"]
title = "Reach it"
tip = "Firewall?"
"""

# (label, text to replace, replacement, what the one error line must say)
BROKEN = [
    ("unknown kind", 'kind = "input"', 'kind = "chek"',
     "step 2 (b): kind: 'chek' is not a step kind (check, confirm, input, choice)"),
    ("unknown check", 'check = "reach"', 'check = "dnss"',
     "step 3 (c): check: unknown check 'dnss' (did you mean 'dns'?)"),
    ("misspelt field", 'expect = true', 'mandatroy = true',
     "step 1 (a): mandatroy: unknown field for a confirm step (did you mean 'mandatory'?)"),
    ("later step in when", 'tip = "Plug it in."', 'tip = "Plug it in."\nwhen = "c failed"',
     "step 1 (a): when: 'c' is not an earlier step"),
    ("answer never given", 'title = "Which service?"',
     'title = "Which service?"\nwhen = "a == maybe"',
     "step 2 (b): when: step 'a' never answers 'maybe' (it answers yes, no, true, false)"),
    ("pass/fail of an answer", 'title = "Reach it"', 'title = "Reach it"\nwhen = "b passed"',
     "step 3 (c): when: step 'b' records an answer and never passes or fails"),
    ("condition syntax", 'title = "Reach it"', 'title = "Reach it"\nwhen = "a =="',
     "step 3 (c): when: 'a ==' needs a value"),
    ("check without tip", 'tip = "Firewall?"', '',
     "step 3 (c): tip: a step that can fail needs a tip"),
    ("target without port", 'targets = ["{b}"]', 'targets = ["intranet.example.com"]',
     "step 3 (c): targets: target 'intranet.example.com' has no port: give host:port"),
    ("placeholder of a text input", 'type = "host-port"', 'type = "text"',
     "step 3 (c): targets: '{b}' is an input of type text; a reach target needs type "
     "host-port"),
    ("placeholder of a later step", 'targets = ["{b}"]', 'targets = ["{z}"]',
     "step 3 (c): targets: '{z}' must name an earlier input or choice step"),
    ("targets for an untargeted check", 'check = "reach"', 'check = "dns"',
     "step 3 (c): targets: check 'dns' takes no targets (only reach, http, printer, mail do)"),
    ("invalid example", 'example = "intranet.example.com:443"', 'example = "nope"',
     "step 2 (b): example: 'nope' is not a valid answer: target 'nope' has no port"),
    ("duplicate step id", 'id = "c"', 'id = "a"', "step 3 (a): id: 'a' is used by an earlier step"),
    ("bad pattern", 'type = "host-port"', 'type = "pattern"\npattern = "[a-"',
     "step 2 (b): pattern: not a valid regular expression"),
    ("bad confirm value", 'expect = true', 'expect = "yes"',
     "step 1 (a): expect: must be true (yes) or false (no)"),
    ("unknown top-level key", 'title = "Sample"', 'titel = "Sample"',
     "titel: unknown field (did you mean 'title'?)"),
    ("no version", 'version = 1', '', "version: must be a whole number from 1"),
    ("unknown category", 'category = "network"', 'category = "netwrk"',
     "category: 'netwrk' is not a ticket category"),
    ("mandatory input without a value", 'example = "intranet.example.com:443"',
     'mandatory = true', "step 2 (b): example: a mandatory input needs a default or an example"),
    ("outcome category", 'tip = "Firewall?"',
     'tip = "Firewall?"\n\n[[outcomes]]\nwhen = "c failed"\ncategory = "printers"',
     "outcome 1: category: 'printers' is not a ticket category"),
    ("outcome that suggests nothing", 'tip = "Firewall?"',
     'tip = "Firewall?"\n\n[[outcomes]]\nwhen = "c failed"',
     "outcome 1: when: the rule suggests nothing"),
    ("outcome level", 'tip = "Firewall?"', 'tip = "Firewall?"\n\n[[outcomes]]\nlevel = 4',
     "outcome 1: level: must be 1, 2 or 3"),
    ("invalid TOML", 'title = "Sample"', 'title = "Sample',
     "not valid TOML: "),
]


def write(tmp_path: Path, text: str, name: str = "sample") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_the_good_sample_passes(cli, tmp_path):
    path = write(tmp_path, GOOD.format(id="sample"))
    r = cli("checklist", "lint", str(path))
    assert (r.code, r.out.strip()) == (0, f"{path}: ok (sample v1, 3 steps, 0 outcome rules)")


@pytest.mark.parametrize(("label", "old", "new", "message"), BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_malformed_is_one_line_naming_file_step_and_field(cli, tmp_path, label, old, new,
                                                          message):
    good = GOOD.format(id="sample")
    assert old in good, label
    path = write(tmp_path, good.replace(old, new, 1))
    r = cli("checklist", "lint", str(path))
    assert r.code == 2 and r.out == ""
    assert r.err.startswith(f"fieldkit: error: {path}: ") and message in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err


def test_id_must_match_the_file_name(cli, tmp_path):
    path = write(tmp_path, GOOD.format(id="sample"), name="other")
    r = cli("checklist", "lint", str(path))
    assert r.code == 2 and "id: 'sample' must match the file name (sample.toml, not other.toml)" \
        in r.err


def test_lint_reports_every_file(cli, tmp_path):
    good = write(tmp_path, GOOD.format(id="sample"))
    bad = write(tmp_path, GOOD.format(id="bad").replace('"reach"', '"nope"'), name="bad")
    r = cli("checklist", "lint", str(bad), str(good), str(tmp_path / "missing.toml"))
    assert r.code == 2 and f"{good}: ok" in r.out
    assert len(r.err.strip().splitlines()) == 2 and "missing.toml: no such file" in r.err


def test_every_builtin_passes_lint(cli):
    files = sorted(BUILTIN_DIR.glob("*.toml"))
    assert len(files) >= 8
    r = cli("checklist", "lint", *map(str, files))
    assert r.code == 0, r.err
    assert r.out.count(": ok (") == len(files)


def test_list_shows_the_builtins(cli):
    r = cli("checklist", "list", "--json")
    assert r.code == 0
    found = r.json()
    assert len(found) >= 8 and all(c["builtin"] for c in found)
    assert {"printer", "network", "email", "hardware", "firewall", "phone", "mobile"} <= \
        {c["category"] for c in found}
    for checklist in found:
        assert checklist["steps"] >= 5 and checklist["title"] and checklist["version"] >= 1


def test_a_users_checklist_is_listed_and_wins_over_a_builtin(cli, home):
    mine = home / "checklists"
    mine.mkdir(parents=True)
    write(mine, GOOD.format(id="disk-full").replace('"Sample"', '"Our own disk-full"'),
          name="disk-full")
    write(mine, GOOD.format(id="broken").replace('"confirm"', '"confrim"'), name="broken")
    r = cli("checklist", "list", "--json")
    assert r.code == 0
    by_id = {c["id"]: c for c in r.json()}
    assert by_id["disk-full"]["title"] == "Our own disk-full" and not by_id["disk-full"][
        "builtin"]
    assert "broken" not in by_id
    assert "fieldkit: warning:" in r.err and "broken.toml: step 1 (a): kind" in r.err
    human = cli("checklist", "list").out
    assert "disk-full" in human and "yours" in human


def test_a_broken_checklist_stops_the_run_before_anything_is_recorded(cli, home):
    mine = home / "checklists"
    mine.mkdir(parents=True)
    steps = GOOD.format(id="late").replace('check = "reach"', 'check = "smtp"')
    write(mine, steps, name="late")
    r = cli("checklist", "run", "late", "--new-ticket", "--answers", "/nonexistent.toml")
    assert r.code == 2 and "late.toml: step 3 (c): check: unknown check 'smtp'" in r.err
    assert not (home / "store").exists()  # no ticket, no half run


def test_show_json_is_the_model(cli):
    r = cli("checklist", "show", "printer-not-printing", "--json")
    data = json.loads(r.out)
    assert data["id"] == "printer-not-printing" and data["builtin"]
    assert [s["kind"] for s in data["steps"]][:2] == ["choice", "choice"]
    assert cli("checklist", "show", "nope").code == 3
