"""The probe's entry point on the remote machine: one job in (stdin), one run out (stdout).

It runs under whatever ``python3`` the remote has, with no third-party library guaranteed
(where psutil or netifaces is missing, ``diagnostics/host/source.py`` reads /proc, /sys and os
instead, so those checks still run). Input is one JSON object ``{"job": {...}, "password":
...}`` (the password only for a mail login test; stdin keeps it off the remote's process
list); output is the ``fieldkit.diag/1`` run. A failure is ``{"probe_error": KIND,
"message": ..., "exit_code": N}`` and exit 3, so the technician's side
can tell "the job was refused" from "python3 crashed".
"""

from __future__ import annotations

import json
import sys
import traceback

PROBE_FAILED = 3


def main() -> None:
    from fieldkit.diagnostics.jobs import Job, run_job
    from fieldkit.errors import FieldkitError

    try:
        request = json.loads(sys.stdin.read() or "{}")
        job = Job.from_dict(request["job"])
        job.validate()
        run = run_job(job, request.get("password"))
    except FieldkitError as exc:
        _fail("refused", str(exc), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - reported to the technician's side as one line
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
        _fail("internal", f"{exc.__class__.__name__}: {exc}{where}", 70)
    sys.stdout.write(json.dumps(run.to_dict(), ensure_ascii=False) + "\n")


def _fail(kind: str, message: str, exit_code: int) -> None:
    sys.stdout.write(json.dumps({"probe_error": kind, "message": message,
                                 "exit_code": exit_code}) + "\n")
    sys.exit(PROBE_FAILED)
