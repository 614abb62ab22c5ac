"""`fieldkit checklist` without a terminal: answers files, tickets, resume, exit codes."""

import json
import os

from fieldkit.checklists import session
from fieldkit.checklists.loader import find
from fieldkit.tickets.store import TicketStore

DISK_ANSWERS = """checklist = "disk-full"
[answers]
usage = "run"
where = "system"
cleanup = false
health = "skip"
usage-after = "run"
enough = false
"""


def answers(home, text=DISK_ANSWERS):
    home.mkdir(parents=True, exist_ok=True)
    path = home / "answers.toml"
    path.write_text(text)
    return str(path)


def test_no_terminal_and_no_answers_is_refused(cli):
    r = cli("checklist", "run", "disk-full")
    assert r.code == 2
    assert "no terminal to ask the questions on: give --answers FILE (make one with " \
           "'fieldkit checklist show disk-full --answers-template')" in r.err


def test_usage_errors(cli, home):
    file = answers(home)
    assert cli("checklist", "run", "nope", "--answers", file).code == 3
    r = cli("checklist", "run", "disk-full", "--answers", file, "--ticket", "1", "--new-ticket")
    assert r.code == 2 and "not both" in r.err
    assert cli("checklist", "run", "disk-full", "--answers", file, "--ticket", "FK-9").code == 3
    cli("ticket", "new", "-t", "done already")
    cli("ticket", "resolve", "1", "--solution", "x")
    r = cli("checklist", "run", "disk-full", "--answers", file, "--ticket", "FK-1")
    assert r.code == 2 and "FK-1 is resolved; reopen it" in r.err
    r = cli("checklist", "run", "disk-full", "--answers", answers(home, "[answers]\nusage = 3"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "answers file" in r.err and "step 'usage': answer 'run' or 'skip'" in r.err
    assert TicketStore.at_home(home).checklist_run_ids() == []  # nothing started


def test_run_on_a_ticket_stores_the_whole_run(cli, home):
    cli("ticket", "new", "-t", "Disk full on PC-042")
    r = cli("checklist", "run", "disk-full", "--ticket", "FK-1", "--answers", answers(home))
    assert r.code == 0, r.err
    assert "Disk full (disk-full v1) on FK-1: completed" in r.out
    assert "Suggested: category software; impact medium, urgency medium (P3 medium); escalate " \
           "to level 2" in r.out
    assert "To apply: fieldkit ticket edit FK-1 --category software --impact medium " \
           "--urgency medium" in r.out

    store = TicketStore.at_home(home)
    ticket = store.get("1")
    assert (ticket.category, ticket.status) == ("other", "in_progress")  # suggested, not set
    (summary,) = ticket.checklist_runs
    path = store.checklist_runs_dir / f"{summary['id']}.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(store.checklist_runs_dir.stat().st_mode & 0o777) == "0o700"
    run = json.loads(path.read_text())
    assert run["schema"] == "fieldkit.checklist-run/1" and run["status"] == "completed"
    assert run["checklist"] == json.loads(json.dumps(find("disk-full", home).to_dict()))
    assert run["ticket"] == {"id": ticket.id, "ref": "FK-1", "created": False}
    by_id = {s["id"]: s for s in run["steps"]}
    assert by_id["usage"]["findings"] and by_id["usage"]["result"] in ("ok", "warn", "fail")
    assert by_id["health"]["result"] == "skip" and by_id["health"]["note"] == \
        "skipped by the technician"
    assert by_id["cleanup"]["result"] == "fail" and by_id["cleanup"]["by"]
    assert by_id["cloud"]["note"] == "not relevant (when where in [user-data, mail-archive])"
    outbox = store.outbox()[ticket.id]
    assert [e["kind"] for e in outbox].count("checklist_run") == 1
    assert [e["event_id"] for e in outbox if e["kind"] == "checklist_run"] == [run["id"]]

    shown = cli("ticket", "show", "1").out
    assert "checklist disk-full v1 \"Disk full\": completed" in shown
    assert "fail    Emptied recycle bin / trash, temporary files and old downlo… -> no  [" \
           in shown
    assert "tip: Use the system's own tools" in shown
    assert "suggested: category software" in shown


def test_unattached_run_and_resume_by_ref_or_id(cli, home):
    store = TicketStore.at_home(home)
    cli("ticket", "new", "-t", "one")
    cli("ticket", "new", "-t", "two")
    first = session.start(store, find("disk-full", home), "Ann", ticket_key="FK-1")
    second = session.start(store, find("disk-full", home), "Ann", ticket_key="FK-2")
    alone = session.start(store, find("slow-computer", home), "Ann")
    assert [r.id for r in session.unfinished(store)] == [alone.id, second.id, first.id]
    file = answers(home)
    r = cli("checklist", "resume", "FK-1", "--answers", file, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["id"] == first.id
    r = cli("checklist", "resume", second.id[:8], "--answers", file, "--json")
    assert json.loads(r.out)["id"] == second.id
    assert cli("checklist", "resume", "FK-1", "--answers", file).code == 3
    assert [r.id for r in session.unfinished(store)] == [alone.id]
    r = cli("checklist", "resume", "--answers", answers(home, '[answers]\nrestarted = true\n'
                                                             'since = "today"\ncpu = "run"\n'
                                                             'memory = "run"\n'
                                                             'disk-space = "run"\n'))
    assert r.code == 0 and "(no ticket: not recorded for sync)" in r.out
    assert session.unfinished(store) == []


def test_a_run_ended_by_resolve_cannot_be_resumed(cli, home):
    store = TicketStore.at_home(home)
    cli("ticket", "new", "-t", "one")
    session.start(store, find("disk-full", home), "Ann", ticket_key="FK-1")
    assert cli("ticket", "resolve", "1", "--solution", "x", "--force").code == 0
    r = cli("checklist", "resume", "FK-1", "--answers", answers(home))
    assert r.code == 3 and "no unfinished checklist run for FK-1" in r.err


def test_new_ticket_takes_the_suggestions(cli, home):
    r = cli("checklist", "run", "disk-full", "--new-ticket", "--answers", answers(home),
            "--json")
    assert r.code == 0
    assert json.loads(r.out)["ticket"]["created"] is True
    ticket = cli("ticket", "show", "1", "--json").json()
    assert (ticket["title"], ticket["category"], ticket["impact"], ticket["urgency"]) == (
        "Disk full", "software", "medium", "medium")
    assert ticket["level"] == 1  # escalating stays a person's decision


def test_answers_template_runs_unchanged(cli, home):
    template = cli("checklist", "show", "slow-computer", "--answers-template").out
    r = cli("checklist", "run", "slow-computer", "--answers", answers(home, template), "--json")
    assert r.code == 0, r.err
    run = json.loads(r.out)
    assert run["status"] == "completed"
    assert {s["id"] for s in run["steps"] if s["result"] == "pending"} == set()


def test_answers_file_in_json(cli, home):
    data = {"checklist": "disk-full", "version": 1,
            "answers": {"usage": "run", "where": "unknown", "usage-after": "skip",
                        "enough": True}}
    path = home / "answers.json"
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    r = cli("checklist", "run", "disk-full", "--answers", str(path), "--json")
    assert r.code == 2 and "step 'usage-after' is mandatory and cannot be skipped" in r.err
    data["answers"]["usage-after"] = "run"
    path.write_text(json.dumps(data))
    r = cli("checklist", "run", "disk-full", "--answers", str(path), "--json")
    assert r.code == 0, r.err
    results = {s["id"]: s["result"] for s in json.loads(r.out)["steps"]}
    assert results["enough"] == "ok" and results["cleanup"] == "skip"


def test_technician_defaults_to_the_login_name(cli, home, monkeypatch):
    monkeypatch.setenv("LOGNAME", "tech-login")
    monkeypatch.setenv("USER", "tech-login")
    r = cli("checklist", "run", "disk-full", "--answers", answers(home), "--json")
    assert {s["by"] for s in json.loads(r.out)["steps"] if s["by"]} == {"tech-login"}
    (home / "config.toml").write_text('[technician]\nname = "Ann Example"\n')
    r = cli("checklist", "run", "disk-full", "--answers", answers(home), "--json")
    assert json.loads(r.out)["technician"] == "Ann Example"
    assert os.environ["LOGNAME"] == "tech-login"
