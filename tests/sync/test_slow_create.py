"""A bulk create delayed past every timeout (a slow VPN, a buffering middlebox) never leaves RT
with more tickets than the store, whatever the technician does meanwhile.

Read back as RT's root with plain REST2 queries (tests/peers/rt.py), not through fieldkit.
"""

import uuid

import pytest

from fieldkit.tickets.store import TicketStore
from tests.peers.faultproxy import FaultProxy
from tests.sync.conftest import configure

pytestmark = pytest.mark.integration
LIVE = ("deleted", "rejected")


@pytest.fixture
def proxy(synced, home):
    fault = FaultProxy(synced.url)
    configure(home, fault.url, timeout_s=2)
    yield fault
    fault.release_all()
    fault.stop()


def make(proc, count):
    tag = f"slow-{uuid.uuid4().hex[:8]}"
    for i in range(count):
        r = proc("ticket", "new", "-t", f"{tag} ticket {i}", "--json")
        assert r.code == 0, r.err
    return tag


def resync(proc):
    """The technician syncs again at once until it goes through (RT may need longer than
    timeout_s for a bulk create, too); every run either succeeds or says the server was slow."""
    errs = []
    for _ in range(8):
        r = proc("sync")
        errs.append(r.err)
        assert r.code in (0, 6), r.out + r.err
        if r.code == 0:
            return "".join(errs)
    raise AssertionError("no sync went through:\n" + "".join(errs))


def remote_by_tag(rt, tag):
    """Every live RT ticket (merged ones are not listed by RT) whose subject has the tag."""
    found = rt.search(f"Subject LIKE '{tag}'")
    return [t for t in found if t["Status"] not in LIVE]


def client_id(item):
    values = [cf["values"] for cf in item["CustomFields"] if cf["name"] == "FieldkitID"]
    return values[0][0] if values and values[0] else ""


def assert_one_each(rt, tag, store):
    """Live RT tickets == local tickets, each with its FieldkitID."""
    live = remote_by_tag(rt, tag)
    ids = sorted(client_id(t) for t in live)
    assert "" not in ids, f"{ids.count('')} live RT tickets without FieldkitID"
    assert ids == sorted(t.id for t in store.list())


@pytest.mark.parametrize("count", [30, 120])
def test_a_create_held_on_its_way_is_waited_for(proxy, proc, home, synced, count):
    tag = make(proc, count)
    proxy.add("POST", r"/tickets/bulk$", "forward")  # the canary goes through
    held = proxy.add("POST", r"/tickets/bulk$", "hold:5")  # the next bulk create: 5 s late
    assert proc("sync").code == 6  # no answer within timeout_s
    err = resync(proc)  # at once: past 2 x timeout_s the request is still on its way
    assert held.finished.wait(120)
    assert proc("sync").code == 0
    assert_one_each(synced, tag, TicketStore.at_home(home))
    assert "still open on its way" in err


@pytest.mark.parametrize("count", [30, 120])
def test_a_copy_landing_after_the_resend_is_merged(proxy, proc, home, synced, count):
    tag = make(proc, count)
    proxy.add("POST", r"/tickets/bulk$", "forward")
    late = proxy.add("POST", r"/tickets/bulk$", "detach")  # cut off, delivered much later
    assert proc("sync").code == 6
    resync(proc)  # nothing on this machine can know: sent again after the grace time
    late.release()
    assert late.finished.wait(120)
    copies = len(remote_by_tag(synced, tag)) - count
    assert copies == min(count - 1, 100), "the delayed copy did not land: the test proves little"
    r = proc("sync", "--json")
    assert r.code == 0, r.out + r.err
    assert len(r.json()["merged"]) == copies
    assert "a delayed copy of" in r.err
    store = TicketStore.at_home(home)
    assert_one_each(synced, tag, store)
    merged = r.json()["merged"][0]
    original = synced.request("GET", f"/REST/2.0/ticket/{merged['copy']}")
    assert str(original["id"]) == merged["into"]  # RT shows the copy as merged into it
    assert proc("sync").code == 0
