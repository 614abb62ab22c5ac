"""Start-up discipline: light commands never import the heavy modules (timing is in bench/)."""

import os
import subprocess
import sys

import pytest

HEAVY = ("paramiko", "httpx", "requests", "pyipp", "rich", "cryptography", "zeroconf")


@pytest.mark.parametrize("args", [("ticket", "list", "--json"), ("ticket", "new", "-t", "x"),
                                  ("diag", "--no-probe", "--json"), ("sync", "status"),
                                  ("checklist", "list", "--json")])
def test_light_commands_import_nothing_heavy(home, args):
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "fieldkit", *args],
                           capture_output=True, text=True,
                           env={**os.environ, "FIELDKIT_HOME": str(home)})
    imported = {line.split("|")[-1].strip() for line in trace.stderr.splitlines() if "|" in line}
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []


@pytest.mark.parametrize("args", [("--help",), ("ticket", "list", "--json")])
def test_commands_without_diagnostics_import_no_printer_code(home, args):
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "fieldkit", *args],
                           capture_output=True, text=True,
                           env={**os.environ, "FIELDKIT_HOME": str(home)})
    imported = {line.split("|")[-1].strip() for line in trace.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.startswith("fieldkit.diagnostics")}
