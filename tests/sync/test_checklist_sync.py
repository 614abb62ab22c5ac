"""Checklist runs reach Request Tracker exactly once: a readable note plus the run as JSON.

The run itself happens the way it does on site: an answers file, on a ticket, with its check
steps probing real peers inside a network namespace; sync then runs from the test session,
where RT listens.
"""

import json

import pytest

from fieldkit.tickets.store import TicketStore
from tests.conftest import need_root, need_tool
from tests.sync.conftest import (
    assert_exactly_once,
    attachments,
    content,
    event_counts,
    one_remote,
)

pytestmark = pytest.mark.integration

ANSWERS = """checklist = "vpn-cannot-connect"
[answers]
where = "home"
internet = true
vpn-type = "ssl"
gateway = "vpn.site.test:443"
dns = "run"
gateway-reach = "run"
clock = "run"
credentials = false
error-text = "Authentication failed"
hotspot = false
works-now = false
"""


@pytest.fixture
def site(tmp_path):
    need_root()
    need_tool("ip", "dnsmasq")
    from tests.peers.site import Site

    instance = Site(tmp_path, mail=False, printer=False)
    try:
        yield instance
    finally:
        instance.close()


def test_checklist_run_reaches_rt_once_as_note_and_json(synced, site, proc, home):
    from tests.peers.site import CONFIG

    rt = synced
    with open(home / "config.toml", "a") as config:
        config.write(CONFIG)
    assert proc("ticket", "new", "-t", "VPN fails at home", "--category", "firewall").code == 0
    (home / "answers.toml").write_text(ANSWERS)
    r = site.fieldkit(home, "checklist", "run", "vpn-cannot-connect", "--ticket", "FK-1",
                      "--answers", str(home / "answers.toml"))
    assert r.returncode == 0, r.stderr
    # outcome rules, visibly: the login failed, so the account team and its priority
    assert "Suggested: category account; impact medium, urgency high (P2 high); escalate to " \
           "level 2" in r.stdout
    assert "To apply: fieldkit ticket edit FK-1 --category account --impact medium " \
           "--urgency high" in r.stdout
    assert "To escalate: fieldkit ticket escalate FK-1 --level 2 --reason" in r.stdout

    store = TicketStore.at_home(home)
    ticket = store.get("1")
    (summary,) = ticket.checklist_runs
    run = store.load_checklist_run(summary["id"])
    path = store.checklist_runs_dir / f"{summary['id']}.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert run["checklist"]["id"] == "vpn-cannot-connect" and run["checklist"]["steps"]
    reach = next(s for s in run["steps"] if s["id"] == "gateway-reach")
    assert reach["targets"] == ["vpn.site.test:443"] and reach["result"] == "ok"
    assert reach["findings"][0]["data"]["address"] == "10.223.0.1"  # the site's listener
    shown = proc("ticket", "show", "1").out
    assert "checklist vpn-cannot-connect v1" in shown and "Tess Tech" in shown
    assert "suggested: category account" in shown

    r = proc("sync", "--json")
    assert r.code == 0, r.err + r.out
    remote = one_remote(rt, ticket.id)
    assert event_counts(rt, remote["id"]).get(summary["id"]) == 1
    items = attachments(rt, remote["id"])
    (json_item,) = [i for i in items
                    if i["Filename"] == f"fieldkit-checklist-{summary['id']}.json"]
    assert json.loads(content(rt, json_item["id"])) == run
    note = next(content(rt, i["id"]).decode() for i in items
                if i["ContentType"] == "text/plain"
                and b"fieldkit checklist" in content(rt, i["id"]))
    assert '"VPN / firewall: cannot connect" (vpn-cannot-connect v1): completed' in note
    assert "[OK     ] Reach the VPN gateway (TCP) (reach vpn.site.test:443)" in note
    assert "Suggested: category account" in note
    assert_exactly_once(rt, store)
    r = proc("sync", "--json")  # nothing new: nothing sent again
    assert (r.code, r.json()["updated"]) == (0, 0)
    assert event_counts(rt, remote["id"]).get(summary["id"]) == 1


def test_forced_resolve_posts_the_unfinished_run_and_the_override(synced, proc, home):
    from fieldkit.checklists import session
    from fieldkit.checklists.loader import find

    rt = synced
    assert proc("ticket", "new", "-t", "printer").code == 0
    store = TicketStore.at_home(home)
    run = session.start(store, find("printer-not-printing", home), "Tess Tech",
                        ticket_key="FK-1")  # stopped before the first answer
    r = proc("ticket", "resolve", "1", "--solution", "replaced the toner")
    assert r.code == 2 and "mandatory steps not done" in r.err and "--force" in r.err
    assert proc("ticket", "show", "1", "--json").json()["status"] == "in_progress"
    with open(home / "config.toml", "a") as config:
        config.write('[technician]\nname = "Ann"\n')
    r = proc("ticket", "resolve", "1", "--solution", "replaced the toner", "--force")
    assert r.code == 0, r.err
    ticket = store.get("1")
    assert ticket.checklist_runs[0]["status"] == "abandoned"
    assert ticket.checklist_runs[0]["override"]["pending"] == ["scope", "symptom", "panel",
                                                               "queues", "print-again"]
    assert "OVERRIDE: resolved with --force by Ann" in proc("ticket", "show", "1").out
    assert proc("sync").code == 0
    remote = one_remote(rt, ticket.id)
    assert remote["Status"] == "resolved"
    texts = [content(rt, i["id"]).decode("utf-8", "replace")
             for i in attachments(rt, remote["id"]) if i["ContentType"] == "text/plain"]
    (resolution,) = [t for t in texts if t.startswith("Resolved: replaced the toner")]
    assert "Override: resolved with --force by Ann: mandatory checklist steps not done " \
           "(printer-not-printing: scope, symptom, panel, queues, print-again)" in resolution
    (note,) = [t for t in texts if t.startswith("fieldkit checklist")]
    assert "(printer-not-printing v1): abandoned" in note
    assert "Override: resolved with --force by Ann" in note
    assert event_counts(rt, remote["id"]).get(run.id) == 1
    assert_exactly_once(rt, store)
