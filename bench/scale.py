#!/usr/bin/env python3
"""A store of years of tickets: do lists, filters, search and sync checks stay instant?

Builds stores of 10,000 and 100,000 tickets with fieldkit's own API (Ticket methods,
TicketStore.create_many, and settle_many as a sync would): 2 worklog notes each, a ~30-finding
diagnostic run on every third, 92 % closed and synced (the oldest), the newest 8 % open, the
newest 2 % not synced yet. Then times whole `fieldkit` processes, median of 5:

  list_pending_ms   ticket list --pending
  list_status_ms    ticket list --status new
  list_json_s       ticket list --json (every ticket; list_json_mib: its peak memory)
  sync_status_ms    sync status --json
  search_ms         ticket search <a word from one note>
  new_ms            ticket new -t ...

One JSON line per size: {"n", "list_pending_ms", "list_status_ms", "list_json_s",
"list_json_mib", "sync_status_ms", "search_ms", "new_ms"}.

    python bench/scale.py [--sizes 10000 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldkit.tickets.model import CATEGORIES, Ticket  # noqa: E402
from fieldkit.tickets.store import Settlement, TicketStore  # noqa: E402

SITES = [f"ACME {city}" for city in ("Berlin", "Hamburg", "Munich", "Cologne", "Leipzig",
                                     "Dresden", "Bremen", "Essen", "Bonn", "Kiel")]
PROBLEMS = ["Outlook cannot send", "printer jams on tray 2", "VPN drops every hour",
            "laptop very slow after update", "disk full on C:", "no network in room 204",
            "phone shows no SIP registration", "new workstation for trainee",
            "mobile mail does not sync", "file share asks for password"]
NOTES = ["checked cables and restarted the switch port", "recreated the mail profile",
         "cleared the print queue and power-cycled the printer", "updated the VPN client",
         "freed space in the downloads folder", "reset the password with the user",
         "replaced the patch cable", "reinstalled the driver from the vendor site"]
NEEDLE = "zq7needle"  # one note in the whole store says it: what `ticket search` looks for


def sample_run(findings: int = 30) -> dict:
    statuses = ["ok"] * 24 + ["warn"] * 4 + ["fail"] * 2
    return {"schema": "fieldkit.diag/1", "host": "PC-042", "started_at": "2026-01-05T09:00:00Z",
            "duration_s": 1.2, "findings": [
                {"check": f"check.{i}", "subject": f"subject {i}", "status": statuses[i % 30],
                 "summary": f"finding {i}: value within range", "data": {"value": i},
                 "hint": "" if statuses[i % 30] == "ok" else "look at it", "duration_s": 0.01}
                for i in range(findings)]}


def build(home: Path, count: int) -> float:
    rng = random.Random(count)
    store = TicketStore.at_home(home, actor="bench")
    run = sample_run()
    t0 = time.monotonic()
    batch = []
    for i in range(count):
        ticket = Ticket.create(f"{rng.choice(PROBLEMS)} #{i}", actor="bench",
                               site=rng.choice(SITES), category=rng.choice(CATEGORIES),
                               requester=f"user{i % 500}", impact=rng.choice(("low", "medium")),
                               description="reported by phone; user is waiting")
        ticket.add_note(rng.choice(NOTES) + (f" {NEEDLE}" if i == count // 3 else ""), 10)
        ticket.add_note(rng.choice(NOTES), 5)
        batch.append((ticket, dict(run) if i % 3 == 0 else None))
    created = store.create_many(batch)
    closed = [t.ref for t in created[:int(count * 0.92)]]  # the oldest are done
    for start in range(0, len(closed), 5000):
        store.change_many(closed[start:start + 5000],
                          lambda t: (t.resolve("fixed on site"), t.close()))
    synced = {}
    for i, ticket in enumerate(created[:int(count * 0.98)]):  # all but the newest 2 % synced
        def link(t: Ticket, i: int = i) -> None:
            t.remote.update(id=str(i + 1), url=f"https://rt/{i + 1}", status="resolved",
                            agreed_local=t.status, system="RT")
        synced[ticket.ref] = Settlement(done=_all_entries, update=link)
    _settle_all(store, synced)
    return time.monotonic() - t0


class _AllEntries:
    """``done`` for settle_many: every pending entry of the ticket."""

    def __contains__(self, _event_id: object) -> bool:
        return True


_all_entries = _AllEntries()


def _settle_all(store: TicketStore, work: dict[str, Settlement]) -> None:
    refs = list(work)
    for start in range(0, len(refs), 5000):
        store.settle_many({ref: work[ref] for ref in refs[start:start + 5000]})


# Linux keeps a process's peak RSS across fork and exec, so a child of this (big) benchmark
# would report the benchmark's own peak: a small launcher forks fieldkit and reports its peak.
# It also times the child alone, without its own start-up.
LAUNCH = ("import os, sys, time\nt0 = time.perf_counter()\npid = os.fork()\nif pid == 0:\n"
          "    os.execv(sys.argv[1], sys.argv[1:])\n_, status, usage = os.wait4(pid, 0)\n"
          "sys.stderr.write(f'MAXRSS {usage.ru_maxrss} {time.perf_counter() - t0}\\n')\n"
          "sys.exit(os.waitstatus_to_exitcode(status))")


def timed(home: Path, args: list[str], runs: int) -> tuple[float, float]:
    """Median seconds and peak MiB of whole `fieldkit ARGS` processes."""
    env = {**os.environ, "FIELDKIT_HOME": str(home)}
    times, peaks = [], []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", LAUNCH, sys.executable, "-m", "fieldkit",
                               *args], env=env, capture_output=True)
        peak, seconds = done.stderr.decode().rsplit("MAXRSS ", 1)[1].split()
        times.append(float(seconds))
        peaks.append(int(peak) / 1024)
        if done.returncode not in (0, 1):
            sys.exit(f"fieldkit {' '.join(args)} failed: {done.stderr.decode()[-300:]}")
    return statistics.median(times), max(peaks)


def measure(count: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"fk-scale-{count}-") as tmp:
        home = Path(tmp)
        built = build(home, count)
        print(f"{count} tickets built in {built:.0f} s", file=sys.stderr)
        result: dict = {"n": count}
        for key, args in (("list_pending_ms", ["ticket", "list", "--pending"]),
                          ("list_status_ms", ["ticket", "list", "--status", "new"]),
                          ("sync_status_ms", ["sync", "status", "--json"]),
                          ("search_ms", ["ticket", "search", NEEDLE])):
            result[key] = round(timed(home, args, runs)[0] * 1000, 1)
        seconds, mib = timed(home, ["ticket", "list", "--json"], runs)
        result["list_json_s"], result["list_json_mib"] = round(seconds, 2), round(mib, 1)
        result["new_ms"] = round(timed(home, ["ticket", "new", "-t", "bench"], runs)[0] * 1000, 1)
        return result


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from installed import compile_fieldkit

    compile_fieldkit()  # as `pip install .` does (see bench/installed.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for count in args.sizes:
        print(json.dumps(measure(count, args.runs)), flush=True)


if __name__ == "__main__":
    main()
