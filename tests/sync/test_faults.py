"""Sync under failure: lost responses, killed processes, a dying server, refusals, bad TLS."""

import os
import random
import signal
import subprocess
import time

import pytest

from fieldkit.tickets.store import TicketStore
from tests.conftest import fieldkit_cmd
from tests.peers.faultproxy import FaultProxy
from tests.sync.conftest import assert_exactly_once, configure, one_remote, remote_tickets

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(synced, home):
    fault = FaultProxy(synced.url)
    configure(home, fault.url)
    yield fault
    fault.stop()


def make_tickets(proc, count, notes=2):
    for i in range(count):
        assert proc("ticket", "new", "-t", f"ticket {i}", "--contact", f"u{i}@acme.test").code == 0
        for n in range(notes):
            assert proc("ticket", "note", str(i + 1), f"note {n} of {i}", "-m", "2").code == 0


def test_lost_responses_never_duplicate(proxy, proc, home, synced):
    configure(home, proxy.url, timeout_s=1)  # grace: RT is done with a lost create after 2 s
    make_tickets(proc, 3)
    proxy.add("POST", r"^/REST/2.0/tickets/bulk$", "lost")  # RT creates; the answer is lost
    r = proc("sync", "--json")
    assert r.code == 6 and r.json()["fatal"]
    assert proc("sync").code == 0
    proxy.add("POST", r"/tickets/bulk/comment$", "lost")
    proc("ticket", "note", "1", "after the first sync", "-m", "1")
    assert proc("sync").code == 6
    assert proc("sync").code == 0
    assert_exactly_once(synced, TicketStore.at_home(home))


def test_garbage_answer_is_checked_not_resent(proxy, proc, home, synced):
    make_tickets(proc, 2, notes=1)
    assert proc("sync").code == 0
    for ref in ("1", "2"):
        proc("ticket", "note", ref, "behind a broken proxy", "-m", "1")
    proxy.add("POST", r"/tickets/bulk/comment$", "garbage")  # processed, answer not JSON
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    assert "checking and sending per ticket" in r.err
    assert_exactly_once(synced, TicketStore.at_home(home))


def test_retries_on_busy_server(proxy, proc, home, synced):
    make_tickets(proc, 1, notes=1)
    proxy.add("GET", r"/REST/2.0/queue/", "status:503", times=2)
    proxy.add("POST", r"/tickets/bulk/comment$", "status:429", times=1)
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    statuses = [s for m, p, s in proxy.log]
    assert statuses.count(503) == 2 and statuses.count(429) == 1
    assert_exactly_once(synced, TicketStore.at_home(home))


def test_slow_read_is_retried(proxy, proc, home, synced):
    configure(home, proxy.url, timeout_s=1)
    make_tickets(proc, 1, notes=0)
    proxy.add("GET", r"/REST/2.0/queue/", "late:2")
    assert proc("sync").code == 0
    assert_exactly_once(synced, TicketStore.at_home(home))


def test_one_failing_ticket_does_not_stop_the_others(proxy, proc, home, synced):
    make_tickets(proc, 3, notes=1)
    assert proc("sync").code == 0
    for i in range(3):
        proc("ticket", "note", str(i + 1), f"second note {i}", "-m", "1")
    # the batch fails, then so does the first ticket's own request; the others go through
    proxy.add("POST", r"/tickets/bulk/comment$", "status:500", times=2)
    r = proc("sync", "--json")
    assert r.code == 1
    summary = r.json()
    assert (summary["failed"], summary["updated"], summary["pending"]) == (1, 2, 1)
    assert "HTTP 500" in summary["errors"][0]["message"]
    status = proc("sync", "status", "--json").json()
    assert status["pending"] == 1 and status["tickets"][0]["ref"] == "FK-1"
    assert proc("sync").code == 0
    assert_exactly_once(synced, TicketStore.at_home(home))


def pending(store) -> int:
    return sum(len(entries) for entries in store.outbox().values())


def test_killing_fieldkit_at_random_points(synced, proc, home):
    """Work keeps arriving; each sync is killed at a random point of its progress (after k of
    its entries were confirmed, plus jitter, or before any); finally one runs through."""
    store = TicketStore.at_home(home)
    rng = random.Random(7)
    configure(home, synced.url, timeout_s=1)  # a killed create is repeated after 2 s, not 60
    env = {**os.environ, "FIELDKIT_HOME": str(home)}
    kills = 0
    for round_ in range(6):
        if round_ == 0:
            make_tickets(proc, 2, notes=2)
        proc("ticket", "new", "-t", f"arrived in round {round_}")
        proc("ticket", "note", "1", f"note in round {round_}", "-m", "1")
        before = pending(store)
        child = subprocess.Popen([*fieldkit_cmd(), "sync"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        k = rng.randint(0, max(0, before - 1))
        deadline = time.monotonic() + 60
        while pending(store) > before - k and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05 if k else 0.4))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
    assert kills >= 4, f"only {kills} syncs were interrupted; the test proves too little"
    assert proc("sync").code == 0
    assert_exactly_once(synced, store)


