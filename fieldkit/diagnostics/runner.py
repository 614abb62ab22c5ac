"""Run checks concurrently, each bounded by its own timeout, and build the run record.

Checks run in daemon threads: a check stuck in a kernel call past its timeout is reported as
``error`` and abandoned, and cannot keep the process from exiting.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from fieldkit.diagnostics.host.source import stands_in
from fieldkit.diagnostics.model import DiagRun, Finding, Status, hostname, utc_timestamp
from fieldkit.diagnostics.registry import Check, CheckContext

T = TypeVar("T")
MAX_PARALLEL = 32


def run_concurrently(
    tasks: Iterable[tuple[str, Callable[[], T], float]],
    max_parallel: int = MAX_PARALLEL,
) -> dict[str, T | BaseException]:
    """Run named callables in parallel; each result is its value, its exception or TimeoutError.

    Deadlines start when a task starts, so queued tasks are not charged for waiting.
    """
    results: dict[str, T | BaseException] = {}
    slots = threading.Semaphore(max_parallel)
    pending: list[tuple[str, threading.Thread, threading.Event, list[float]]] = []

    def worker(name: str, func: Callable[[], T], done: threading.Event) -> None:
        try:
            results[name] = func()
        except BaseException as exc:  # noqa: BLE001 - reported as the task's result
            results[name] = exc
        finally:
            done.set()
            slots.release()

    for name, func, timeout_s in tasks:
        slots.acquire()
        done = threading.Event()
        thread = threading.Thread(target=worker, args=(name, func, done), daemon=True)
        thread.start()
        pending.append((name, thread, done, [time.monotonic() + timeout_s]))

    for name, _thread, done, (deadline,) in pending:
        if not done.wait(max(0.0, deadline - time.monotonic())):
            results.setdefault(name, TimeoutError())
    return {name: results[name] for name, *_ in pending}


def run_checks(checks: list[Check], context: CheckContext | None = None) -> DiagRun:
    context = context or CheckContext()
    started_at, t0 = utc_timestamp(), time.monotonic()
    findings: list[Finding] = []
    runnable: list[Check] = []
    for chk in checks:
        reason = _why_not(chk, context)
        if reason:
            findings.append(Finding(chk.name, "-", Status.SKIP, reason))
        else:
            runnable.append(chk)

    def timed(chk: Check) -> Callable[[], tuple[list[Finding], float]]:
        def call() -> tuple[list[Finding], float]:
            start = time.monotonic()
            return chk.func(context), time.monotonic() - start

        return call

    outcomes = run_concurrently((c.name, timed(c), c.timeout_s) for c in runnable)
    for chk in runnable:
        outcome = outcomes[chk.name]
        if isinstance(outcome, TimeoutError):
            findings.append(
                Finding(
                    chk.name,
                    "-",
                    Status.ERROR,
                    f"check did not finish within {chk.timeout_s:g} s",
                    data={"timeout_s": chk.timeout_s},
                    duration_s=chk.timeout_s,
                )
            )
        elif isinstance(outcome, BaseException):
            findings.append(
                Finding(
                    chk.name,
                    "-",
                    Status.ERROR,
                    f"check failed: {outcome.__class__.__name__}: {outcome}",
                )
            )
        else:
            produced, elapsed = outcome
            for finding in produced:
                finding.duration_s = finding.duration_s or elapsed
            findings.extend(produced)
    return DiagRun(hostname(), started_at, time.monotonic() - t0, findings)


def _why_not(chk: Check, context: CheckContext) -> str:
    if not chk.applies_here():
        return f"not available on this platform ({', '.join(chk.platforms)} only)"
    if chk.probes and not context.probe:
        return "active network probe skipped (--no-probe)"
    missing = [tool for tool in chk.needs if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)}, which is not installed"
    absent = [lib for lib in chk.libraries
              if importlib.util.find_spec(lib) is None and not stands_in(lib)]
    if absent:
        return (f"needs the Python library {', '.join(absent)}, which is not installed for "
                f"this python{sys.version_info[0]}.{sys.version_info[1]}")
    return ""
