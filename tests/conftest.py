"""Shared fixtures: a private FIELDKIT_HOME per test, the CLI in-process and as a real process.

Peers and privileges: a test that needs one calls :func:`need`. Locally a missing peer skips the
test with the reason; in CI (``CI`` set) it fails, so a green CI run means every peer was there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldkit.cli.main import run

IN_CI = bool(os.environ.get("CI"))


def pytest_configure(config):
    """Isolate the session from the host network before any test (or thread) starts."""
    from tests.netisolation import enter_private_network

    if os.environ.get("FIELDKIT_TEST_NETNS") == os.readlink("/proc/self/ns/net"):
        return  # already isolated (pytest-in-pytest)
    try:
        os.environ["FIELDKIT_TEST_NETNS"] = enter_private_network()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.exit(f"cannot leave the host network namespace ({exc}); the tests would probe "
                    "this machine's real gateway. Run as root or enable user namespaces.",
                    returncode=3)


def need(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) when a peer or privilege the test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI is missing a test peer: {reason}")
    pytest.skip(reason)


def need_root() -> None:
    need(os.geteuid() == 0, "needs root (network namespaces, mounts)")


def need_tool(*tools: str) -> None:
    for tool in tools:
        need(shutil.which(tool) is not None, f"needs {tool} installed")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "fkhome"
    monkeypatch.setenv("FIELDKIT_HOME", str(path))
    monkeypatch.setenv("NO_COLOR", "1")
    return path


@pytest.fixture
def cli(home, capsys):
    """Run fieldkit in-process (fast); returns a Result with exit code, stdout, stderr."""

    def invoke(*args: str) -> Result:
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def fieldkit_cmd() -> list[str]:
    return [sys.executable, "-m", "fieldkit"]


@pytest.fixture
def proc(home):
    """Run fieldkit as a separate process, as a technician would."""

    def invoke(*args: str | bytes, timeout: float = 60, **kw) -> Result:
        done = subprocess.run([*fieldkit_cmd(), *args], capture_output=True, timeout=timeout,
                              env={**os.environ, "FIELDKIT_HOME": str(home)}, **kw)
        return Result(done.returncode, done.stdout.decode("utf-8", "replace"),
                      done.stderr.decode("utf-8", "replace"))

    return invoke
