"""System health: OS, uptime, CPU load, memory, swap, battery (the clock is in ``clock``).

Thresholds are those a first-level technician acts on: a machine that has not restarted in a
month, memory nearly exhausted, a laptop about to die, a clock so wrong that TLS breaks.
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime

from fieldkit.diagnostics.host.source import source
from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.registry import CheckContext, check

UPTIME_WARN_DAYS = 30
LOAD_WARN_PER_CPU = 1.5
LOAD_FAIL_PER_CPU = 4.0
MEM_WARN_AVAILABLE_PCT = 10.0
MEM_FAIL_AVAILABLE_PCT = 3.0
SWAP_WARN_USED_PCT = 80.0
BATTERY_WARN_PCT = 20
BATTERY_FAIL_PCT = 5


@check("system.os", domain="system", description="operating system and host identity")
def os_info(ctx: CheckContext) -> list[Finding]:
    data = {
        "system": platform.system(),
        "release": platform.release(),
        "version": platform.version(),
        "machine": platform.machine(),
        "hostname": platform.node(),
        "python": platform.python_version(),
    }
    if hasattr(platform, "freedesktop_os_release"):
        try:
            data["distribution"] = platform.freedesktop_os_release().get("PRETTY_NAME", "")
        except OSError:
            pass
    name = data.get("distribution") or f"{data['system']} {data['release']}"
    return [
        Finding("system.os", data["hostname"], Status.OK, f"{name} on {data['machine']}", data=data)
    ]


@check("system.uptime", domain="system", description="time since the last restart",
       libraries=("psutil",))
def uptime(ctx: CheckContext) -> list[Finding]:
    seconds = time.time() - source().boot_time()
    days = seconds / 86400
    data = {"uptime_s": round(seconds), "boot_time": _iso(source().boot_time())}
    text = f"up {_duration(seconds)}"
    if days > UPTIME_WARN_DAYS:
        return [
            Finding(
                "system.uptime",
                "host",
                Status.WARN,
                f"{text} without a restart",
                "Restart the machine: pending updates and slowly leaking programs are "
                "cleared by a reboot, and many odd faults go with them.",
                data,
            )
        ]
    return [Finding("system.uptime", "host", Status.OK, text, data=data)]


@check("system.cpu", domain="system", description="CPU load relative to the number of cores",
       libraries=("psutil",))
def cpu_load(ctx: CheckContext) -> list[Finding]:
    cores = source().cpu_count() or 1
    load1, load5, load15 = source().getloadavg()
    per_cpu = load5 / cores
    data = {
        "cores": cores,
        "load": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "load5_per_core": round(per_cpu, 2),
    }
    text = f"load {load5:.2f} over 5 min on {cores} cores"
    hint = (
        "The machine is overloaded: look for a runaway program (Task Manager / top, sort by "
        "CPU) and close it; if a system process is to blame, escalate."
    )
    if per_cpu >= LOAD_FAIL_PER_CPU:
        return [Finding("system.cpu", "host", Status.FAIL, f"{text}: overloaded", hint, data)]
    if per_cpu >= LOAD_WARN_PER_CPU:
        return [Finding("system.cpu", "host", Status.WARN, f"{text}: busy", hint, data)]
    return [Finding("system.cpu", "host", Status.OK, text, data=data)]


@check("system.memory", domain="system", description="available memory",
       libraries=("psutil",))
def memory(ctx: CheckContext) -> list[Finding]:
    mem = source().virtual_memory()
    available_pct = 100.0 * mem.available / mem.total
    data = {
        "total_bytes": mem.total,
        "available_bytes": mem.available,
        "available_pct": round(available_pct, 1),
    }
    text = f"{_gib(mem.available)} of {_gib(mem.total)} available ({available_pct:.0f}%)"
    hint = (
        "Memory is nearly exhausted: close unused programs and browser tabs; if it recurs, "
        "find the program using the most memory and escalate (leak or undersized machine)."
    )
    if available_pct < MEM_FAIL_AVAILABLE_PCT:
        return [Finding("system.memory", "host", Status.FAIL, text, hint, data)]
    if available_pct < MEM_WARN_AVAILABLE_PCT:
        return [Finding("system.memory", "host", Status.WARN, text, hint, data)]
    return [Finding("system.memory", "host", Status.OK, text, data=data)]


@check("system.swap", domain="system", description="swap usage", libraries=("psutil",))
def swap(ctx: CheckContext) -> list[Finding]:
    sw = source().swap_memory()
    data = {"total_bytes": sw.total, "used_bytes": sw.used, "used_pct": sw.percent}
    if sw.total == 0:
        return [Finding("system.swap", "host", Status.OK, "no swap configured", data=data)]
    text = f"{_gib(sw.used)} of {_gib(sw.total)} swap used ({sw.percent:.0f}%)"
    if sw.percent >= SWAP_WARN_USED_PCT:
        return [
            Finding(
                "system.swap",
                "host",
                Status.WARN,
                text,
                "Heavy swapping makes everything slow: close programs or restart; "
                "if it recurs the machine needs more memory (escalate).",
                data,
            )
        ]
    return [Finding("system.swap", "host", Status.OK, text, data=data)]


@check("system.battery", domain="system", description="battery charge and power source",
       libraries=("psutil",))
def battery(ctx: CheckContext) -> list[Finding]:
    try:
        batt = source().sensors_battery()
    except (NotImplementedError, OSError) as exc:
        return [
            Finding(
                "system.battery", "battery", Status.SKIP, f"battery state not readable here: {exc}"
            )
        ]
    if batt is None:
        return [Finding("system.battery", "battery", Status.SKIP, "no battery found")]
    plugged = bool(batt.power_plugged)
    data = {
        "percent": round(batt.percent, 1),
        "power_plugged": plugged,
        "secs_left": batt.secsleft if batt.secsleft >= 0 else None,
    }
    text = f"{batt.percent:.0f}% ({'on mains' if plugged else 'on battery'})"
    if not plugged and batt.percent <= BATTERY_FAIL_PCT:
        return [
            Finding(
                "system.battery",
                "battery",
                Status.FAIL,
                text,
                "Plug the charger in now: the machine is about to switch off.",
                data,
            )
        ]
    if not plugged and batt.percent <= BATTERY_WARN_PCT:
        return [
            Finding(
                "system.battery",
                "battery",
                Status.WARN,
                text,
                "Plug the charger in; save work before the battery runs out.",
                data,
            )
        ]
    return [Finding("system.battery", "battery", Status.OK, text, data=data)]


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"
