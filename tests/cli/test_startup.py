"""Start-up discipline: light commands never import the heavy modules (timing is in bench/)."""

import os
import subprocess
import sys

import pytest

HEAVY = ("paramiko", "httpx", "requests", "pyipp", "rich", "cryptography", "zeroconf")


def imported_by(home, *args: str) -> set[str]:
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "fieldkit", *args],
                           capture_output=True, text=True,
                           env={**os.environ, "FIELDKIT_HOME": str(home)})
    return {line.split("|")[-1].strip() for line in trace.stderr.splitlines() if "|" in line}


@pytest.mark.parametrize("args", [("ticket", "list", "--json"), ("ticket", "new", "-t", "x"),
                                  ("diag", "--no-probe", "--json"), ("sync", "status"),
                                  ("sync", "--dry-run"), ("checklist", "list", "--json")])
def test_light_commands_import_nothing_heavy(home, args):
    home.mkdir(parents=True, exist_ok=True)  # an SFTP backend configured: still nothing heavy
    (home / "config.toml").write_text('[sync]\nbackend = "sftp"\nurl = "sftp://u@h/drop"\n')
    imported = imported_by(home, *args)
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []
    assert not {m for m in imported if m.startswith("fieldkit.remote")}


@pytest.mark.parametrize("args", [("--help",), ("ticket", "list", "--json")])
def test_commands_without_diagnostics_import_no_printer_code(home, args):
    imported = imported_by(home, *args)
    assert not {m for m in imported if m.startswith("fieldkit.diagnostics")}


def test_only_commands_that_use_ssh_import_it(home):
    """The control: --host does load paramiko (and fails fast here: nothing listens)."""
    imported = imported_by(home, "diag", "--host", "ssh://127.0.0.1:1", "--check", "system.os")
    assert "paramiko" in imported and "fieldkit.remote.ssh" in imported
