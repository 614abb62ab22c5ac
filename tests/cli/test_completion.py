"""Completion of real values through Click's completion protocol, in a subprocess as the shell
runs it: refs newest first, checklist ids, choices, config keys (issue 23 item 7)."""

import os
import subprocess

from tests.conftest import fieldkit_cmd


def complete(home, line: str) -> list[str]:
    """What bash's completion function gets for ``line`` (the cursor at its end)."""
    words = line.split() + ([""] if line.endswith(" ") else [])
    env = {**os.environ, "FIELDKIT_HOME": str(home), "_FIELDKIT_COMPLETE": "complete_bash",
           "COMP_WORDS": " ".join(words), "COMP_CWORD": str(len(words) - 1)}
    r = subprocess.run(fieldkit_cmd(), capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_ticket_refs_newest_first(proc, home):
    for title in ("one", "two", "three"):
        assert proc("ticket", "new", "-t", title).code == 0
    assert complete(home, "fieldkit ticket show ") == ["FK-3", "FK-2", "FK-1"]
    assert complete(home, "fieldkit ticket note FK-2") == ["FK-2"]


def test_no_store_completes_nothing(home):
    assert complete(home, "fieldkit ticket show ") == []


def test_checklist_ids_choices_and_config_keys(home):
    ids = complete(home, "fieldkit checklist run ")
    assert "disk-full" in ids and "no-network" in ids
    assert complete(home, "fieldkit checklist show dis") == ["disk-full"]
    assert complete(home, "fieldkit ticket new --category pr") == ["printer"]
    assert complete(home, "fieldkit ticket edit FK-1 --impact ") == ["high", "medium", "low"]
    keys = complete(home, "fieldkit config set sync.")
    assert "sync.backend" in keys and "sync.timeout_s" in keys
    assert all(k.startswith("sync.") for k in keys)
    assert complete(home, "fieldkit config set sync.escalation_queues.") == [
        "sync.escalation_queues.2", "sync.escalation_queues.3"]
