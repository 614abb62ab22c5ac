"""The clock, compared with the outside world: a wrong clock breaks logins and certificates.

A clock 400 days ahead is perfectly "plausible" on its own, and then every certificate looks
expired and the technician phones the mail admin. So the check asks outside sources - NTP to
the configured servers, the ``Date`` of the connectivity check and of the sync server - and
judges the offset: over 2 minutes ``warn``, over 5 minutes ``fail`` (Kerberos refuses logins).
When no source answers and the OS cannot say whether it synchronises, the verdict is ``skip``
with the reasons: "cannot tell" is never ``ok``. ``mail`` asks the same question (once per run,
see :func:`outside_time`) before it blames a server for an expired certificate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime

from fieldkit import RELEASE_DATE
from fieldkit.diagnostics.host import timesource
from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.net import httpget
from fieldkit.diagnostics.registry import CheckContext, check
from fieldkit.diagnostics.runner import run_concurrently

WARN_S, FAIL_S = 120.0, 300.0  # Kerberos' default maximum skew is 5 minutes
CLOCK_EARLIEST = timesource.EARLIEST  # the release date: see there
FIX_HINT = ("Set the correct date and time and turn on automatic time sync (NTP): logins "
            "(Kerberos allows 5 minutes) and certificates fail while the clock is off.")
BAD_SOURCE_HINT = ("{source} tells another time than the other sources: if this machine (or "
                   "the network) syncs from it, remove it from the NTP configuration, or tell "
                   "whoever runs it (escalate). This machine's clock is judged without it.")
NO_SYNC_HINT = ("Enable automatic time sync (NTP); a drifting clock breaks logins (Kerberos "
                "allows 5 minutes) and certificates.")


def outside_time(ctx: CheckContext) -> tuple[timesource.Reading | None, list[str]]:
    """The best outside reading this run can get (asked once, shared), and why others failed."""
    if not ctx.probe:
        return None, ["not compared with a time source (--no-probe)"]
    return ctx.shared("clock:outside", lambda: _ask_sources(ctx))


def _ask_sources(ctx: CheckContext) -> tuple[timesource.Reading | None, list[str]]:
    timeout = ctx.number("clock_timeout_s") or 3.0
    servers = ctx.texts("ntp_servers") or timesource.system_ntp_servers()
    httpget.check_url(ctx.text("portal_url"))  # a bad URL is said, not skipped
    tasks = [(f"ntp {s}", _ntp(s, timeout), timeout + 1) for s in servers[:4]]
    tasks.append(("http", lambda: _date(httpget.connectivity(ctx)), timeout + 6))
    if ctx.sync_url:
        tasks.append(("sync", lambda: _date(httpget.date_of(ctx.sync_url, timeout)), timeout + 2))
    results = run_concurrently(tasks)
    readings = [r for r in results.values() if isinstance(r, timesource.Reading)]
    reasons = [f"{name}: {_reason(r)}" for name, r in results.items()
               if not isinstance(r, timesource.Reading)]
    if not servers:
        reasons.insert(0, "no NTP server configured")
    return timesource.weigh(readings), reasons


def _ntp(server: str, timeout: float):
    return lambda: timesource.sntp(server, timeout)


def _date(fetched: httpget.Fetched) -> timesource.Reading:
    if fetched.error or not fetched.date:
        raise ValueError(fetched.error or f"{fetched.url} sent no Date header")
    via = f" (via proxy {fetched.proxy})" if fetched.proxy else ""
    return timesource.from_http_date(f"Date of {fetched.url}{via}", fetched.date,
                                      fetched.sent_at, fetched.received_at)


def _reason(result: BaseException | object) -> str:
    if isinstance(result, TimeoutError):
        return "no answer"
    return str(result) or result.__class__.__name__


@check("system.clock", domain="system", description="clock against an outside time source "
       "(NTP, HTTP Date), time sync", timeout_s=20.0)
def clock(ctx: CheckContext) -> list[Finding]:
    reading, reasons = outside_time(ctx)
    findings = [assess_clock(datetime.now(UTC), _ntp_synced(), reading, reasons)]
    if reading is not None:
        findings += [bad_source(r, reading) for r in reading.outvoted]
    return findings


def bad_source(source: timesource.Reading, trusted: timesource.Reading) -> Finding:
    """A source the others outvoted: the clock is judged without it, the source is named."""
    off = timesource.describe_offset(trusted.offset_s - source.offset_s)
    return Finding("system.clock", source.source, Status.WARN, f"bad time source: "
                   f"{source.source} is {off} of the other time sources, which agree with "
                   f"each other (the clock is judged by them)",
                   BAD_SOURCE_HINT.format(source=source.source),
                   {"source": source.source, "offset_s": round(source.offset_s, 3),
                    "trusted": trusted.source, "trusted_offset_s": round(trusted.offset_s, 3)})


def assess_clock(now: datetime, synced: bool | None, reading: timesource.Reading | None,
                 reasons: list[str]) -> Finding:
    data: dict[str, object] = {"utc": now.isoformat(timespec="seconds"),
                               "timezone": time.strftime("%Z"), "synchronized": synced}
    if reading is not None:
        data.update(source=reading.source, offset_s=round(reading.offset_s, 3))
        if reading.outvoted:
            data["outvoted"] = [r.source for r in reading.outvoted]
    else:
        data["unavailable"] = reasons
    if now < CLOCK_EARLIEST:
        data["release_date"] = RELEASE_DATE
        return Finding("system.clock", "clock", Status.FAIL, f"clock says {now:%Y-%m-%d}, "
                       f"before this fieldkit release was built ({RELEASE_DATE}): it is "
                       "certainly wrong; certificates look not yet valid", FIX_HINT, data)
    if reading is not None:
        off = timesource.describe_offset(reading.offset_s)
        size = abs(reading.offset_s)
        words = f"clock is {off} of {reading.source}"
        if size > FAIL_S:
            return Finding("system.clock", "clock", Status.FAIL, f"{words}: logins and "
                           "certificates fail", FIX_HINT, data)
        if size > WARN_S:
            return Finding("system.clock", "clock", Status.WARN, words, FIX_HINT, data)
        if synced is False:
            return Finding("system.clock", "clock", Status.WARN, f"{words}, but automatic "
                           "time sync is off", NO_SYNC_HINT, data)
        return Finding("system.clock", "clock", Status.OK, f"{words} (right)", data=data)
    if synced is True:
        return Finding("system.clock", "clock", Status.OK, f"{now:%Y-%m-%d %H:%M} UTC, "
                       "synchronised (the OS says so; no outside source to compare)", data=data)
    if synced is False:
        return Finding("system.clock", "clock", Status.WARN, f"clock {now:%Y-%m-%d %H:%M} UTC "
                       "is not synchronised", NO_SYNC_HINT, data)
    return Finding("system.clock", "clock", Status.SKIP, f"cannot tell whether the clock is "
                   f"right ({now:%Y-%m-%d %H:%M} UTC): {'; '.join(reasons)}; sync state "
                   "unknown", data=data)


def _ntp_synced() -> bool | None:
    """Ask the OS whether NTP has synchronised the clock; None when it cannot tell."""
    if os.name == "posix" and shutil.which("timedatectl"):
        try:
            out = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                                 capture_output=True, text=True, timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            return None
        value = out.stdout.strip()
        if out.returncode == 0 and value in ("yes", "no"):
            return value == "yes"
    return None
