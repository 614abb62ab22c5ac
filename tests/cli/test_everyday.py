"""Everyday use: exit codes scripts can trust, text and files on tickets, history, frictions."""

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import fieldkit_cmd, need, need_root

# -- exit codes -------------------------------------------------------------------------------


def test_home_that_is_a_file_exits_4_with_path_and_reason(tmp_path):
    home = tmp_path / "home-is-a-file"
    home.write_text("oops")
    r = subprocess.run([*fieldkit_cmd(), "ticket", "new", "-t", "x"], capture_output=True,
                       text=True, env={**os.environ, "FIELDKIT_HOME": str(home)})
    assert r.returncode == 4
    assert str(home) in r.stderr and "not a directory" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_read_only_home_exits_4(tmp_path):
    need_root()
    home = tmp_path / "ro"
    home.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(home)], check=True)
    try:
        r = subprocess.run([*fieldkit_cmd(), "ticket", "new", "-t", "x"], capture_output=True,
                           text=True, env={**os.environ, "FIELDKIT_HOME": str(home)})
    finally:
        subprocess.run(["umount", str(home)], check=True)
    assert r.returncode == 4 and "Read-only file system" in r.stderr and str(home) in r.stderr


def test_someone_elses_home_exits_4(tmp_path):
    need_root()
    need(shutil.which("setpriv") is not None, "needs setpriv (util-linux)")
    home = tmp_path / "root-only"
    home.mkdir(mode=0o700)
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        *fieldkit_cmd(), "ticket", "list"], capture_output=True, text=True,
                       env={**os.environ, "FIELDKIT_HOME": str(home)})
    assert r.returncode == 4 and "Permission denied" in r.stderr and str(home) in r.stderr


@pytest.mark.parametrize("args", [("diag", "mail", "mail.test", "--ca-file", "/no/such.pem"),
                                  ("ticket", "show", "FK-999"),
                                  ("ticket", "new", "-t", "two\nlines")])
def test_debug_adds_a_traceback_but_never_changes_the_code(proc, args):
    plain = proc(*args)
    debug = proc("--debug", *args)
    assert plain.code == debug.code and plain.code in (2, 3)
    assert "Traceback" in debug.err and "Traceback" not in plain.err


def test_a_check_in_error_makes_diag_exit_8(cli, monkeypatch):
    from fieldkit.diagnostics import registry

    check = next(c for c in registry.all_checks() if c.name == "system.os")

    def broken(ctx):
        raise RuntimeError("the OS release file is unreadable")

    monkeypatch.setitem(registry._REGISTRY, "system.os",
                        registry.Check(**{**check.__dict__, "func": broken}))
    r = cli("diag", "--check", "system.os", "--json")
    assert r.code == 8 and r.json()["findings"][0]["status"] == "error"


def test_closed_pipe_ends_quietly(home):
    from fieldkit.tickets.model import Ticket
    from fieldkit.tickets.store import TicketStore

    store = TicketStore.at_home(home)
    for i in range(200):
        store.create(Ticket.create(f"ticket {i}", description="x" * 200))
    child = subprocess.Popen([*fieldkit_cmd(), "ticket", "list", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "FIELDKIT_HOME": str(home)})
    child.stdout.read(10)
    child.stdout.close()
    err = child.stderr.read()
    assert child.wait() == 0 and err == b""


def test_refusals_of_input_are_exit_2(proc):
    assert proc("ticket", "new", "-t", "x").code == 0
    assert proc("ticket", "show", b"FK-\xff").code == 2
    assert proc("ticket", "new", "-t", b"caf\xe9").code == 2
    r = proc("ticket", "new", "-t", "first line\nsecond line")
    assert r.code == 2 and "one line" in r.err
    r = proc("ticket", "edit", "FK-1")
    assert r.code == 2 and "nothing to change" in r.err


# -- text and files on tickets ------------------------------------------------------------------


def test_description_and_note_from_stdin_and_files(proc, tmp_path):
    (tmp_path / "report.txt").write_text("Outlook shows 0x800CCC0F since 9:00\n")
    t = proc("ticket", "new", "-t", "mail", "-d", f"@{tmp_path / 'report.txt'}", "--json")
    assert t.json()["description"] == "Outlook shows 0x800CCC0F since 9:00"
    r = proc("ticket", "note", "1", "-", input=b"checked the profile\n")
    assert r.code == 0
    proc("ticket", "note", "1", "@@home is not a file")
    notes = [n["text"] for n in proc("ticket", "show", "1", "--json").json()["worklog"]]
    assert notes == ["checked the profile", "@home is not a file"]
    big = tmp_path / "huge.log"
    big.write_text("line\n" * 20000)  # 100 KB: over the 64 KiB text limit
    r = proc("ticket", "note", "1", f"@{big}")
    assert r.code == 2 and "ticket attach" in r.err
    assert proc("ticket", "note", "1", "@/no/such/file").code == 2


