"""A store put back from a backup sends nothing twice: every note, attachment and solution
once, TimeWorked exact, and the sync says the store is older than RT.

Read back as RT's root with plain REST2 queries (tests/sync/conftest.py), not through fieldkit.
"""

import shutil

import pytest

from fieldkit.tickets.store import TicketStore
from tests.sync.conftest import MARKER, attachments, event_counts

pytestmark = pytest.mark.integration


def work(proc, tmp_path, ref, tag):
    """A note with minutes, an attachment and a resolve with its solution on one ticket."""
    assert proc("ticket", "note", ref, f"{tag} note", "-m", "7").code == 0
    log = tmp_path / f"{tag}-{ref}.log"
    log.write_text(f"log of {tag}\n")
    assert proc("ticket", "attach", ref, str(log)).code == 0


def live_by_marker(rt, client_id):
    """RT tickets (not merged) whose first message carries the ticket's own marker."""
    found = rt.search(f"Subject LIKE 'restore {client_id[:8]}'")
    return [t for t in found if t["Status"] not in ("deleted", "rejected")]


def check_once(rt, store):
    for ticket in store.list():
        found = live_by_marker(rt, ticket.id)
        assert len(found) == 1, f"{ticket.ref}: {len(found)} RT tickets"
        remote_id = found[0]["id"]
        counts = event_counts(rt, remote_id)
        assert counts and all(n == 1 for n in counts.values()), (ticket.ref, counts)
        expected = {e["id"] for e in ticket.worklog + ticket.attachments}
        assert expected <= set(counts), (ticket.ref, expected - set(counts))
        subjects = [i.get("Subject") or "" for i in attachments(rt, remote_id)]
        solutions = sum("Resolved:" in s and MARKER.search(s) is not None for s in subjects)
        assert solutions == (1 if ticket.status == "resolved" else 0), ticket.ref
        files = [i for i in attachments(rt, remote_id) if (i.get("Filename") or "")
                 .endswith(".log")]
        assert len(files) == len(ticket.attachments), ticket.ref
        remote = rt.request("GET", f"/REST/2.0/ticket/{remote_id}")
        minutes = sum(n["minutes"] for n in ticket.worklog)
        assert int(remote["TimeWorked"]) == minutes, ticket.ref


def titled(proc, count):
    refs = []
    for _ in range(count):
        r = proc("ticket", "new", "-t", "placeholder", "--json")
        assert r.code == 0, r.err
        t = r.json()
        assert proc("ticket", "edit", t["ref"], "--title", f"restore {t['id'][:8]}").code == 0
        refs.append(t["ref"])
    return refs


def edit_client_id(rt, store, ref):
    """2nd level overwrites the FieldkitID of one ticket in RT."""
    ticket = store.get(ref)
    remote_id = live_by_marker(rt, ticket.id)[0]["id"]
    rt.request("PUT", f"/REST/2.0/ticket/{remote_id}",
               {"CustomFields": {"FieldkitID": "typed over by 2nd level"}})


@pytest.mark.parametrize("edited", [False, True], ids=["plain", "fieldkitid-edited"])
def test_restored_from_before_the_first_sync(synced, proc, home, tmp_path, edited):
    refs = titled(proc, 3)
    for ref in refs:
        work(proc, tmp_path, ref, "first")
    assert proc("ticket", "resolve", refs[0], "--solution", "reseated the cable").code == 0
    backup = tmp_path / "backup"
    shutil.copytree(home, backup)
    assert proc("sync").code == 0
    store = TicketStore.at_home(home)
    if edited:
        edit_client_id(synced, store, refs[1])
    shutil.rmtree(home)
    shutil.copytree(backup, home)
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    check_once(synced, TicketStore.at_home(home))
    assert r.json()["created"] == 0
    assert "restored from a backup" in r.err
    assert sorted(r.json()["restored"]) == sorted(refs)
    assert proc("sync").code == 0


@pytest.mark.parametrize("edited", [False, True], ids=["plain", "fieldkitid-edited"])
def test_restored_from_after_the_first_sync(synced, proc, home, tmp_path, edited):
    refs = titled(proc, 2)
    work(proc, tmp_path, refs[0], "first")
    assert proc("sync").code == 0
    work(proc, tmp_path, refs[0], "second")  # a note and a file, pending in the backup
    assert proc("ticket", "resolve", refs[1], "--solution", "new toner").code == 0
    backup = tmp_path / "backup"
    shutil.copytree(home, backup)
    assert proc("sync").code == 0
    store = TicketStore.at_home(home)
    if edited:
        edit_client_id(synced, store, refs[0])
    shutil.rmtree(home)
    shutil.copytree(backup, home)
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    check_once(synced, TicketStore.at_home(home))
    assert r.json()["created"] == 0
    assert "restored from a backup" in r.err and r.json()["restored"]
    assert proc("sync").code == 0
