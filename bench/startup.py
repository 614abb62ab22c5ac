#!/usr/bin/env python3
"""Start-up cost of the CLI against two baselines of the same Typer version.

Times (median of N whole processes) `fieldkit ticket list --json` on an empty store, a minimal
Typer app with one command, and a bare `python -c "import typer"`. It also lists any heavy module
(paramiko, httpx, requests, pyipp, rich) that `ticket list` imported. Last line JSON:
{"fieldkit_ms", "typer_app_ms", "import_typer_ms", "ratio_app", "ratio_import", "heavy": [...]}
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

MINIMAL_APP = """
import typer
app = typer.Typer()
@app.command()
def hello(json: bool = False):
    print("[]")
app()
"""
HEAVY = ("paramiko", "httpx", "requests", "pyipp", "rich")


def median_ms(cmd: list[str], env: dict, runs: int) -> float:
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(runs: int = 15) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from installed import compile_fieldkit

    compile_fieldkit()  # as `pip install .` does (see bench/installed.py)
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "FIELDKIT_HOME": home}
        script = os.path.join(os.path.dirname(sys.executable), "fieldkit")
        cli = [script] if os.path.exists(script) else [sys.executable, "-m", "fieldkit"]
        fk = median_ms([*cli, "ticket", "list", "--json"], env, runs)
        app = median_ms([sys.executable, "-c", MINIMAL_APP], env, runs)
        bare = median_ms([sys.executable, "-c", "import typer"], env, runs)
        trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "fieldkit", "ticket",
                                "list", "--json"], env=env, capture_output=True, text=True)
    imported = {line.split("|")[-1].strip() for line in trace.stderr.splitlines() if "|" in line}
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    print(f"fieldkit ticket list --json: {fk:.1f} ms")
    print(f"minimal Typer app:           {app:.1f} ms")
    print(f"python -c 'import typer':    {bare:.1f} ms")
    print(f"heavy modules imported:      {', '.join(heavy) or 'none'}")
    print(json.dumps({"fieldkit_ms": round(fk, 1), "typer_app_ms": round(app, 1),
                      "import_typer_ms": round(bare, 1), "ratio_app": round(fk / app, 2),
                      "ratio_import": round(fk / bare, 2), "heavy": heavy}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
