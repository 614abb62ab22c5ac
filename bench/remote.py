#!/usr/bin/env python3
"""fieldkit diag --host vs OpenSSH doing the same work by hand, on a throwaway sshd.

Builds its own peer (root needed): the benchmark leaves the host's network namespace, then
``tests/peers/sshd.py`` starts sshd in a namespace on a veth pair, with no fieldkit on the
remote (the probe path) and a python3 without site-packages. Both sides do the same work, as
whole processes, median of N runs:

- fieldkit: ``fieldkit diag --host ssh://root@PEER -i KEY --json`` (connect, verify the host
  key, look for fieldkit/python3, make a 0700 temp dir, upload the probe over SFTP, run it,
  delete it);
- OpenSSH by hand: ``scp`` of the identical probe file, then ``ssh ... python3 PROBE < job;
  rm -f PROBE`` (two connections, no temp dir of its own: the least a person would type).

Last line JSON: {"fieldkit_s": .., "openssh_s": .., "ratio": ..} (ratio = fieldkit / openssh).

    sudo python bench/remote.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUBNET = 211


def timed(steps: list[list[str]], runs: int, env: dict[str, str], stdin: bytes = b""
          ) -> tuple[float, list[float], bytes]:
    times, out = [], b""
    for _ in range(runs):
        t0 = time.perf_counter()
        for i, cmd in enumerate(steps):
            done = subprocess.run(cmd, env=env, capture_output=True,
                                  input=stdin if i == len(steps) - 1 else b"")
            if done.returncode not in (0, 1):
                sys.exit(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
            out = done.stdout
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from installed import compile_fieldkit

    compile_fieldkit()  # as `pip install .` does (see bench/installed.py)
    if os.geteuid() != 0 or not shutil.which("ssh") or not shutil.which("scp"):
        sys.exit("bench/remote.py needs root, openssh-server and openssh-client")
    from fieldkit.config import load_config
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.remote.zipapp import build
    from tests.netisolation import enter_private_network
    from tests.peers.sshd import BARE, HOST_NAME, SshServer

    enter_private_network()  # nothing this benchmark sends can leave the machine
    work = Path(tempfile.mkdtemp(prefix="fk-bench-remote-"))
    server = SshServer(work / "sshd", SUBNET)
    try:
        server.start()
        home, user = work / "fkhome", work / "user"
        (user / ".ssh").mkdir(parents=True)
        home.mkdir()
        known = home / "known_hosts"
        known.write_text(server.known_hosts_line(BARE))
        env = {**os.environ, "FIELDKIT_HOME": str(home), "HOME": str(user)}
        env.pop("SSH_AUTH_SOCK", None)
        key, peer = str(server.user_key), f"{server.user}@{server.address}"

        fk_cmd = [sys.executable, "-m", "fieldkit", "diag", "--host", server.url(BARE), "-i",
                  key, "--json"]
        probe = work / "fieldkit-probe.pyz"
        probe.write_bytes(build())  # the same bytes fieldkit uploads
        job = Job("diag", settings=load_config(home).section("diag"))
        request = json.dumps({"job": job.to_dict(), "password": None}).encode()
        remote_probe = f"{server.tmp}/fieldkit-bench.pyz"
        ssh_opts = ["-i", key, "-o", f"UserKnownHostsFile={known}", "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"]
        by_hand = [["scp", "-q", *ssh_opts, str(probe), f"{peer}:{remote_probe}"],
                   ["ssh", *ssh_opts, peer,
                    f"python3 {remote_probe}; rc=$?; rm -f {remote_probe}; exit $rc"]]

        fk_s, fk_times, fk_out = timed([fk_cmd], args.runs, env)
        ssh_s, ssh_times, ssh_out = timed(by_hand, args.runs, env, request)
        fk_run, ssh_run = json.loads(fk_out), json.loads(ssh_out)
        assert fk_run["host"] == ssh_run["host"] == HOST_NAME
        same = sorted(f["check"] for f in fk_run["findings"]) == \
            sorted(f["check"] for f in ssh_run["findings"])
        assert server.leftovers() == [], server.leftovers()
        print(f"fieldkit diag --host:   median {fk_s:.3f} s (runs "
              f"{', '.join(f'{t:.3f}' for t in fk_times)}); {len(fk_run['findings'])} findings "
              f"from {fk_run['host']}, remote run {fk_run['duration_s']:.3f} s")
        print(f"scp + ssh python3 + rm: median {ssh_s:.3f} s (runs "
              f"{', '.join(f'{t:.3f}' for t in ssh_times)}); {len(ssh_run['findings'])} "
              f"findings, same checks: {same}")
        print(json.dumps({"fieldkit_s": round(fk_s, 3), "openssh_s": round(ssh_s, 3),
                          "ratio": round(fk_s / ssh_s, 3)}))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
