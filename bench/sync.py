#!/usr/bin/env python3
"""fieldkit sync vs a naive client and vs a hand-made bulk floor, against a local RT 5.

Starts a private RT (root and the Debian packages needed, see .ci/install-packages) with RT's
default bcrypt cost 12, so every authenticated request pays the ~250-360 ms a real server
charges. All three send the same work: N tickets, each with 2 worklog notes and 1 diagnostic
run (a readable note plus the JSON attachment).

- fieldkit: `fieldkit sync` as a whole process on a store holding that work (basic auth).
- naive: one request per item, sequential, fresh basic auth and connection each time - what a
  quick script with python-rt does (create, note, note, attachment: 4 requests per ticket).
- floor: the same writes as hand-made bulk calls with basic auth on one connection: one
  POST /tickets/bulk, one POST /tickets/bulk/comment for the notes, one for the attachments.
  No searches, no confirmation: the least any client could send.

Last line JSON: {"tickets", "fieldkit_s", "naive_s", "floor_s", "ratio"} with ratio =
naive / fieldkit; fieldkit_s / floor_s is printed above it.

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldkit.diagnostics.registry import CheckContext, select  # noqa: E402
from fieldkit.diagnostics.runner import run_checks  # noqa: E402
from fieldkit.tickets.model import Ticket  # noqa: E402
from fieldkit.tickets.store import TicketStore  # noqa: E402


def build_store(home: Path, count: int, run: dict) -> None:
    store = TicketStore.at_home(home)
    for i in range(count):
        ticket = store.create(
            Ticket.create(
                f"bench ticket {i}",
                site="ACME",
                contact=f"user{i}@acme.test",
                description="the printer on floor 2 jams",
            ),
            run,
        )
        for n in range(2):
            store.change(ticket.ref, lambda t, n=n, i=i: t.add_note(f"note {n} on ticket {i}", 5))


def naive(url: str, count: int, run: dict) -> float:
    import httpx

    from tests.peers.rt import API_PASSWORD, API_USER

    auth = (API_USER, API_PASSWORD)
    blob = base64.b64encode(json.dumps(run).encode()).decode()
    t0 = time.monotonic()
    for i in range(count):
        r = httpx.post(
            f"{url}/REST/2.0/ticket",
            auth=auth,
            json={
                "Queue": "General",
                "Subject": f"naive ticket {i}",
                "Content": "printer jams",
                "ContentType": "text/plain",
            },
        )
        r.raise_for_status()
        tid = r.json()["id"]
        for n in range(2):
            httpx.post(
                f"{url}/REST/2.0/ticket/{tid}/comment",
                auth=auth,
                json={"Content": f"note {n}", "ContentType": "text/plain", "TimeTaken": "5"},
            ).raise_for_status()
        httpx.post(
            f"{url}/REST/2.0/ticket/{tid}/comment",
            auth=auth,
            json={
                "Content": "diagnostics",
                "ContentType": "text/plain",
                "Attachments": [
                    {"FileName": "run.json", "FileType": "application/json", "FileContent": blob}
                ],
            },
        ).raise_for_status()
    return time.monotonic() - t0


def floor(url: str, count: int, run: dict) -> float:
    import httpx

    from tests.peers.rt import API_PASSWORD, API_USER

    blob = base64.b64encode(json.dumps(run).encode()).decode()
    with httpx.Client(base_url=f"{url}/REST/2.0", auth=(API_USER, API_PASSWORD),
                      timeout=300) as client:
        t0 = time.monotonic()
        made = client.post("/tickets/bulk", json=[
            {"Queue": "General", "Subject": f"floor ticket {i}", "Content": "printer jams",
             "ContentType": "text/plain", "CustomFields": {"FieldkitID": f"floor-{i}"}}
            for i in range(count)])
        made.raise_for_status()
        ids = [item["id"] for item in made.json()]
        client.post("/tickets/bulk/comment", json=[
            {"id": tid, "Subject": f"note {n}", "Content": f"note {n}",
             "ContentType": "text/plain", "TimeTaken": "5"}
            for tid in ids for n in range(2)]).raise_for_status()
        client.post("/tickets/bulk/comment", json=[
            {"id": tid, "Subject": "diagnostics", "Content": "diagnostics",
             "ContentType": "text/plain", "Attachments": [
                 {"FileName": "run.json", "FileType": "application/json", "FileContent": blob}]}
            for tid in ids]).raise_for_status()
        return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100)
    args = parser.parse_args()
    from tests.peers.rt import API_PASSWORD, RTInstance, available

    if os.geteuid() != 0 or not available():
        sys.exit("bench/sync.py needs root and Request Tracker 5 (see .ci/install-packages)")
    run = run_checks(select(["system", "disk"]), CheckContext(probe=False)).to_dict()
    rt = RTInstance(bcrypt_cost=12)
    try:
        rt.start()
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
        floor_s = floor(rt.url, args.tickets, run)
        print(f"bulk floor:    {floor_s:.1f} s (3 hand-made bulk requests, basic auth)")
        naive_s = naive(rt.url, args.tickets, run)
        print(f"naive client:  {naive_s:.1f} s ({args.tickets * 4} requests, each with basic auth)")
        print(f"fieldkit / floor: {fieldkit_s / floor_s:.2f} (aim: <= 1.3)")
        print(json.dumps({"tickets": args.tickets, "fieldkit_s": round(fieldkit_s, 2),
                          "naive_s": round(naive_s, 2), "floor_s": round(floor_s, 2),
                          "ratio": round(naive_s / fieldkit_s, 2)}))
    finally:
        rt.destroy()


if __name__ == "__main__":
    main()