def test_rt_killed_and_restarted_mid_sync(home, proc, monkeypatch):
    from tests.conftest import need
    from tests.peers import rt as rt_peer

    need(rt_peer.available(), "needs Request Tracker 5")
    rt = rt_peer.RTInstance(bcrypt_cost=4)
    try:
        rt.start()
        monkeypatch.setenv("FIELDKIT_SYNC_PASSWORD", rt_peer.API_PASSWORD)
        configure(home, rt.url, retries=1, timeout_s=8)  # a loaded CI box: 2 s timed out
        make_tickets(proc, 12, notes=2)
        env = {**os.environ, "FIELDKIT_HOME": str(home)}
        store = TicketStore.at_home(home)
        before = pending(store)
        child = subprocess.Popen([*fieldkit_cmd(), "sync", "--json"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while pending(store) > before - 3:  # some progress...
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                out, err = child.communicate()
                raise AssertionError(f"sync never started (exit {child.returncode}): {out}{err}")
            time.sleep(0.02)
        os.killpg(rt.proc.pid, signal.SIGKILL)  # ...then the server dies mid-sync
        rt.proc.wait()
        out, err = child.communicate(timeout=120)
        assert child.returncode == 6, out + err
        assert "cannot reach RT" in out + err or "connection to RT broke" in out + err
        assert proc("sync", "status", "--json").json()["pending"] > 0
        rt.start()
        r = proc("sync", "--json")
        assert r.code == 0, r.out + r.err
        assert_exactly_once(rt, TicketStore.at_home(home))
    finally:
        rt.destroy()


def test_wrong_password(synced, proc, monkeypatch):
    monkeypatch.setenv("FIELDKIT_SYNC_PASSWORD", "not-the-password")
    proc("ticket", "new", "-t", "x")
    r = proc("sync")
    assert r.code == 6 and "refused the login as fieldkit" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_bad_token(home, rt, proc, monkeypatch):
    monkeypatch.setenv("FIELDKIT_SYNC_TOKEN", "1-1-00000000000000000000000000000000")
    configure(home, rt.url)
    r = proc("sync")
    assert r.code == 6 and "rejected the token" in r.err


def test_missing_credentials(home, rt, proc, monkeypatch):
    monkeypatch.delenv("FIELDKIT_SYNC_PASSWORD", raising=False)
    monkeypatch.delenv("FIELDKIT_SYNC_TOKEN", raising=False)
    configure(home, rt.url)
    r = proc("sync")
    assert r.code == 6 and "no RT credentials" in r.err


def test_unknown_queue(synced, proc, home):
    configure(home, synced.url, queue="NoSuchQueue")
    r = proc("sync")
    assert r.code == 6 and "queue 'NoSuchQueue' does not exist" in r.err


def test_server_down(home, proc, monkeypatch):
    from tests.peers.rt import free_port

    monkeypatch.setenv("FIELDKIT_SYNC_PASSWORD", "x")
    configure(home, f"http://127.0.0.1:{free_port()}", retries=1)
    proc("ticket", "new", "-t", "offline ticket")
    r = proc("sync")
    assert r.code == 6 and "cannot reach RT" in r.err
    status = proc("sync", "status", "--json").json()
    assert status["pending"] == 1 and "cannot reach RT" in status["last_error"]


def test_dns_failure(home, proc, monkeypatch):
    monkeypatch.setenv("FIELDKIT_SYNC_PASSWORD", "x")
    configure(home, "https://rt.does-not-exist.fieldkit.test/", retries=0)
    r = proc("sync")
    assert r.code == 6 and "cannot resolve" in r.err


def test_tls_is_verified_unless_the_user_opts_out(synced, proc, home, tmp_path):
    from tests.peers.certs import make_certs

    certs = make_certs(tmp_path / "certs", ["localhost", "127.0.0.1"])
    tls = FaultProxy(synced.url, tls=(str(certs / "selfsigned.crt"), str(certs / "selfsigned.key")))
    try:
        configure(home, tls.url)
        t = proc("ticket", "new", "-t", "over tls", "--json").json()
        r = proc("sync")
        assert r.code == 6 and "not trusted" in r.err
        assert remote_tickets(synced, t["id"]) == []
        assert proc("sync", "--insecure").code == 0
        one_remote(synced, t["id"])
        configure(home, tls.url, ca_file=str(certs / "selfsigned.crt"))
        proc("ticket", "note", "1", "verified this time")
        assert proc("sync").code == 0
    finally:
        tls.stop()


def test_plain_http_warning_only_off_host(synced, proc, home):
    r = proc("sync")
    assert "plain http" not in r.err


def test_missing_rights(proxy, proc):
    proxy.add("GET", r"/REST/2.0/queue/", "status:403")
    proc("ticket", "new", "-t", "x")
    r = proc("sync")
    assert r.code == 6 and "fieldkit may not see it (SeeQueue)" in r.err


def test_sync_trusts_the_os_store_and_adds_ca_file(synced, proc, home, tmp_path, monkeypatch):
    from tests.peers.certs import make_certs

    public = make_certs(tmp_path / "public", ["localhost", "127.0.0.1"], "Public Root CA")
    company = make_certs(tmp_path / "company", ["localhost", "127.0.0.1"], "ACME Company CA")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(public / "ca.crt"))  # stands in for the OS store
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "empty"))
    tls = FaultProxy(synced.url, tls=(str(public / "server.crt"), str(public / "server.key")))
    try:
        configure(home, tls.url)
        proc("ticket", "new", "-t", "trusted through the OS store")
        assert proc("sync").code == 0
        configure(home, tls.url, ca_file=str(company / "ca.crt"))  # an internal CA, added
        proc("ticket", "note", "1", "still trusted with a company CA added")
        assert proc("sync").code == 0
    finally:
        tls.stop()
