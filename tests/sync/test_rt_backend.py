"""The RT backend's auth, retry, bulk and confirmation logic against httpx.MockTransport.

Unit tests of edge cases that a healthy RT rarely shows; the real behaviour is tested against a
real RT 5 in test_rt_sync.py, test_exactly_once.py and test_faults.py.
"""

import base64
import json

import httpx
import pytest

from fieldkit.sync.backend import Post, SyncError, Update
from fieldkit.sync.rt import RTBackend
from fieldkit.sync.rt.client import RTClient
from fieldkit.tickets.model import Ticket


class FakeRT:
    """Answers scripted per (method, path); records every request."""

    def __init__(self):
        self.answers: dict[tuple[str, str], list[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method, path, *responses):
        self.answers.setdefault((method, path), []).extend(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.answers.get((request.method, request.url.path), [])
        if not queue:
            return httpx.Response(404, json={"message": "Not Found"})
        return queue.pop(0) if len(queue) > 1 else queue[0]


def backend(fake, token=None, password="pw", retries=2):
    http = RTClient("http://rt.test", user="fk", password=password, token=token, verify=True,
                    timeout_s=5, retries=retries, backoff_s=0,
                    transport=httpx.MockTransport(fake))
    rt = RTBackend(http, "General")
    rt.queue_fields = {"FieldkitID", "Category", "Site", "SupportLevel"}
    return rt


def ticket(title="printer"):
    t = Ticket.create(title)
    t.ref = "FK-1"
    return t


QUEUE = {"Name": "General", "TicketCustomFields": [{"name": "FieldkitID"}]}


def test_basic_auth_on_every_request_and_no_cookie_ever_sent():
    fake = FakeRT()
    fake.on("GET", "/REST/2.0/queue/General",
            httpx.Response(200, json=QUEUE, headers={"Set-Cookie": "RT_SID_x=abc; path=/"}))
    rt = backend(fake)
    rt.open()
    rt.open()
    expected = "Basic " + base64.b64encode(b"fk:pw").decode()
    assert [r.headers.get("Authorization") for r in fake.requests] == [expected, expected]
    assert all("cookie" not in r.headers for r in fake.requests)


def test_token_auth_and_a_rejected_token():
    fake = FakeRT()
    fake.on("GET", "/REST/2.0/queue/General", httpx.Response(401, json={"message": "no"}))
    rt = backend(fake, token="1-2-abc", password=None)
    with pytest.raises(SyncError) as err:
        rt.open()
    assert fake.requests[0].headers["Authorization"] == "token 1-2-abc"
    assert err.value.fatal and "rejected the token" in str(err.value)


def test_reads_are_retried_writes_are_not():
    fake = FakeRT()
    fake.on("GET", "/REST/2.0/queue/General", httpx.Response(503), httpx.Response(200, json=QUEUE))
    fake.on("POST", "/REST/2.0/tickets/bulk/comment", httpx.Response(500, text="boom"))
    rt = backend(fake)
    rt.open()
    with pytest.raises(SyncError) as err:
        rt.post_many([Post("1", "e1", "hello")])
    comments = [r for r in fake.requests if r.url.path.endswith("/comment")]
    assert len(comments) == 1, "a POST that may have been processed is never repeated"
    assert err.value.uncertain and not err.value.fatal


def test_429_is_retried_because_nothing_was_processed():
    fake = FakeRT()
    fake.on("POST", "/REST/2.0/tickets/bulk/comment", httpx.Response(429),
            httpx.Response(201, json=[["1", "Comments added"]]))
    assert backend(fake).post_many([Post("1", "e1", "hello")]) == [None]


def test_bulk_create_answers_per_item():
    fake = FakeRT()
    fake.on("POST", "/REST/2.0/tickets/bulk", httpx.Response(201, json=[
        {"id": "7", "type": "ticket"}, {"message": "No permission to create tickets"}]))
    made = backend(fake).create_many([ticket("a"), ticket("b")])
    assert made[0].id == "7" and made[0].url.endswith("Display.html?id=7")
    assert isinstance(made[1], SyncError) and "No permission" in str(made[1])
    body = json.loads(fake.requests[0].content)
    assert body[0]["CustomFields"]["FieldkitID"] and body[0]["Queue"] == "General"


def test_a_note_counts_as_posted_only_on_rts_success_message():
    fake = FakeRT()
    fake.on("POST", "/REST/2.0/tickets/bulk/comment", httpx.Response(201, json=[
        ["1", "Comments added"], ["2", "Permission Denied"], ["3", "Kommentare hinzugefügt"]]))
    outcomes = backend(fake).post_many([Post(str(i), f"e{i}", "x") for i in (1, 2, 3)])
    assert outcomes[0] is None
    assert outcomes[1].kind == "denied" and not outcomes[1].uncertain
    assert outcomes[2].uncertain, "an unknown answer is checked, never assumed"
    sent = json.loads(fake.requests[0].content)
    assert sent[0]["Subject"].startswith("[fieldkit e1] ")


def test_an_update_is_confirmed_by_a_reread():
    fake = FakeRT()
    fake.on("PUT", "/REST/2.0/tickets/bulk", httpx.Response(200, json=[
        ["5", "Ticket 5: Status 'resolved' isn't a valid status for this ticket."]]))
    fake.on("POST", "/REST/2.0/tickets", httpx.Response(200, json={"items": [
        {"id": "5", "Status": "open", "Queue": {"Name": "General"}, "Subject": "printer",
         "Priority": "50", "CustomFields": []}]}))
    (outcome,) = backend(fake).update_many([Update("5", ticket(), frozenset(), "resolved")])
    assert outcome is not None and "did not apply Status" in str(outcome)
    assert "isn't a valid status" in str(outcome)


def test_csrf_refusal_is_named_as_such():
    fake = FakeRT()
    fake.on("POST", "/REST/2.0/tickets/bulk/comment", httpx.Response(403, json={
        "message": "Cross-site request forgery protection refused this request"}))
    with pytest.raises(SyncError) as err:
        backend(fake).post_many([Post("1", "e1", "x")])
    assert err.value.kind == "csrf" and "session cookie" in str(err.value)


def test_an_answer_that_is_not_json_is_a_protocol_error():
    fake = FakeRT()
    fake.on("POST", "/REST/2.0/tickets/bulk/comment", httpx.Response(200, text="<html>proxy"))
    with pytest.raises(SyncError) as err:
        backend(fake).post_many([Post("1", "e1", "x")])
    assert err.value.kind == "protocol" and err.value.uncertain and not err.value.fatal


def test_bulk_requests_are_split_by_count():
    from fieldkit.sync.rt.wire import MAX_COMMENTS

    fake = FakeRT()
    fake.on("POST", "/REST/2.0/tickets/bulk/comment",
            httpx.Response(201, json=[["1", "Comments added"]] * MAX_COMMENTS),
            httpx.Response(201, json=[["1", "Comments added"]] * 50))
    posts = [Post("1", f"e{i}", "x") for i in range(MAX_COMMENTS + 50)]
    assert backend(fake).post_many(posts) == [None] * len(posts) and len(fake.requests) == 2
