"""Statuses against a real RT 5: compare-and-set while an update is on its way, statuses RT
refuses at creation, statuses fieldkit has no word for, queues the sync user cannot use."""

import os
import subprocess

import pytest

from tests.conftest import fieldkit_cmd
from tests.peers.faultproxy import FaultProxy
from tests.sync.conftest import attachments, configure, one_remote

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(synced, home):
    fault = FaultProxy(synced.url)
    configure(home, fault.url)
    yield fault
    fault.stop()


def new_ticket(proc, *args):
    r = proc("ticket", "new", *args, "--json")
    assert r.code == 0, r.err
    return r.json()


def status_changes(rt, remote_id):
    """RT's own record of the ticket's status changes, oldest first: (old, new, by)."""
    res = rt.request("GET", f"/REST/2.0/ticket/{remote_id}/history?per_page=100"
                            "&fields=Type,OldValue,NewValue,Creator")
    return [(t["OldValue"], t["NewValue"], t["Creator"]["id"]) for t in res["items"]
            if t["Type"] == "Status"]


def sync_while_held(proxy, home, method, path, meanwhile):
    """Run `fieldkit sync --json`, hold its request on the way, call ``meanwhile``, let it go."""
    rule = proxy.add(method, path, "hold")
    child = subprocess.Popen([*fieldkit_cmd(), "sync", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**os.environ, "FIELDKIT_HOME": str(home)})
    try:
        assert rule.arrived.wait(60), "the request never came"
        meanwhile()
    finally:
        rule.release()
    out, err = child.communicate(timeout=120)
    return child.returncode, out.decode(), err.decode()


def test_status_changed_in_rt_while_the_update_is_on_its_way(proxy, synced, proc, home):
    import json

    t = new_ticket(proc, "-t", "2nd level takes it over")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    proc("ticket", "resolve", "1", "--solution", "printer driver reinstalled")

    def second_level():
        synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled"})

    code, out, err = sync_while_held(proxy, home, "PUT", r"/tickets/bulk$", second_level)
    assert code == 1, out + err
    report = json.loads(out)
    (conflict,) = report["conflicts"]
    assert (conflict["local"], conflict["remote"]) == ("resolved", "stalled")
    assert one_remote(synced, t["id"])["Status"] == "stalled"  # 2nd level's value stays
    # fieldkit's write landed after 2nd level's and was undone, visibly, in RT's history
    assert status_changes(synced, remote_id) == [("new", "stalled", "root"),
                                                 ("stalled", "resolved", "fieldkit"),
                                                 ("resolved", "stalled", "fieldkit")]
    subjects = " ".join(i["Subject"] or "" for i in attachments(synced, remote_id))
    assert "Resolved:" not in subjects  # no solution while the status is in conflict
    shown = proc("ticket", "show", "1").out
    assert "RT: stalled" in shown and "RT: new" not in shown
    assert "CONFLICT  status: here resolved, server stalled" in shown

    assert proc("sync").code == 1  # still a conflict, still no solution posted
    assert "Resolved:" not in " ".join(i["Subject"] or "" for i in attachments(synced, remote_id))
    assert proc("sync", "resolve", "1", "--keep", "local").code == 0
    assert proc("sync").code == 0
    assert one_remote(synced, t["id"])["Status"] == "resolved"
    subjects = [(i["Subject"] or "").replace("\n", "") for i in attachments(synced, remote_id)]
    assert sum("Resolved: printer driver reinstalled" in s for s in subjects) == 1


def test_keeping_rt_status_withdraws_the_waiting_solution(proxy, synced, proc, home):
    """After `sync resolve --keep remote` the ticket stays stalled in RT: no "Resolved:" there."""
    t = new_ticket(proc, "-t", "2nd level keeps it")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    proc("ticket", "resolve", "1", "--solution", "toner replaced")

    def second_level():
        synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled"})

    code, out, err = sync_while_held(proxy, home, "PUT", r"/tickets/bulk$", second_level)
    assert code == 1, out + err
    assert proc("sync", "resolve", "1", "--keep", "remote").code == 0
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    assert one_remote(synced, t["id"])["Status"] == "stalled"
    assert "Resolved:" not in " ".join(i["Subject"] or "" for i in attachments(synced, remote_id))
    assert proc("ticket", "show", "1", "--json").json()["status"] == "pending"
    assert "solution not posted: the server's status stalled was kept" in proc(
        "ticket", "show", "1").out


