"""Run a diagnostics job on a remote machine: its own fieldkit if it has one, else the probe.

One SSH connection, three steps:

1. **Look** (one command): is ``fieldkit`` on the remote user's PATH (and wanted,
   ``[remote] use_installed``)? Else is there a ``python3``? Then make a private temp dir
   (``mktemp -d`` under ``umask 077``: mode 0700, only this user can read it).
2. **Run**: ``fieldkit ... --json`` there; or upload the probe (``zipapp``) to the temp dir over
   SFTP and run it with the remote ``python3``, the job on stdin. The same command deletes the
   temp dir when the probe ends, whatever its exit status; if the command never got that far
   (upload failed, timeout, connection lost) a separate ``rm -rf`` is tried before leaving.
3. **Read** the ``fieldkit.diag/1`` run it printed: same schema as a local run, the remote
   machine's host name in ``host``.

Every argument that reaches the remote shell is quoted (``shlex.quote``); the whole step-1 script
runs under ``sh -c`` so the user's login shell only ever parses one quoted word.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import dataclass

from fieldkit.diagnostics.jobs import Job
from fieldkit.diagnostics.model import DiagRun
from fieldkit.errors import FieldkitError, RemoteError
from fieldkit.remote.options import why
from fieldkit.remote.ssh import CommandResult, Connection

LOOK = r"""umask 077
if [ "$1" = yes ] && command -v fieldkit >/dev/null 2>&1; then
  echo "fieldkit $(command -v fieldkit)"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "no-python3"; exit 0; }
d=$(mktemp -d "${TMPDIR:-/tmp}/fieldkit.XXXXXXXXXX") || exit 9
echo "python3 $(command -v python3)"
echo "dir $d"
"""
TEMP_DIR = re.compile(r"^/[^\n]*/fieldkit\.[A-Za-z0-9]{10}$")
PASS_THROUGH = {2: "bad input", 3: "not found"}  # remote exit codes that mean the same here
RAN = (0, 1, 8)  # exit codes of a fieldkit diag that printed its run
CLEANUP_TIMEOUT_S = 10.0


@dataclass
class Found:
    fieldkit: str = ""
    python: str = ""
    temp_dir: str = ""


def run_remote(connection: Connection, job: Job, *, password: str | None = None,
               use_installed: bool = True) -> DiagRun:
    found = look(connection, use_installed)
    if found.fieldkit:
        return _run_installed(connection, job, password)
    return _run_probe(connection, job, password, found)


def look(connection: Connection, use_installed: bool) -> Found:
    command = f"sh -c {shlex.quote(LOOK)} sh {'yes' if use_installed else 'no'}"
    result = connection.run(command, timeout=connection.options.connect_timeout_s + 20)
    found = Found()
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        word, _, rest = line.partition(" ")
        if word == "fieldkit":
            found.fieldkit = rest
        elif word == "python3":
            found.python = rest
        elif word == "dir" and TEMP_DIR.match(rest):
            found.temp_dir = rest
        elif word == "no-python3":
            raise RemoteError(f"{connection.target.url}: no python3 on the remote (and no "
                              "fieldkit): install python3 (3.11 or newer) or fieldkit there",
                              kind="no-python")
    if not found.fieldkit and not (found.python and found.temp_dir):
        raise RemoteError(f"{connection.target.url}: cannot prepare a private temp dir there "
                          f"(mktemp -d failed: {result.last_error_line()}); the remote needs a "
                          "POSIX shell and a writable TMPDIR", kind="command")
    return found


def _run_installed(connection: Connection, job: Job, password: str | None) -> DiagRun:
    command = "fieldkit " + " ".join(shlex.quote(a) for a in job.argv())
    stdin = b""
    env = job.password_env()
    if env and password is not None:  # stdin, never the command line (ps shows that)
        command = f"IFS= read -r {env}; export {env}; {command}"
        stdin = password.encode() + b"\n"
    result = connection.run(f"sh -c {shlex.quote(command)}", stdin=stdin)
    if result.status in RAN:  # ok, a finding failed, or a check broke: a run either way
        return _read_run(connection, result, "fieldkit on the remote")
    message = result.last_error_line().removeprefix("fieldkit: error: ")
    if result.status in PASS_THROUGH:
        raise _passed_through(connection, message, result.status)
    raise RemoteError(f"{connection.target.url}: fieldkit on the remote failed (exit "
                      f"{result.status}): {message}", kind="command")


def _run_probe(connection: Connection, job: Job, password: str | None, found: Found) -> DiagRun:
    from fieldkit.remote.zipapp import NAME, build

    probe = f"{found.temp_dir}/{NAME}"
    removed = False
    try:
        _upload(connection, build(), probe)
        command = (f"{shlex.quote(found.python)} {shlex.quote(probe)}; rc=$?; "
                   f"rm -rf -- {shlex.quote(found.temp_dir)}; exit $rc")
        request = json.dumps({"job": job.to_dict(), "password": password}).encode()
        result = connection.run(f"sh -c {shlex.quote(command)}", stdin=request)
        removed = True
    finally:
        if not removed:
            _remove(connection, found.temp_dir)
    if result.status == 0:
        return _read_run(connection, result, "the probe")
    failure = _probe_error(result)
    if failure.get("probe_error") == "python":
        raise RemoteError(f"{connection.target.url}: {failure.get('message')}",
                          kind="no-python")
    if failure.get("exit_code") in PASS_THROUGH:
        raise _passed_through(connection, str(failure.get("message")), failure["exit_code"])
    detail = failure.get("message") or result.last_error_line()
    raise RemoteError(f"{connection.target.url}: the checks failed to run there (python3 exit "
                      f"{result.status}): {detail}", kind="command")


def _upload(connection: Connection, data: bytes, path: str) -> None:
    sftp = connection.sftp()
    try:
        sftp.putfo(io.BytesIO(data), path, file_size=len(data), confirm=True)
    except (OSError, EOFError) as exc:
        raise RemoteError(f"{connection.target.url}: uploading the checks to {path} failed "
                          f"({why(exc)})", kind="command") from None
    finally:
        sftp.close()


def _remove(connection: Connection, temp_dir: str) -> None:
    """Best effort: the run failed before its own clean-up; leave no copy behind if we can."""
    try:
        connection.run(f"rm -rf -- {shlex.quote(temp_dir)}", timeout=CLEANUP_TIMEOUT_S)
    except RemoteError:
        pass


def _read_run(connection: Connection, result: CommandResult, what: str) -> DiagRun:
    try:
        return DiagRun.from_dict(json.loads(result.stdout.decode("utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RemoteError(f"{connection.target.url}: {what} did not answer with a diagnostics "
                          f"run ({why(exc)}; stderr: {result.last_error_line()})",
                          kind="command") from None


def _probe_error(result: CommandResult) -> dict:
    try:
        data = json.loads(result.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _passed_through(connection: Connection, message: str, exit_code: int) -> FieldkitError:
    error = FieldkitError(f"on {connection.target.alias}: {message}")
    error.exit_code = exit_code  # bad input (2) and not found (3) mean the same here
    return error
