#!/usr/bin/env python3
"""How much does a big store slow down `fieldkit ticket new`?

Builds two stores through the real store API: 10 and 10,000 tickets, each with a diagnostic run
attached (a real local run, padded to ~30 findings like a full sweep). Then times
`fieldkit ticket new` as a whole process, median of N runs on each. The last line is JSON:
{"small_ms": .., "large_ms": .., "ratio": ..}.

    python bench/store.py [--runs 7] [--large 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fieldkit.diagnostics.registry import CheckContext, select
from fieldkit.diagnostics.runner import run_checks
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import TicketStore


def sample_run(findings: int = 30) -> dict:
    run = run_checks(select(["system", "disk"]), CheckContext(probe=False)).to_dict()
    real = run["findings"]
    run["findings"] = [dict(real[i % len(real)], subject=f"{real[i % len(real)]['subject']}#{i}")
                       for i in range(findings)]
    return run


def populate(home: Path, count: int, run: dict) -> float:
    store = TicketStore.at_home(home)
    t0 = time.monotonic()
    for i in range(count):
        ticket = Ticket.create(f"bench ticket {i}", site=f"site {i % 40}", category="hardware",
                               description="user reports the machine is slow " * 4)
        store.create(ticket, dict(run))
    return time.monotonic() - t0


def time_new(home: Path, runs: int) -> list[float]:
    env = {**os.environ, "FIELDKIT_HOME": str(home)}
    cmd = [sys.executable, "-m", "fieldkit", "ticket", "new", "--title", "timed", "--json"]
    subprocess.run(cmd, env=env, check=True, capture_output=True)  # warm the page cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from installed import compile_fieldkit

    compile_fieldkit()  # as `pip install .` does (see bench/installed.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    run = sample_run()
    results = {}
    with tempfile.TemporaryDirectory(prefix="fk-bench-") as tmp:
        for label, count in (("small", args.small), ("large", args.large)):
            home = Path(tmp) / label
            built = populate(home, count, run)
            times = time_new(home, args.runs)
            results[label] = statistics.median(times)
            print(f"{label}: {count} tickets (+{len(run['findings'])} findings each) built in "
                  f"{built:.1f} s; ticket new median {results[label]:.1f} ms "
                  f"(runs: {', '.join(f'{t:.0f}' for t in times)})")
    ratio = results["large"] / results["small"]
    small, large = round(results["small"], 1), round(results["large"], 1)
    print(json.dumps({"small_ms": small, "large_ms": large, "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    main()
