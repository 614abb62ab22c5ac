"""fieldkit sync against a real Request Tracker 5: mapping, exactly-once, server changes."""

import json

import pytest

from fieldkit.tickets.store import TicketStore
from tests.sync.conftest import (
    assert_exactly_once,
    attachments,
    configure,
    content,
    one_remote,
)

pytestmark = pytest.mark.integration


def new_ticket(proc, *args):
    r = proc("ticket", "new", *args, "--json")
    assert r.code == 0, r.err
    return r.json()


def test_full_mapping(synced, proc, home):
    rt = synced
    t = new_ticket(proc, "-t", "Outlook cannot send", "-d", "since 9:00, error 0x800CCC0F",
                   "--site", "ACME Berlin", "--requester", "Ann Smith", "--contact",
                   "ann@acme.test", "--category", "email", "--impact", "high", "--urgency",
                   "medium", "--asset", "PC-042", "--diag")
    proc("ticket", "note", "1", "recreated the mail profile", "--minutes", "20")
    proc("ticket", "note", "1", "tested with webmail", "--minutes", "5")
    proc("ticket", "resolve", "1", "--solution", "quota raised")
    r = proc("sync", "--json")
    assert r.code == 0, r.err + r.out
    assert r.json() == {"created": 1, "updated": 0, "failed": 0, "pending": 0, "errors": [],
                        "conflicts": [], "fatal": None, "restored": [], "merged": []}

    remote = one_remote(rt, t["id"])
    assert remote["Subject"] == "Outlook cannot send"
    assert remote["Status"] == "resolved"
    assert int(remote["Priority"]) == 70  # P2
    assert int(remote["TimeWorked"]) == 25
    assert [r["id"] for r in remote["Requestor"]] == ["ann@acme.test"]
    fields = {cf["name"]: cf["values"] for cf in remote["CustomFields"]}
    assert fields == {"FieldkitID": [t["id"]], "Category": ["email"], "Site": ["ACME Berlin"],
                      "SupportLevel": ["1"]}

    items = attachments(rt, remote["id"])
    first = content(rt, items[0]["id"]).decode()
    for fragment in ("since 9:00", "Requester: Ann Smith", "Site: ACME Berlin",
                     "Asset: PC-042", "P2 high", "FK-1"):
        assert fragment in first
    store = TicketStore.at_home(home)
    ticket = store.get("1")
    run_id = ticket.diag_runs[0]["id"]
    (json_item,) = [i for i in items if i["Filename"] == f"fieldkit-diag-{run_id}.json"]
    assert json.loads(content(rt, json_item["id"])) == store.load_run(run_id)
    subjects = " ".join((i["Subject"] or "").replace("\n", "") for i in items)
    assert "recreated the mail profile" in subjects and "Resolved: quota raised" in subjects
    assert_exactly_once(rt, store)

    shown = proc("ticket", "show", "1", "--json").json()
    assert shown["remote"]["id"] == str(remote["id"])
    assert shown["remote"]["url"].endswith(f"/Ticket/Display.html?id={remote['id']}")
    assert f"#{remote['id']}" in proc("ticket", "show", "1").out


def test_rerun_creates_nothing_new(synced, proc, home):
    new_ticket(proc, "-t", "rerun")
    proc("ticket", "note", "1", "a note", "-m", "3")
    assert proc("sync").code == 0
    r = proc("sync", "--json")
    assert (r.code, r.json()["created"], r.json()["updated"]) == (0, 0, 0)
    assert_exactly_once(synced, TicketStore.at_home(home))
    assert proc("sync", "--dry-run").out.strip() == "nothing to sync"


def test_escalation_note_and_queue(synced, proc, home):
    configure(home, synced.url, escalation_queues={"2": "Escalations"})
    t = new_ticket(proc, "-t", "server room too hot", "--category", "server")
    assert proc("sync").code == 0
    proc("ticket", "escalate", "1", "--level", "2", "--reason", "aircon vendor needed")
    r = proc("sync", "--json")
    assert (r.code, r.json()["updated"]) == (0, 1), r.out
    remote = one_remote(synced, t["id"])
    queue = synced.request("GET", f"/REST/2.0/queue/{remote['Queue']['id']}")
    assert queue["Name"] == "Escalations"
    subjects = " ".join((i["Subject"] or "") for i in attachments(synced, remote["id"]))
    assert "Escalated from" in subjects
    assert_exactly_once(synced, TicketStore.at_home(home))


def test_edits_reach_the_server(synced, proc, home):
    t = new_ticket(proc, "-t", "old title", "--impact", "low", "--urgency", "low")
    assert proc("sync").code == 0
    proc("ticket", "edit", "1", "--title", "new title", "--impact", "high", "--urgency", "high",
         "--asset", "PC-7")
    assert proc("sync").code == 0
    remote = one_remote(synced, t["id"])
    assert (remote["Subject"], int(remote["Priority"])) == ("new title", 90)
    details = [i for i in attachments(synced, remote["id"])
               if "Details changed" in (i["Subject"] or "")]
    assert len(details) == 1


