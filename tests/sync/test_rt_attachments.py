"""Attached files against a real RT 5: every file name kept exactly, each file once, and a
file that fails does not hold up the rest of its ticket. Read back through REST2 as root."""

import hashlib
import json

import pytest

from fieldkit.tickets.store import TicketStore
from tests.peers.faultproxy import FaultProxy
from tests.sync.conftest import assert_exactly_once, attachments, configure, content, one_remote

pytestmark = pytest.mark.integration

NAMES = ["Prüfbericht_ß.txt", "Bericht_😀.txt", "Отчёт.txt", "ipconfig-all.txt"]


def attach_all(proc, tmp_path, ref="1"):
    files = {}
    for i, name in enumerate(NAMES):
        path = tmp_path / name
        path.write_bytes(f"{name}: line {i}\n".encode() * (i + 1))
        r = proc("ticket", "attach", ref, str(path))
        assert r.code == 0, r.err
        files[name] = path.read_bytes()
    return files


def stored_files(rt, remote_id):
    return [(i["Filename"], i["id"]) for i in attachments(rt, remote_id) if i["Filename"]]


def test_every_file_name_is_stored_exactly_once(synced, proc, home, tmp_path):
    t = json.loads(proc("ticket", "new", "-t", "Scanner saves garbled names", "--json").out)
    files = attach_all(proc, tmp_path)
    proc("ticket", "note", "1", "after the files", "-m", "4")
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    remote = one_remote(synced, t["id"])
    stored = stored_files(synced, remote["id"])
    assert sorted(name for name, _id in stored) == sorted(NAMES)  # exactly, and once each
    for name, attachment_id in stored:
        assert hashlib.sha256(content(synced, attachment_id)).digest() == \
            hashlib.sha256(files[name]).digest(), name
    assert int(remote["TimeWorked"]) == 4
    assert proc("sync", "--json").json()["updated"] == 0  # a re-run sends nothing again
    assert len(stored_files(synced, remote["id"])) == len(NAMES)
    assert_exactly_once(synced, TicketStore.at_home(home))


def test_a_failing_file_is_named_and_holds_up_nothing_else(synced, proc, home, tmp_path):
    proxy = FaultProxy(synced.url)
    try:
        configure(home, proxy.url, escalation_queues={"2": "Escalations"})
        t = json.loads(proc("ticket", "new", "-t", "files and a move", "--json").out)
        path = tmp_path / "Отчёт.txt"
        path.write_bytes("отчёт\n".encode())
        assert proc("ticket", "attach", "1", str(path)).code == 0
        proc("ticket", "note", "1", "a later note", "-m", "2")
        proc("ticket", "escalate", "1", "--level", "2", "--reason", "needs the vendor")
        # RT fails the upload of that one file (an answer RT gives for a name it cannot take)
        proxy.add("POST", r"^/REST/2.0/ticket/\d+/comment$", "status:500")
        r = proc("sync", "--json")
        assert r.code == 1, r.out + r.err
        (error,) = r.json()["errors"]
        assert "'Отчёт.txt'" in error["message"] and "HTTP 500" in error["message"]
        remote = one_remote(synced, t["id"])
        subjects = " ".join((i["Subject"] or "").replace("\n", "")
                            for i in attachments(synced, remote["id"]))
        assert "a later note" in subjects and "Escalated from level 1 to level 2" in subjects
        queue = synced.request("GET", f"/REST/2.0/queue/{remote['Queue']['id']}")
        assert queue["Name"] == "Escalations"
        assert stored_files(synced, remote["id"]) == []
        assert "Отчёт.txt" in proc("sync", "status").out  # still pending, with its reason

        assert proc("sync").code == 0  # the next sync delivers it, once
        assert [n for n, _i in stored_files(synced, remote["id"])] == ["Отчёт.txt"]
        assert_exactly_once(synced, TicketStore.at_home(home))
    finally:
        proxy.stop()
