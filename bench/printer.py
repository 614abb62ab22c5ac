#!/usr/bin/env python3
"""fieldkit diag printer vs ipptool -t on a healthy ippeveprinter, and a dead printer's cost.

Builds its own peers (root needed): the whole benchmark first leaves the host's network
namespace (unshare); ippeveprinter runs on loopback with a private dbus-daemon and an
avahi-daemon in an empty namespace (no mDNS leaves); the "dead" printer is an address in a
namespace on a veth pair whose nftables rule drops TCP 631.

- healthy_ms: median wall time of a whole `fieldkit diag printer URI --json` process (start-up,
  reach probe, Get-Printer-Attributes, verdicts, JSON) over N runs;
- ipptool_ms: median of `ipptool -t URI` asking the same attributes of the same printer;
- dead_s: median of `fieldkit diag printer ipp://DEAD/ipp/print` with the default timeout:
  it must cost about one timeout (3 s), not one per IPP version and resource path.
Last line JSON: {"healthy_ms": .., "dead_s": .., "ipptool_ms": ..}.

    sudo python bench/printer.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEAD = "10.232.0.2"
DEFAULT_TIMEOUT_S = 3.0


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, list[float], str, int]:
    times, out, code = [], "", 0
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t0)
        out, code = done.stdout, done.returncode
    return statistics.median(times), times, out, code


def fmt(times: list[float], scale: float = 1000, digits: int = 0) -> str:
    return ", ".join(f"{t * scale:.{digits}f}" for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from installed import compile_fieldkit

    compile_fieldkit()  # as `pip install .` does (see bench/installed.py)
    tools = ("ippeveprinter", "ipptool", "nft", "dbus-daemon", "avahi-daemon")
    if os.geteuid() != 0 or not all(shutil.which(t) for t in tools):
        sys.exit(f"bench/printer.py needs root and {', '.join(tools)} (.ci/install-packages)")
    from tests.netisolation import enter_private_network
    from tests.peers.ipp import STATUS_TEST, Bus, IppEvePrinter
    from tests.peers.netns import Netns, veth

    enter_private_network()  # nothing this benchmark sends can leave the machine
    home = Path("/tmp") / f"fk-bench-printer-{os.getpid()}"
    env = {**os.environ, "FIELDKIT_HOME": str(home)}
    env.pop("CUPS_SERVER", None)
    bus = Bus()
    printer = site = None
    try:
        printer = IppEvePrinter(bus)
        site = Netns("fkbprn")
        veth(None, "10.232.0.1/24", site, f"{DEAD}/24")
        site.nft("table inet fk {\n chain input {\n type filter hook input priority 0;\n"
                 " tcp dport 631 drop\n }\n}\n")
        fk = [sys.executable, "-m", "fieldkit", "diag", "printer", "--json"]
        healthy_s, healthy, out, code = timed([*fk, printer.uri], args.runs, env)
        states = [(f["check"], f["status"]) for f in json.loads(out)["findings"]]
        if code != 0 or states != [("printer.ipp", "ok"), ("printer.supply", "ok")]:
            sys.exit(f"healthy printer not ok: exit {code}, {states}")
        ipptool_s, ipptool, out, code = timed(["ipptool", "-t", printer.uri, str(STATUS_TEST)],
                                              args.runs, env)
        if code != 0:
            sys.exit(f"ipptool failed: {out}")
        dead_runs = max(3, args.runs // 2)
        dead_s, dead, out, code = timed([*fk, f"ipp://{DEAD}/ipp/print"], dead_runs, env)
        (finding,) = json.loads(out)["findings"]
        if code != 1 or finding["data"]["state"] != "filtered":
            sys.exit(f"dead printer not reported filtered: {finding}")
        print(f"healthy: fieldkit diag printer median {healthy_s * 1000:.0f} ms "
              f"(runs {fmt(healthy)}); ipptool -t median {ipptool_s * 1000:.0f} ms "
              f"(runs {fmt(ipptool)})")
        print(f"dead (tcp 631 dropped, timeout {DEFAULT_TIMEOUT_S:g} s): median {dead_s:.2f} s "
              f"(runs {fmt(dead, 1, 2)} s)")
        print(json.dumps({"healthy_ms": round(healthy_s * 1000, 1), "dead_s": round(dead_s, 3),
                          "ipptool_ms": round(ipptool_s * 1000, 1)}))
    finally:
        if printer:
            printer.close()
        if site:
            site.close()
        bus.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
