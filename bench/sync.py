#!/usr/bin/env python3
"""fieldkit sync vs a naive client and vs a hand-made bulk floor, against a local RT 5.

Starts a private RT (root and the Debian packages needed, see .ci/install-packages) with RT's
default bcrypt cost 12, so every authenticated request pays the ~250-360 ms a real server
charges. All three send the same work: N tickets, each with 2 worklog notes and 1 diagnostic
run (a readable note plus the JSON attachment), with the same fields and texts fieldkit sends
(requestor - a new RT user per ticket -, priority, the four custom fields; class Writes).

- fieldkit: `fieldkit sync` as a whole process on a store holding that work (basic auth).
- naive: one request per item, sequential, fresh basic auth and connection each time - what a
  quick script with python-rt does (create, note, note, attachment: 4 requests per ticket).
- floor: the same writes as hand-made bulk calls with basic auth on one connection: one
  POST /tickets/bulk, one POST /tickets/bulk/comment for the notes, one for the attachments.
  No searches, no confirmation: the least any client could send.

RT is warmed up first (its workers load code on their first writes). RT slows down as it fills,
so the floor runs once before fieldkit and once after, and floor_s is their mean; the naive
client runs last. Last line JSON: {"tickets", "fieldkit_s", "naive_s", "floor_s",
"ratio", "vs_floor"} with ratio = naive / fieldkit and vs_floor = fieldkit / floor. With equal
writes the floor itself reaches naive / floor only: no client can beat that ratio.

    sudo python bench/sync.py [--tickets 100]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldkit.diagnostics.registry import CheckContext, select  # noqa: E402
from fieldkit.diagnostics.runner import run_checks  # noqa: E402
from fieldkit.tickets.model import Ticket  # noqa: E402
from fieldkit.tickets.store import TicketStore  # noqa: E402


def bench_ticket(i: int, contact: str) -> Ticket:
    return Ticket.create(f"bench ticket {i}", site="ACME", contact=contact,
                         description="the printer on floor 2 jams")


def build_store(home: Path, count: int, run: dict) -> None:
    store = TicketStore.at_home(home)
    for i in range(count):
        ticket = store.create(bench_ticket(i, contact=f"user{i}@acme.test"), run)
        for n in range(2):
            store.change(ticket.ref, lambda t, n=n, i=i: t.add_note(f"note {n} on ticket {i}", 5))


class Writes:
    """The payload fieldkit sends for the bench workload, built by hand for the other two
    clients: the same fields (requestor, priority, status, the four custom fields), the same
    texts (fieldkit's first message, notes, the readable run and its JSON). ``prefix`` keeps
    client ids and requestors apart between the clients, so each creates its own RT users as
    fieldkit's run does."""

    def __init__(self, prefix: str, run: dict) -> None:
        from fieldkit.sync.notes import run_text

        self.prefix = prefix
        self.run_note = run_text(run)
        self.blob = base64.b64encode(json.dumps(run, indent=1).encode()).decode()

    def create(self, i: int) -> dict:
        from fieldkit.sync.rt.wire import PRIORITY_TO_RT, first_content

        ticket = bench_ticket(i, contact=f"{self.prefix}{i}@acme.test")
        return {"Queue": "General", "Subject": ticket.title, "Content": first_content(ticket),
                "ContentType": "text/plain", "Priority": PRIORITY_TO_RT[ticket.priority],
                "Status": "new", "Requestor": ticket.contact,
                "CustomFields": {"FieldkitID": f"{self.prefix}-{i}", "Category": ticket.category,
                                 "Site": ticket.site, "SupportLevel": "1"}}

    def notes(self, tid: int, i: int) -> list[dict]:
        return [{"id": tid, "Subject": f"[fieldkit {uuid.uuid4()}] note {n} on ticket {i}",
                 "Content": f"note {n} on ticket {i}", "ContentType": "text/plain",
                 "TimeTaken": "5"} for n in range(2)]

    def diagnostics(self, tid: int) -> dict:
        return {"id": tid, "Subject": f"[fieldkit {uuid.uuid4()}] {self.run_note[:60]}",
                "Content": self.run_note, "ContentType": "text/plain", "TimeTaken": "0",
                "Attachments": [{"FileName": "fieldkit-diag.json",
                                 "FileType": "application/json", "FileContent": self.blob}]}


def naive(url: str, count: int, run: dict) -> float:
    import httpx

    from tests.peers.rt import API_PASSWORD, API_USER

    auth = (API_USER, API_PASSWORD)
    writes = Writes("naive", run)
    t0 = time.monotonic()
    for i in range(count):
        r = httpx.post(f"{url}/REST/2.0/ticket", auth=auth, json=writes.create(i))
        r.raise_for_status()
        tid = r.json()["id"]
        for body in [*writes.notes(tid, i), writes.diagnostics(tid)]:
            body = {k: v for k, v in body.items() if k != "id"}
            httpx.post(f"{url}/REST/2.0/ticket/{tid}/comment", auth=auth,
                       json=body).raise_for_status()
    return time.monotonic() - t0


def floor(url: str, count: int, run: dict, prefix: str = "floor") -> float:
    import httpx

    from tests.peers.rt import API_PASSWORD, API_USER

    writes = Writes(prefix, run)
    with httpx.Client(base_url=f"{url}/REST/2.0", auth=(API_USER, API_PASSWORD),
                      timeout=300) as client:
        t0 = time.monotonic()
        made = client.post("/tickets/bulk", json=[writes.create(i) for i in range(count)])
        made.raise_for_status()
        ids = [item["id"] for item in made.json()]
        client.post("/tickets/bulk/comment", json=[
            note for i, tid in enumerate(ids) for note in writes.notes(tid, i)]
        ).raise_for_status()
        client.post("/tickets/bulk/comment", json=[
            writes.diagnostics(tid) for tid in ids]).raise_for_status()
        return time.monotonic() - t0


def warm_up(url: str, run: dict) -> None:
    """A fresh RT's worker processes load code on their first creates and comments; whoever
    comes first would pay for it. Four small floors at once reach all four workers."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda k: floor(url, 5, run, prefix=f"warm{k}-"), range(4)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100)
    args = parser.parse_args()
    from tests.peers.rt import API_PASSWORD, RTInstance, available

    if os.geteuid() != 0 or not available():
        sys.exit("bench/sync.py needs root and Request Tracker 5 (see .ci/install-packages)")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from installed import compile_fieldkit

    compile_fieldkit()  # as `pip install .` does (see bench/installed.py)
    run = run_checks(select(["system", "disk"]), CheckContext(probe=False)).to_dict()
    rt = RTInstance(bcrypt_cost=12)
    try:
        rt.start()
        warm_up(rt.url, run)
        floor_before = floor(rt.url, args.tickets, run, prefix="floor-a")
        with tempfile.TemporaryDirectory(prefix="fk-bench-sync-") as tmp:
            home = Path(tmp)
            (home / "config.toml").write_text(
                f'[sync]\nbackend = "rt"\nurl = "{rt.url}"\nqueue = "General"\nuser = "fieldkit"\n'
            )
            build_store(home, args.tickets, run)
            env = {**os.environ, "FIELDKIT_HOME": str(home), "FIELDKIT_SYNC_PASSWORD": API_PASSWORD}
            t0 = time.monotonic()
            out = subprocess.run(
                [sys.executable, "-m", "fieldkit", "sync", "--json"],
                env=env,
                capture_output=True,
                text=True,
            )
            fieldkit_s = time.monotonic() - t0
            summary = json.loads(out.stdout)
            assert summary["created"] == args.tickets and summary["pending"] == 0, out
        print(
            f"fieldkit sync: {fieldkit_s:.1f} s for {args.tickets} tickets "
            f"({summary['created']} created, {summary['pending']} pending)"
        )
        floor_after = floor(rt.url, args.tickets, run, prefix="floor-b")
        floor_s = (floor_before + floor_after) / 2
        print(f"bulk floor:    {floor_s:.1f} s (3 hand-made bulk requests, basic auth; "
              f"{floor_before:.1f} s before fieldkit, {floor_after:.1f} s after)")
        naive_s = naive(rt.url, args.tickets, run)
        print(f"naive client:  {naive_s:.1f} s ({args.tickets * 4} requests, each with basic auth)")
        print(f"fieldkit / floor: {fieldkit_s / floor_s:.2f} (aim: <= 1.3)")
        print(json.dumps({"tickets": args.tickets, "fieldkit_s": round(fieldkit_s, 2),
                          "naive_s": round(naive_s, 2), "floor_s": round(floor_s, 2),
                          "ratio": round(naive_s / fieldkit_s, 2),
                          "vs_floor": round(fieldkit_s / floor_s, 2)}))
    finally:
        rt.destroy()


if __name__ == "__main__":
    main()