def test_server_side_changes_come_back(synced, proc, home):
    t = new_ticket(proc, "-t", "waiting for parts")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled",
                                                            "Owner": "fieldkit"})
    r = proc("sync", "--json")
    assert r.code == 0 and r.json()["updated"] == 1
    local = proc("ticket", "show", "1", "--json").json()
    assert local["status"] == "pending"
    assert local["remote"]["owner"] == "fieldkit"
    assert "(owner fieldkit)" in proc("ticket", "show", "1").out
    assert proc("sync", "--json").json()["updated"] == 0  # nothing changed since


def test_conflict_is_shown_and_resolved(synced, proc, home):
    t = new_ticket(proc, "-t", "both sides change")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    proc("ticket", "resolve", "1", "--solution", "fixed locally")
    synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled"})
    r = proc("sync", "--json")
    assert r.code == 1
    (conflict,) = r.json()["conflicts"]
    assert (conflict["local"], conflict["remote"]) == ("resolved", "stalled")
    assert one_remote(synced, t["id"])["Status"] == "stalled"  # nothing silently overwritten
    status = proc("sync", "status", "--json").json()
    assert status["conflicts"][0]["ref"] == "FK-1"
    assert "CONFLICT  status: here resolved, server stalled" in proc("ticket", "show", "1").out
    assert proc("sync", "resolve", "1", "--keep", "local").code == 0
    assert proc("sync").code == 0
    assert one_remote(synced, t["id"])["Status"] == "resolved"


def test_conflict_keep_remote(synced, proc, home):
    t = new_ticket(proc, "-t", "keep theirs")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    proc("ticket", "edit", "1", "--status", "pending")
    synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "resolved"})
    assert proc("sync").code == 1
    assert proc("sync", "resolve", "FK-1", "--keep", "remote").code == 0
    assert proc("ticket", "show", "1", "--json").json()["status"] == "resolved"
    assert proc("sync").code == 0
    assert one_remote(synced, t["id"])["Status"] == "resolved"


def test_token_auth(home, rt, proc, monkeypatch):
    monkeypatch.setenv("FIELDKIT_SYNC_TOKEN", rt.token)
    configure(home, rt.url)
    t = new_ticket(proc, "-t", "via token")
    assert proc("sync").code == 0
    one_remote(rt, t["id"])


def test_no_backend_configured(proc):
    r = proc("sync")
    assert r.code == 5 and "no sync backend configured" in r.err
    assert proc("sync", "--dry-run").code == 0  # offline planning needs no server


def test_progress_bar_on_a_terminal(synced, proc, home):
    import os
    import pty
    import subprocess

    from tests.conftest import fieldkit_cmd

    for i in range(3):
        new_ticket(proc, "-t", f"progress {i}")
    main, secondary = pty.openpty()
    try:
        done = subprocess.run([*fieldkit_cmd(), "sync"], stdin=secondary, stdout=subprocess.PIPE,
                              stderr=secondary, env={**os.environ, "FIELDKIT_HOME": str(home)},
                              timeout=120)
        os.close(secondary)
        secondary = None
        shown = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
        if secondary is not None:
            os.close(secondary)
    assert done.returncode == 0
    assert b"3/3" in shown and b"FK-" in shown
    assert b"3 created" in done.stdout


def test_attached_files_reach_rt_once_with_matching_sha256(synced, proc, home, tmp_path):
    import hashlib

    log = tmp_path / "outlook.log"
    log.write_bytes(b"".join(b"%06d 0x800CCC0F cannot connect to smtp\n" % i
                             for i in range(125000)))  # 5 MB of log
    t = new_ticket(proc, "-t", "Outlook cannot send")
    r = proc("ticket", "attach", "1", str(log), "--json")
    assert r.code == 0, r.err
    proc("ticket", "attach", "1", "-", "--name", "ipconfig.txt", input=b"IPv4 10.0.0.7\n")
    assert proc("sync").code == 0
    assert proc("sync", "--json").json()["updated"] == 0  # a re-run adds nothing
    remote = one_remote(synced, t["id"])
    items = attachments(synced, remote["id"])
    (logs,) = [i for i in items if i["Filename"] == "outlook.log"]
    assert hashlib.sha256(content(synced, logs["id"])).hexdigest() == \
        hashlib.sha256(log.read_bytes()).hexdigest()
    assert [i["Filename"] for i in items].count("ipconfig.txt") == 1
    assert_exactly_once(synced, TicketStore.at_home(home))
