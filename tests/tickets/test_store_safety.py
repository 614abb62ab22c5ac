"""Safety against other processes and sudden death, with real fieldkit processes."""

import json
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from fieldkit.tickets.store import TicketStore
from tests.conftest import fieldkit_cmd


def _env(home):
    import os

    return {**os.environ, "FIELDKIT_HOME": str(home)}


def test_two_processes_adding_50_each_end_with_100(home):
    script = ("import sys\nfrom fieldkit.cli.main import run\n"
              "for i in range(50):\n"
              "    assert run(['ticket','new','-t',f'{sys.argv[1]}-{i}']) == 0\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, name], env=_env(home),
                              stdout=subprocess.DEVNULL) for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    tickets = TicketStore.at_home(home).list()
    assert len(tickets) == 100
    assert sorted(int(t.ref[3:]) for t in tickets) == list(range(1, 101))
    assert {t.title for t in tickets} == {f"{n}-{i}" for n in "ab" for i in range(50)}


def test_parallel_cli_processes_never_lose_notes(home):
    assert subprocess.run([*fieldkit_cmd(), "ticket", "new", "-t", "x"], env=_env(home),
                          capture_output=True).returncode == 0

    def add(i):
        return subprocess.run([*fieldkit_cmd(), "ticket", "note", "1", f"n{i}", "-m", "1"],
                              env=_env(home), capture_output=True).returncode

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(add, range(24))) == {0}
    ticket = TicketStore.at_home(home).get("1")
    assert sorted(e["text"] for e in ticket.worklog) == sorted(f"n{i}" for i in range(24))


def test_sigkill_at_random_moments_never_loses_a_confirmed_ticket(home):
    """Kill `ticket new` / `ticket note` processes at random instants; whatever exited 0 is kept."""
    rng = random.Random(20261128)
    confirmed_titles, confirmed_notes = set(), set()
    killed = 0
    for i in range(40):
        kind = "note" if confirmed_titles and i % 3 == 0 else "new"
        args = (["ticket", "note", "1", f"note-{i}"] if kind == "note"
                else ["ticket", "new", "-t", f"t-{i}", "--diag"])
        child = subprocess.Popen([*fieldkit_cmd(), *args], env=_env(home),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.0, 0.35))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            killed += 1
        code = child.wait()
        if code == 0:
            (confirmed_notes if kind == "note" else confirmed_titles).add(args[-1 if kind == "note"
                                                                              else 3])
        # after every kill the store must still read cleanly
        TicketStore.at_home(home).list()
    assert killed >= 5, "the kill window missed every write; widen it"
    tickets = TicketStore.at_home(home).list()
    titles = {t.title for t in tickets}
    assert confirmed_titles <= titles
    if confirmed_titles:
        notes = {e["text"] for e in TicketStore.at_home(home).get("1").worklog}
        assert confirmed_notes <= notes
    refs = [t.ref for t in tickets]
    assert len(refs) == len(set(refs))
    for path in (home / "store").rglob("*.json"):
        json.loads(path.read_text())  # every file parses


def test_store_file_orjson_refuses_is_still_read_and_damage_still_reported(tmp_path):
    """orjson parses shards, but json has the last word: NaN and integers beyond 64 bits (which
    json writes) read back; a truncated file is still a clear StoreCorruptError."""
    import pytest

    from fieldkit.errors import StoreCorruptError
    from fieldkit.tickets.storage import read_json

    odd = tmp_path / "odd.json"
    odd.write_text('{"reading": NaN, "counter": 123456789012345678901234567890}')
    data = read_json(odd)
    assert data["counter"] == 123456789012345678901234567890 and data["reading"] != data["reading"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"tickets": {"1": {"title": "print')
    with pytest.raises(StoreCorruptError, match="damaged"):
        read_json(broken)
    assert broken.read_text() == '{"tickets": {"1": {"title": "print'
