#!/usr/bin/env python3
"""fieldkit diag reach vs nmap -sT -Pn: 50 targets, 25 of them silently dropped, timeout 1 s.

Builds its own peer (root needed): the whole benchmark first leaves the host's network
namespace (unshare), then a namespace "site" on a veth pair gets a listener on 25 ports and an
nftables rule dropping 25 others. Both tools probe the same 50 host:port pairs; each is timed
as a whole process, median of N runs. nmap runs with -n (no reverse DNS) so nothing leaves.

Second row, slow DNS: a client namespace whose resolver (a delaying forwarder in front of
dnsmasq, both in "site") answers every lookup after 3 s; 100 names, --timeout 5. Every port
listens, so every target must come back open (before issue 11: 64 open, 36 "filtered").
Last line JSON: {"fieldkit_s": .., "nmap_s": .., "ratio": .., "slow_dns_s": ..,
"slow_dns_names": 100, "slow_dns_open": ..} (ratio = fieldkit / nmap).

    sudo python bench/reach.py [--runs 5]
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

OPEN_PORTS = list(range(9100, 9125))
DROPPED_PORTS = list(range(9200, 9225))
PEER = "10.230.0.2"
DNS, SLOW_DNS, SLOW_SITE, CLIENT = "10.231.0.1", "10.231.0.2", "10.231.0.3", "10.231.0.100"
SLOW_NAMES = 100


def timed(cmd: list[str], runs: int) -> tuple[float, list[float], subprocess.CompletedProcess]:
    times, last = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        last = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from installed import compile_fieldkit

    compile_fieldkit()  # as `pip install .` does (see bench/installed.py)
    if os.geteuid() != 0 or not shutil.which("nmap") or not shutil.which("nft"):
        sys.exit("bench/reach.py needs root, nmap and nft (see .ci/install-packages)")
    from tests.netisolation import enter_private_network
    from tests.peers.netns import Netns, veth

    enter_private_network()  # nothing this benchmark sends can leave the machine
    site = Netns("fkbench")
    client = None
    try:
        veth(None, "10.230.0.1/24", site, f"{PEER}/24")
        drops = "\n".join(f"    tcp dport {p} drop" for p in DROPPED_PORTS)
        site.nft(
            f"table inet fk {{\n  chain input {{\n    type filter hook input priority 0;\n"
            f"{drops}\n  }}\n}}\n"
        )
        site.listen(PEER, *OPEN_PORTS)
        targets = [f"{PEER}:{p}" for p in OPEN_PORTS + DROPPED_PORTS]
        fk_cmd = [
            sys.executable,
            "-m",
            "fieldkit",
            "diag",
            "reach",
            "--timeout",
            "1",
            "--json",
            *targets,
        ]
        nmap_cmd = [
            "nmap",
            "-sT",
            "-Pn",
            "-n",
            "-p",
            ",".join(map(str, OPEN_PORTS + DROPPED_PORTS)),
            PEER,
        ]
        fk_s, fk_times, fk_out = timed(fk_cmd, args.runs)
        nmap_s, nmap_times, nmap_out = timed(nmap_cmd, args.runs)
        states = [f["data"]["state"] for f in json.loads(fk_out.stdout)["findings"]]
        print(
            f"fieldkit diag reach: median {fk_s:.2f} s (runs "
            f"{', '.join(f'{t:.2f}' for t in fk_times)});"
            f" {states.count('open')} open, {states.count('filtered')} filtered"
        )
        nmap_open = nmap_out.stdout.count("/tcp open")
        nmap_filtered = nmap_out.stdout.count("filtered")
        print(
            f"nmap -sT -Pn -n:     median {nmap_s:.2f} s (runs "
            f"{', '.join(f'{t:.2f}' for t in nmap_times)}); {nmap_open} open, filtered lines "
            f"{nmap_filtered}"
        )
        client = Netns("fkbcl")
        slow_s, slow_times, slow_open = slow_dns_row(site, client, min(args.runs, 3))
        print(
            f"slow DNS (3 s per lookup, {SLOW_NAMES} names, --timeout 5): median {slow_s:.2f} s "
            f"(runs {', '.join(f'{t:.2f}' for t in slow_times)}); {slow_open} of {SLOW_NAMES} "
            "open"
        )
        print(
            json.dumps(
                {
                    "fieldkit_s": round(fk_s, 3),
                    "nmap_s": round(nmap_s, 3),
                    "ratio": round(fk_s / nmap_s, 3),
                    "slow_dns_s": round(slow_s, 3),
                    "slow_dns_names": SLOW_NAMES,
                    "slow_dns_open": slow_open,
                }
            )
        )
    finally:
        if client is not None:
            client.close()
        site.close()


def slow_dns_row(site, client, runs: int) -> tuple[float, list[float], int]:
    """100 names behind a resolver that takes 3 s per lookup; every port listens."""
    from tests.peers.netns import veth

    site_if, _ = veth(site, f"{DNS}/24", client, f"{CLIENT}/24")
    for address in (SLOW_DNS, SLOW_SITE):
        site.ip("addr", "add", f"{address}/24", "dev", site_if)
    site.dnsmasq(DNS, {"bench.test": SLOW_SITE, "invalid": None})
    peers = Path(__file__).resolve().parents[1] / "tests" / "peers"
    site.start(sys.executable, str(peers / "dnspeer.py"), SLOW_DNS, "delay", "3", DNS,
               ready="ready")
    site.listen(SLOW_SITE, *OPEN_PORTS)
    client.resolv_conf(f"nameserver {SLOW_DNS}\noptions timeout:5 attempts:1\n")
    targets = [f"n{i}.bench.test:{OPEN_PORTS[i % len(OPEN_PORTS)]}" for i in range(SLOW_NAMES)]
    cmd = client.exec_cmd(sys.executable, "-m", "fieldkit", "diag", "reach", "--timeout", "5",
                          "--json", *targets)
    median, times, last = timed(cmd, runs)
    states = [f["data"]["state"] for f in json.loads(last.stdout)["findings"]]
    return median, times, states.count("open")


if __name__ == "__main__":
    main()