def test_an_overwrite_is_found_after_the_history_read_was_lost(proxy, synced, proc, home):
    """fieldkit's update overwrote 2nd level's status, then the history read after it was lost:
    the next sync judges RT's history since the mark stored before the write (re-sending would
    find only fieldkit's own value there and call it clean)."""
    import json

    t = new_ticket(proc, "-t", "history read lost")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    proc("ticket", "resolve", "1", "--solution", "cable swapped")

    def second_level():
        synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled"})
        proxy.add("POST", r"/transactions$", "lost", times=20)  # after the mark: the check

    code, out, err = sync_while_held(proxy, home, "PUT", r"/tickets/bulk$", second_level)
    assert code != 0, out + err
    assert one_remote(synced, t["id"])["Status"] == "resolved"  # overwritten, not yet known
    proxy.clear()
    r = proc("sync", "--json")
    assert r.code == 1, r.out + r.err
    (conflict,) = json.loads(r.out)["conflicts"]
    assert (conflict["local"], conflict["remote"]) == ("resolved", "stalled")
    assert one_remote(synced, t["id"])["Status"] == "stalled"  # 2nd level's value is back
    assert status_changes(synced, remote_id) == [("new", "stalled", "root"),
                                                 ("stalled", "resolved", "fieldkit"),
                                                 ("resolved", "stalled", "fieldkit")]
    assert "Resolved:" not in " ".join(i["Subject"] or "" for i in attachments(synced, remote_id))


def test_a_third_change_met_by_the_put_back_is_reported(proxy, synced, proc, home):
    """The put-back is a plain PUT, too: a change landing while it is on its way is overwritten
    by it, and RT's history says so; fieldkit reports it instead of calling the put-back done."""
    import json
    import threading

    t = new_ticket(proc, "-t", "three hands on it")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    proc("ticket", "resolve", "1", "--solution", "fuser replaced")

    def third(rule):
        assert rule.arrived.wait(60), "the put-back never came"
        synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "open"})
        rule.release()

    def second_level():
        synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled"})
        back = proxy.add("PUT", r"/tickets/bulk$", "hold")
        threading.Thread(target=third, args=(back,), daemon=True).start()

    code, out, err = sync_while_held(proxy, home, "PUT", r"/tickets/bulk$", second_level)
    assert code == 1, out + err
    assert status_changes(synced, remote_id) == [("new", "stalled", "root"),
                                                 ("stalled", "resolved", "fieldkit"),
                                                 ("resolved", "open", "root"),
                                                 ("open", "stalled", "fieldkit")]
    (conflict,) = json.loads(out)["conflicts"]
    assert conflict["remote"] == "stalled"
    assert "putting stalled back met another change in RT" in out + err


def test_status_changed_in_rt_after_the_update_landed(proxy, synced, proc, home):
    """fieldkit's update lands, then 2nd level changes the status before fieldkit re-reads:
    RT's value is the newer one and stays; a conflict, not a refusal and not an overwrite."""
    import json

    t = new_ticket(proc, "-t", "changed right after")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    proc("ticket", "edit", "1", "--status", "in_progress")

    def second_level():
        synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled"})

    proxy.add("POST", r"^/REST/2.0/tickets$", "forward")  # the merge's read goes through
    # and the re-read after the update waits: the update itself has landed by then
    code, out, err = sync_while_held(proxy, home, "POST", r"^/REST/2.0/tickets$", second_level)
    assert code == 1, out + err
    (conflict,) = json.loads(out)["conflicts"]
    assert (conflict["local"], conflict["remote"]) == ("in_progress", "stalled")
    assert json.loads(out)["errors"] == []  # not reported as a refusal
    assert status_changes(synced, remote_id) == [("new", "open", "fieldkit"),
                                                 ("open", "stalled", "root")]
    assert "RT: stalled" in proc("ticket", "show", "1").out


