"""A private Request Tracker 5 for the sync tests, and helpers to look at what it holds."""

from __future__ import annotations

import base64
import re

import pytest

from tests.conftest import need, need_root

MARKER = re.compile(r"\[fieldkit ([0-9a-f-]{36})\]")


@pytest.fixture(scope="session")
def rt():
    from tests.peers import rt as rt_peer

    need(rt_peer.available(), "needs Request Tracker 5 (request-tracker5 rt5-db-sqlite "
                              "rt5-standalone; see .ci/install-packages)")
    need_root()
    instance = rt_peer.RTInstance(bcrypt_cost=4)
    try:
        instance.start()
        yield instance
    finally:
        instance.destroy()


def configure(home, url, **extra):
    """Point fieldkit at an RT (or a proxy in front of it)."""
    home.mkdir(parents=True, exist_ok=True)
    settings = {"backend": "rt", "url": url, "queue": "General", "user": "fieldkit",
                "backoff_s": 0.1, **extra}
    lines = ["[sync]"]
    tables = {k: v for k, v in settings.items() if isinstance(v, dict)}
    for key, value in settings.items():
        if key not in tables:
            lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str)
                         else f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
    for name, table in tables.items():
        lines.append(f"[sync.{name}]")
        lines += [f'{k} = "{v}"' for k, v in table.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def synced(home, rt, monkeypatch):
    from tests.peers.rt import API_PASSWORD

    monkeypatch.setenv("FIELDKIT_SYNC_PASSWORD", API_PASSWORD)
    configure(home, rt.url)
    return rt


def remote_tickets(rt, client_id: str) -> list[dict]:
    return rt.search(f"CF.{{FieldkitID}} = '{client_id}'")


def one_remote(rt, client_id: str) -> dict:
    found = remote_tickets(rt, client_id)
    assert len(found) == 1, f"{len(found)} RT tickets for {client_id}"
    return rt.request("GET", f"/REST/2.0/ticket/{found[0]['id']}")


def attachments(rt, remote_id) -> list[dict]:
    items, page = [], 1
    while True:
        res = rt.request("GET", f"/REST/2.0/ticket/{remote_id}/attachments?per_page=100&"
                                f"page={page}&fields=Subject,Filename,ContentType")
        items += res["items"]
        if len(res["items"]) < 100:
            return items
        page += 1


def event_counts(rt, remote_id) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in attachments(rt, remote_id):
        for event in MARKER.findall(item.get("Subject") or ""):
            counts[event] = counts.get(event, 0) + 1
    return counts


def content(rt, attachment_id) -> bytes:
    data = rt.request("GET", f"/REST/2.0/attachment/{attachment_id}")
    return base64.b64decode(data["Content"])


def assert_exactly_once(rt, store):
    """Every local ticket is in RT once; each note, escalation and diagnostic run is there once."""
    assert store.outbox() == {}, "everything must have been sent"
    for ticket in store.list():
        remote = one_remote(rt, ticket.id)
        counts = event_counts(rt, remote["id"])
        expected = [e["id"] for e in ticket.worklog + ticket.escalations + ticket.diag_runs
                    + ticket.attachments]
        assert {event: counts.get(event, 0) for event in expected} == dict.fromkeys(expected, 1), \
            (ticket.ref, counts)
        assert all(n == 1 for n in counts.values()), (ticket.ref, counts)