def test_attach_a_5_mb_log_from_a_file_and_from_stdin(proc, home, tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(os.urandom(5 * 1024 * 1024))
    proc("ticket", "new", "-t", "crashes")
    r = proc("ticket", "attach", "1", str(log), "--json")
    assert r.code == 0, r.err
    (meta,) = r.json()
    assert meta["size"] == 5 * 1024 * 1024 and meta["name"] == "app.log"
    assert meta["sha256"] == hashlib.sha256(log.read_bytes()).hexdigest()
    piped = b"kernel: usb 1-1: device descriptor read/64, error -71\n" * 100000  # 5.3 MB
    r = proc("ticket", "attach", "1", "-", "--name", "dmesg.txt", "--json", input=piped)
    assert r.code == 0 and r.json()[0]["sha256"] == hashlib.sha256(piped).hexdigest()
    stored = home / "store" / "files" / meta["sha256"]
    assert stored.read_bytes() == log.read_bytes() and stored.stat().st_mode & 0o777 == 0o600
    shown = proc("ticket", "show", "1").out
    assert "app.log  5.0 MiB  application/octet-stream" in shown and "dmesg.txt" in shown


def test_a_file_over_the_limit_is_refused_with_the_limit_named(proc, home, tmp_path):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[tickets]\nmax_attachment_mib = 1\n")
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    proc("ticket", "new", "-t", "x")
    r = proc("ticket", "attach", "1", str(big))
    assert r.code == 2 and "1 MiB" in r.err and "max_attachment_mib" in r.err
    assert list((home / "store" / "files").iterdir()) == []
    assert list((home / "store" / "tmp").iterdir()) == []


# -- history ------------------------------------------------------------------------------------


def test_history_keeps_every_solution_and_who_did_what(proc, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[technician]\nname = "Ann Tech"\n')
    proc("ticket", "new", "-t", "printer", "--impact", "low")
    proc("ticket", "edit", "1", "--impact", "high")
    proc("ticket", "resolve", "1", "--solution", "new toner")
    proc("ticket", "close", "1")
    proc("ticket", "reopen", "1")
    proc("ticket", "resolve", "1", "--solution", "new drum unit")
    data = proc("ticket", "show", "1", "--json").json()
    solutions = [h["solution"] for h in data["history"] if h["what"] == "resolved"]
    assert solutions == ["new toner", "new drum unit"]
    edit = next(h for h in data["history"] if h["what"] == "edited")
    assert edit["changes"] == {"impact": ["low", "high"]}
    assert all(h["by"] == "Ann Tech" and h["at"].endswith("Z") for h in data["history"])
    assert [h["what"] for h in data["history"]][:3] == ["created", "edited", "resolved"]
    shown = proc("ticket", "show", "1").out
    assert "history:" in shown and "solution: new toner" in shown


# -- small frictions ----------------------------------------------------------------------------


def test_waiting_on_a_locked_store_says_so(home):
    from fieldkit.tickets.storage import exclusive_lock

    (home / "store").mkdir(parents=True)
    release = threading.Event()

    def hold():
        with exclusive_lock(home / "store" / ".lock"):
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    child = subprocess.Popen([*fieldkit_cmd(), "ticket", "new", "-t", "x"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "FIELDKIT_HOME": str(home)})
    time.sleep(2.5)
    release.set()
    holder.join()
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert f"waiting for another fieldkit (pid {os.getpid()})" in err


def test_check_and_profile_names_are_case_insensitive(cli, home):
    assert cli("diag", "--check", "System.OS", "--no-probe").code == 0
    from fieldkit.diagnostics.profiles import load_profile

    assert load_profile("Microsoft365", home).name == "microsoft365"


def test_tables_show_local_time_with_the_zone(proc, home):
    proc("ticket", "new", "-t", "x")
    r = subprocess.run([*fieldkit_cmd(), "ticket", "list"], capture_output=True, text=True,
                       env={**os.environ, "FIELDKIT_HOME": str(home), "TZ": "Europe/Berlin"})
    assert " CET" in r.stdout or " CEST" in r.stdout
    assert proc("ticket", "list", "--json").json()[0]["created_at"].endswith("Z")


def test_diag_on_a_closed_ticket_is_refused(proc):
    proc("ticket", "new", "-t", "x")
    proc("ticket", "resolve", "1", "--solution", "y")
    proc("ticket", "close", "1")
    r = proc("ticket", "diag", "1")
    assert r.code == 2 and "closed" in r.err


def test_completion_scripts_and_bash_completes_ticket(tmp_path):
    need(shutil.which("bash") is not None, "needs bash")
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    scripts = {}
    for shell in ("bash", "zsh", "fish"):
        r = subprocess.run([*fieldkit_cmd(), "completion", shell], capture_output=True,
                           text=True, env=env)
        assert r.returncode == 0 and "_FIELDKIT_COMPLETE" in r.stdout, r.stderr
        scripts[shell] = r.stdout
    script = tmp_path / "fieldkit.bash"
    script.write_text(scripts["bash"])
    r = subprocess.run(["bash", "-c", f"source {script}; COMP_WORDS=(fieldkit ti); COMP_CWORD=1;"
                        " _fieldkit_completion fieldkit ti fieldkit; echo \"${COMPREPLY[@]}\""],
                       capture_output=True, text=True, env=env)
    assert r.stdout.split() == ["ticket"], r.stderr
