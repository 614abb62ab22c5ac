"""`checklist run --host`: the check steps run on the user's machine over SSH (as `diag --host`),
the questions here (issue 23 item 3). Against the real sshd peer."""

import json

import pytest

from tests.checklists.test_cli import answers
from tests.peers.sshd import BARE_ALT, HOST_NAME, INSTALLED
from tests.remote.conftest import LISTENING

pytestmark = pytest.mark.integration

# 127.0.0.1:LISTENING answers only inside the remote's namespace: open there, closed here
CHECKLIST = f"""id = "home-office"
title = "Home office reach"
category = "network"
version = 1
description = "Reach a service from the user's machine."

[[steps]]
id = "ask"
kind = "confirm"
title = "Is the VPN connected?"
tip = "Connect the VPN first."

[[steps]]
id = "there"
kind = "check"
check = "reach"
targets = ["127.0.0.1:{LISTENING}"]
title = "Reach the service from the user's machine"
tip = "Unreachable from there: escalate (VPN or firewall)."
mandatory = true

[[steps]]
id = "os"
kind = "check"
check = "system.os"
title = "Which machine is it"
tip = "Check the machine name."
"""


def write_checklist(home):
    (home / "checklists").mkdir(parents=True, exist_ok=True)
    (home / "checklists" / "home-office.toml").write_text(CHECKLIST)
    return answers(home, 'checklist = "home-office"\n[answers]\nask = true\n'
                         'there = "run"\nos = "run"\n')


@pytest.mark.parametrize("port", [BARE_ALT, INSTALLED])
def test_check_steps_run_on_the_host(proc, sshd, trusted, home, port):
    file = write_checklist(home)
    local = proc("checklist", "run", "home-office", "--answers", file, "--json")
    assert local.code == 0, local.err
    steps = {s["id"]: s for s in json.loads(local.out)["steps"]}
    assert steps["there"]["result"] == "fail"  # nothing listens on that port here
    r = proc("checklist", "run", "home-office", "--answers", file, "--json",
             "--host", sshd.url(port), "-i", str(sshd.user_key))
    assert r.code == 0, r.err
    run = json.loads(r.out)
    steps = {s["id"]: s for s in run["steps"]}
    assert steps["there"]["result"] == "ok", steps["there"]
    assert steps["ask"]["result"] != "error"  # answered here
    assert steps["os"]["findings"][0]["subject"] == HOST_NAME


def test_an_unknown_host_key_is_the_steps_error_not_a_crash(proc, sshd, user_home, home):
    file = write_checklist(home)
    r = proc("checklist", "run", "home-office", "--answers", file, "--json",
             "--host", sshd.url(), "-i", str(sshd.user_key))
    assert r.code == 0, r.err
    steps = {s["id"]: s for s in json.loads(r.out)["steps"]}
    assert steps["there"]["result"] == "error"
    assert "the check could not run" in steps["there"]["note"]
    assert "host key" in steps["there"]["note"].lower() or "unknown" in steps["there"]["note"]


def test_a_bad_host_is_refused_before_any_question(proc, home):
    file = write_checklist(home)
    r = proc("checklist", "run", "home-office", "--answers", file, "--host", "pc-042")
    assert r.code == 2 and "ssh://" in r.err
