"""A signed service report against a real RT 5: the PDF arrives once, byte for byte, with the
hash the sign-off recorded; a re-sync sends nothing again."""

import hashlib
import json

import pytest

from fieldkit.tickets.store import TicketStore
from tests.sync.conftest import assert_exactly_once, attachments, content, one_remote

pytestmark = pytest.mark.integration


def test_the_signed_report_reaches_rt_exactly_once(synced, proc, home):
    t = json.loads(proc("ticket", "new", "-t", "Outlook – Senden schlägt fehl", "--site",
                        "Müller & Söhne", "--json").out)
    assert proc("ticket", "note", "1", "Profil neu angelegt", "-m", "35").code == 0
    r = proc("ticket", "signoff", "1", "--name", "Anna Müller", "--comment", "danke")
    assert r.code == 0, r.err
    ticket = TicketStore.at_home(home).get("1")
    (signed,) = [h for h in ticket.history if h["what"] == "signoff"]
    assert proc("sync").code == 0
    assert proc("sync", "--json").json()["updated"] == 0
    remote = one_remote(synced, t["id"])
    pdfs = [i for i in attachments(synced, remote["id"])
            if (i["Filename"] or "").endswith(".pdf")]
    assert [i["Filename"] for i in pdfs] == [f"FK-1-report-{signed['at'][:10]}.pdf"]
    data = content(synced, pdfs[0]["id"])
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == signed["sha256"]
    assert_exactly_once(synced, TicketStore.at_home(home))
