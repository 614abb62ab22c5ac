"""The SFTP drop backend against a real OpenSSH sshd: complete bundles, exactly once through the
engine, re-runs that upload nothing, a sync killed midway (SIGKILL) then completed with no
partial bundle ever visible, updates, host keys and set-up errors."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fieldkit.sync.sftp.bundle import sha256
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import TicketStore
from tests.conftest import fieldkit_cmd, need, need_root
from tests.peers import sshd as sshd_peer
from tests.peers.sshd import BARE_ALT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    need_root()
    need(sshd_peer.available(), "needs openssh-server (sshd) and ssh-keygen")
    server = sshd_peer.SshServer(tmp_path_factory.mktemp("sshd-sftp"), 212)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def drop(tmp_path, home, sshd, monkeypatch) -> Path:
    """An empty drop directory, fieldkit configured for it and trusting the server."""
    user = tmp_path / "user"
    (user / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    path = tmp_path / "drop"
    path.mkdir()
    configure(home, sshd, path)
    (home / "known_hosts").write_text(sshd.known_hosts_line(BARE_ALT))
    return path


def configure(home: Path, sshd, path: Path, **extra) -> None:
    home.mkdir(parents=True, exist_ok=True)
    url = extra.pop("url", f"sftp://root@{sshd.address}:{BARE_ALT}{path}")
    lines = ["[sync]", 'backend = "sftp"', f'url = "{url}"',
             f'identity_file = "{sshd.user_key}"', "timeout_s = 10"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def a_run(size: int = 2000) -> dict:
    return {"schema": "fieldkit.diag/1", "host": "pc-042", "started_at": "2026-01-02T03:04:05Z",
            "duration_s": 1.0, "findings": [
                {"check": "disk.usage", "subject": "/", "status": "warn", "summary": "91% used",
                 "hint": "free some space", "data": {"evidence": "x" * size}, "duration_s": 0.1}]}


def fill(store: TicketStore, count: int, run_size: int = 2000) -> list[Ticket]:
    tickets = []
    for i in range(count):
        t = store.create(Ticket.create(f"ticket {i}", category="printer"), a_run(run_size))
        store.change(t.ref, lambda t: t.add_note(f"looked at {t.ref}", 5))
        tickets.append(t)
    store.change(tickets[0].ref, lambda t: t.escalate(2, "needs the network team"))
    return tickets


def parts(drop: Path) -> list[str]:
    return sorted(str(p.relative_to(drop)) for p in drop.rglob("*") if p.name.endswith(".part"))


def bundles(drop: Path) -> dict[str, dict]:
    """Every visible (complete) bundle, checked as a receiver would: the manifest names each
    file, with the right size and sha256; the posts it lists are there and say who they are."""
    found = {}
    for bundle in sorted(p for p in drop.iterdir() if not p.name.endswith(".part")):
        manifest = json.loads((bundle / "manifest.json").read_text())
        assert manifest["schema"] == "fieldkit.bundle/1" and manifest["ticket"] == bundle.name
        assert "ticket.json" in manifest["files"]
        for name, meta in manifest["files"].items():
            data = (bundle / name).read_bytes()
            assert (len(data), sha256(data)) == (meta["size"], meta["sha256"]), (bundle, name)
        assert len(manifest["posts"]) == len(set(manifest["posts"])), "a post listed twice"
        for event in manifest["posts"]:
            post = json.loads((bundle / f"posts/{event}.json").read_text())
            assert post["event_id"] == event and f"posts/{event}.json" in manifest["files"]
            if post["attachment"]:
                assert post["attachment"]["file"] in manifest["files"]
        ticket = json.loads((bundle / "ticket.json").read_text())
        assert ticket["id"] == bundle.name and ticket["schema"] == "fieldkit.ticket/1"
        found[bundle.name] = {"manifest": manifest, "ticket": ticket}
    return found


def assert_exactly_once(drop: Path, store: TicketStore) -> None:
    assert store.outbox() == {}, "everything must have been sent"
    assert parts(drop) == [], "no partial upload may be left"
    held = bundles(drop)
    assert sorted(held) == sorted(t.id for t in store.list())
    for ticket in store.list():
        posts = held[ticket.id]["manifest"]["posts"]
        expected = {e["id"] for e in ticket.worklog + ticket.escalations + ticket.diag_runs}
        assert expected <= set(posts), (ticket.ref, posts)
        on_disk = {p.stem for p in (drop / ticket.id / "posts").glob("*.json")}
        assert on_disk == set(posts), "every post file is named by the manifest, once"


def snapshot(drop: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(drop)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in drop.rglob("*") if p.is_file()}


def test_sync_writes_complete_bundles(proc, drop, home):
    store = TicketStore.at_home(home)
    tickets = fill(store, 2)
    store.change(tickets[1].ref, lambda t: t.resolve("replaced the toner"))
    r = proc("sync", "--json")
    assert r.code == 0, r.err
    assert r.json()["created"] == 2
    assert_exactly_once(drop, store)
    first = store.get(tickets[0].ref)
    posts = [json.loads((drop / first.id / f"posts/{e}.json").read_text())
             for e in bundles(drop)[first.id]["manifest"]["posts"]]
    assert [p["text"] for p in posts if p["minutes"]] == ["looked at FK-1"]
    run_post = next(p for p in posts if p["attachment"])
    attachment = (drop / first.id / run_post["attachment"]["file"]).read_bytes()
    assert json.loads(attachment)["findings"][0]["summary"] == "91% used"
    assert any("Escalated from level 1 to level 2" in p["text"] for p in posts)
    assert bundles(drop)[tickets[1].id]["ticket"]["status"] == "resolved"
    assert (first.remote.url or "").startswith("sftp://") and first.remote.id == first.id
    shown = proc("ticket", "show", "FK-2")
    assert "SFTP: resolved" in shown.out
    for path in (drop / first.id).rglob("*"):  # customer data: nothing readable by everyone
        assert path.stat().st_mode & 0o007 == 0, (path, oct(path.stat().st_mode))


def test_a_damaged_bundle_fails_its_ticket_only(proc, drop, home):
    store = TicketStore.at_home(home)
    tickets = fill(store, 2)
    assert proc("sync").code == 0
    (drop / tickets[0].id / "ticket.json").write_text("{ a receiver broke this")
    for ticket in tickets:
        store.change(ticket.ref, lambda t: t.add_note("later", 1))
    r = proc("sync", "--json")
    assert r.code == 1, r.err
    assert [e["ref"] for e in r.json()["errors"]] == [tickets[0].ref]
    assert r.json()["fatal"] is None and r.json()["updated"] >= 1  # the other one went through


def test_a_rerun_that_lost_every_answer_uploads_nothing(proc, drop, home):
    """The store as it was before a sync (as if every answer had been lost): the next sync
    finds each bundle by client id, each post in the manifest, and uploads nothing."""
    store = TicketStore.at_home(home)
    tickets = fill(store, 3)
    store.change(tickets[2].ref, lambda t: t.edit(title="ticket 2, renamed"))
    shutil.copytree(store.root, home / "store-before")
    assert proc("sync").code == 0
    before = snapshot(drop)
    shutil.rmtree(store.root)
    shutil.copytree(home / "store-before", store.root)
    r = proc("sync", "--json")
    assert r.code == 0, r.err
    assert r.json()["created"] == 0
    assert snapshot(drop) == before, "nothing may be uploaded again"
    assert_exactly_once(drop, store)


def test_updates_rewrite_ticket_json_and_the_manifest(proc, drop, home):
    store = TicketStore.at_home(home)
    ticket = store.create(Ticket.create("mail stuck", category="email"))
    assert proc("sync").code == 0
    store.change(ticket.ref, lambda t: t.edit(title="mail stuck in outbox", impact="high"))
    store.change(ticket.ref, lambda t: t.resolve("cleared the outbox"))
    assert proc("sync").code == 0
    held = bundles(drop)[ticket.id]["ticket"]
    assert (held["title"], held["impact"], held["status"]) == ("mail stuck in outbox", "high",
                                                              "resolved")
    assert_exactly_once(drop, store)


def kill_when(drop: Path, home: Path, ready, deadline_s: float = 60) -> None:
    child = subprocess.Popen([*fieldkit_cmd(), "sync"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             env={**os.environ, "FIELDKIT_HOME": str(home)})
    deadline = time.monotonic() + deadline_s
    try:
        while not ready():
            assert child.poll() is None, "the sync ended before the kill: the test proves little"
            assert time.monotonic() < deadline
            time.sleep(0.001)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


@pytest.mark.parametrize("moment", ["creating bundles", "uploading a diagnostic run"])
def test_killed_midway_then_completed(proc, drop, home, moment):
    store = TicketStore.at_home(home)
    fill(store, 8, run_size=1_500_000)

    def ready() -> bool:
        names = os.listdir(drop)
        if moment == "creating bundles":
            return len(names) >= 3 and any(n.endswith(".part") for n in names)
        return len(names) == 8 and any(p.name.endswith(".json.part")
                                       for p in drop.glob("*/files/*/*"))

    kill_when(drop, home, ready)
    assert parts(drop), "nothing was midway when the kill struck"
    visible = bundles(drop)  # no half bundle: every visible one is complete and consistent
    kept = {name: ident for name, ident in snapshot(drop).items()
            if not name.endswith((".part", "manifest.json", "ticket.json"))}
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    assert_exactly_once(drop, store)
    assert set(visible) <= set(bundles(drop))
    after = snapshot(drop)
    assert {name: after[name] for name in kept} == kept, "complete files were uploaded again"


def test_posts_placed_but_not_in_the_manifest_are_settled_once(drop, home, monkeypatch):
    """The connection dies while the manifest is replaced: the posts' files are in place but
    not named. The next sync asks the manifest (not the listing), sends them again, finds
    their files already there (no upload) and names each once."""
    from fieldkit.config import load_config
    from fieldkit.sync.backend import SyncError
    from fieldkit.sync.configure import build_backend
    from fieldkit.sync.engine import SyncEngine
    from fieldkit.sync.sftp import drop as sftpdrop

    store = TicketStore.at_home(home)
    ticket = store.create(Ticket.create("scanner"), a_run())
    assert SyncEngine(store, build_backend(load_config(home))).run().pending == 0
    store.change(ticket.ref, lambda t: t.add_note("driver reinstalled", 10))
    store.attach_run(ticket.ref, a_run())
    real_put = sftpdrop.Drop.put

    def dies_on_manifest(self, data, *parts, replace=False):
        if parts[-1] == "manifest.json" and replace:
            raise SyncError("the SFTP connection broke", kind="connection", fatal=True,
                            uncertain=True)
        return real_put(self, data, *parts, replace=replace)

    monkeypatch.setattr(sftpdrop.Drop, "put", dies_on_manifest)
    backend = build_backend(load_config(home))
    report = SyncEngine(store, backend).run()
    backend.close()
    assert report.fatal
    assert {"note", "diag_run"} <= {e["kind"] for e in store.outbox()[ticket.id]}
    placed = snapshot(drop / ticket.id / "posts")
    assert len(placed) == 3  # the first run's post, and the two not yet named
    monkeypatch.setattr(sftpdrop.Drop, "put", real_put)
    backend = build_backend(load_config(home))
    assert SyncEngine(store, backend).run().pending == 0
    backend.close()
    assert snapshot(drop / ticket.id / "posts") == placed, "the placed posts were re-uploaded"
    assert_exactly_once(drop, store)
    assert len(bundles(drop)[ticket.id]["manifest"]["posts"]) == 3


def test_unknown_host_is_refused_and_sync_check_trusts_it(proc, drop, home):
    (home / "known_hosts").unlink()
    TicketStore.at_home(home).create(Ticket.create("new laptop"))
    r = proc("sync")
    assert r.code == 6 and "unknown host key" in r.err and "--trust-new-host" in r.err
    assert parts(drop) == [] and os.listdir(drop) == []
    r = proc("sync", "check", "--trust-new-host", "--json")
    assert r.code == 0, r.err
    assert [i["name"] for i in r.json()] == ["login", "drop-directory", "writable",
                                             "atomic-replace"]
    assert all(i["status"] == "ok" for i in r.json())
    assert os.listdir(drop) == [], "sync check leaves nothing behind"
    assert proc("sync").code == 0


def test_changed_host_key_stops_sync(proc, drop, home, sshd):
    impostor = f"[{sshd.address}]:{BARE_ALT} {sshd_peer.public_line(sshd.stranger_key)}\n"
    (home / "known_hosts").write_text(impostor)
    TicketStore.at_home(home).create(Ticket.create("new laptop"))
    r = proc("sync", "--trust-new-host")
    assert r.code == 6 and "host key has CHANGED" in r.err
    assert "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in r.err
    assert (home / "known_hosts").read_text() == impostor and os.listdir(drop) == []


def test_missing_drop_directory_and_bad_urls(proc, drop, home, sshd):
    TicketStore.at_home(home).create(Ticket.create("x"))
    configure(home, sshd, drop / "nope")
    r = proc("sync")
    assert r.code == 6 and "does not exist" in r.err
    for url in ("sftp://root@host", "https://host/drop", "sftp://root@host:99999/drop"):
        configure(home, sshd, drop, url=url)
        r = proc("sync")
        assert r.code == 5 and "[sync] url" in r.err, (url, r.err)


def test_a_receiver_status_change_during_the_sync_is_a_conflict(drop, home, monkeypatch):
    """The receiver rewrites ticket.json's status after the merge read it and before the
    update: compare-and-set keeps theirs, sends the other fields, and reports a conflict."""
    from fieldkit.config import load_config
    from fieldkit.sync import sftp
    from fieldkit.sync.configure import build_backend
    from fieldkit.sync.engine import SyncEngine

    store = TicketStore.at_home(home)
    ticket = store.create(Ticket.create("toner", category="printer"))
    assert SyncEngine(store, build_backend(load_config(home))).run().pending == 0
    store.change(ticket.ref, lambda t: t.edit(title="toner empty"))
    store.change(ticket.ref, lambda t: t.resolve("new cartridge"))
    real_update = sftp.SftpBackend._update

    def receiver_first(self, update):
        path = drop / ticket.id / "ticket.json"
        doc = json.loads(path.read_text())
        doc["status"] = "pending"
        (drop / ticket.id / "ticket.json.tmp").write_text(json.dumps(doc))
        os.replace(drop / ticket.id / "ticket.json.tmp", path)  # atomic, as receivers must
        return real_update(self, update)

    monkeypatch.setattr(sftp.SftpBackend, "_update", receiver_first)
    backend = build_backend(load_config(home))
    report = SyncEngine(store, backend).run()
    backend.close()
    (conflict,) = report.conflicts
    assert (conflict["local"], conflict["remote"]) == ("resolved", "pending")
    held = json.loads((drop / ticket.id / "ticket.json").read_text())
    assert (held["status"], held["title"]) == ("pending", "toner empty")
    posts = [json.loads((drop / ticket.id / f"posts/{e}.json").read_text())["text"]
             for e in json.loads((drop / ticket.id / "manifest.json").read_text())["posts"]]
    assert not any(text.startswith("Resolved:") for text in posts)