def test_a_local_change_during_a_pull_counts_as_a_conflict_only(proxy, synced, proc, home):
    """2nd level changes the status in RT; while the sync reads it back (the pull decided, not
    yet written) the technician resolves the ticket here: the pull turns into a conflict in the
    store's locked write, and the report counts that one conflict, not also an updated ticket."""
    import json

    t = new_ticket(proc, "-t", "pulled while resolved here")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": "stalled"})

    def technician():
        assert proc("ticket", "resolve", "1", "--solution", "fixed meanwhile").code == 0

    code, out, err = sync_while_held(proxy, home, "POST", r"^/REST/2.0/tickets$", technician)
    assert code == 1, out + err
    report = json.loads(out)
    (conflict,) = report["conflicts"]
    assert (conflict["local"], conflict["remote"]) == ("resolved", "stalled")
    assert report["updated"] == 0, report
    assert proc("ticket", "show", "1", "--json").json()["status"] == "resolved"
    assert one_remote(synced, t["id"])["Status"] == "stalled"


def test_status_update_without_a_race_is_clean(synced, proc, home):
    t = new_ticket(proc, "-t", "plain resolve")
    assert proc("sync").code == 0
    proc("ticket", "resolve", "1", "--solution", "rebooted")
    assert proc("sync").code == 0
    remote = one_remote(synced, t["id"])
    assert remote["Status"] == "resolved"
    assert status_changes(synced, remote["id"]) == [("new", "resolved", "fieldkit")]
    subjects = [i["Subject"] or "" for i in attachments(synced, remote["id"])]
    assert sum("Resolved: rebooted" in s for s in subjects) == 1


def test_pending_before_the_first_sync_arrives_pending(synced, proc, home):
    """RT refuses new tickets in 'stalled': created open, then set stalled in the same sync."""
    t = new_ticket(proc, "-t", "waiting for the customer from the start")
    assert proc("ticket", "edit", "1", "--status", "pending").code == 0
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    assert (r.json()["created"], r.json()["pending"], r.json()["errors"]) == (1, 0, [])
    remote = one_remote(synced, t["id"])
    assert remote["Status"] == "stalled"
    assert status_changes(synced, remote["id"]) == [("open", "stalled", "fieldkit")]
    assert proc("ticket", "show", "1", "--json").json()["status"] == "pending"
    assert "RT: stalled" in proc("ticket", "show", "1").out
    r = proc("sync", "--json")
    assert (r.code, r.json()["updated"]) == (0, 0)  # settled: nothing goes back and forth


@pytest.mark.parametrize("status", ["deleted", "rejected"])
def test_a_status_without_local_word_is_shown(synced, proc, home, status):
    t = new_ticket(proc, "-t", f"{status} by 2nd level")
    assert proc("sync").code == 0
    remote_id = one_remote(synced, t["id"])["id"]
    synced.request("PUT", f"/REST/2.0/ticket/{remote_id}", {"Status": status})
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    shown = proc("ticket", "show", "1").out
    assert f"RT: {status}" in shown and "RT: new" not in shown
    assert f"RT status is {status} (kept there: no local equivalent)" in shown
    assert proc("ticket", "show", "1", "--json").json()["status"] == "new"  # left alone here
    assert proc("sync", "--json").json()["updated"] == 0
    assert synced.request("GET", f"/REST/2.0/ticket/{remote_id}")["Status"] == status


def test_a_move_to_a_hidden_queue_says_which_right_is_missing(synced, proc, home):
    configure(home, synced.url, escalation_queues={"2": "Hidden"})
    t = new_ticket(proc, "-t", "goes to a team we cannot see")
    assert proc("sync").code == 0
    proc("ticket", "escalate", "1", "--level", "2", "--reason", "their printer")
    r = proc("sync", "--json")
    assert r.code == 1
    (error,) = r.json()["errors"]
    message = error["message"]
    assert "Permission Denied" in message
    assert "fieldkit may not see queue 'Hidden'" in message
    assert "SeeQueue" in message and "CreateTicket" in message
    remote = one_remote(synced, t["id"])
    assert synced.request("GET", f"/REST/2.0/queue/{remote['Queue']['id']}")["Name"] == "General"
    subjects = " ".join((i["Subject"] or "").replace("\n", "")
                        for i in attachments(synced, remote["id"]))
    assert "Escalated from level 1 to level 2: their printer" in subjects  # the note went

