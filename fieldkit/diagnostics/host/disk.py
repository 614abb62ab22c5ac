"""Disks: space and inodes on every real mounted filesystem, read-only mounts, SMART health.

"Disk full" hides behind many first-level calls (mail will not send, updates fail, the app
crashes on save), and a filesystem that turned read-only is how a dying disk often shows itself.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from fieldkit.diagnostics.host.source import source
from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.registry import CheckContext, check

USAGE_WARN_PCT = 90.0
USAGE_FAIL_PCT = 97.0
# media that are read-only by design: not a fault when mounted ro
READ_ONLY_BY_DESIGN = {"squashfs", "iso9660", "udf", "erofs", "cramfs"}

FULL_HINT = (
    "Free space on {mount}: empty the recycle bin / Downloads, remove old files or move "
    "them to a share; if it fills again quickly, find what grows (logs?) and escalate."
)
INODE_HINT = (
    "{mount} has run out of file slots (inodes), though bytes may be free: many tiny "
    "files (cache, mail spool, temp) fill it - clean those up or escalate."
)
RO_HINT = (
    "{mount} is mounted read-only, so nothing can be saved there. This often follows disk "
    "errors: save work elsewhere, restart; if it stays read-only, escalate (disk check)."
)


def assess_usage(
    mount: str, fstype: str, opts: str, usage_pct: float, inode_pct: float | None
) -> tuple[Status, str, str]:
    """The verdict for one filesystem: (status, summary, hint), worst problem first."""
    read_only = "ro" in opts.split(",") and fstype not in READ_ONLY_BY_DESIGN
    if read_only:
        return Status.FAIL, f"{mount} is read-only", RO_HINT.format(mount=mount)
    for pct, what, hint in ((usage_pct, "space", FULL_HINT), (inode_pct, "inodes", INODE_HINT)):
        if pct is None:
            continue
        if pct > USAGE_FAIL_PCT:
            return Status.FAIL, f"{mount} {what} {pct:.0f}% used: full", hint.format(mount=mount)
        if pct > USAGE_WARN_PCT:
            return (
                Status.WARN,
                f"{mount} {what} {pct:.0f}% used: nearly full",
                hint.format(mount=mount),
            )
    return Status.OK, f"{mount} {usage_pct:.0f}% used", ""


@check("disk.usage", domain="disk", description="space, inodes and read-only state per filesystem",
       libraries=("psutil",))
def usage(ctx: CheckContext) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for part in source().disk_partitions(all=False):
        if part.mountpoint in seen:
            continue
        seen.add(part.mountpoint)
        try:
            du = source().disk_usage(part.mountpoint)
        except OSError as exc:
            findings.append(
                Finding(
                    "disk.usage",
                    part.mountpoint,
                    Status.ERROR,
                    f"cannot read usage of {part.mountpoint}: {exc.strerror}",
                )
            )
            continue
        inode_pct, inodes = _inodes(part.mountpoint)
        status, summary, hint = assess_usage(
            part.mountpoint, part.fstype, part.opts, du.percent, inode_pct
        )
        data: dict[str, Any] = {
            "device": part.device,
            "fstype": part.fstype,
            "options": part.opts,
            "total_bytes": du.total,
            "used_bytes": du.used,
            "free_bytes": du.free,
            "used_pct": du.percent,
            "read_only": "ro" in part.opts.split(","),
            **inodes,
        }
        if status == Status.OK:
            summary += f", {du.free / 2**30:.1f} GiB free"
        findings.append(Finding("disk.usage", part.mountpoint, status, summary, hint, data))
    if not findings:
        findings.append(Finding("disk.usage", "-", Status.SKIP, "no local filesystems found"))
    return findings


def _inodes(mount: str) -> tuple[float | None, dict[str, Any]]:
    if not hasattr(os, "statvfs"):
        return None, {}
    st = os.statvfs(mount)
    if st.f_files == 0:  # filesystems without fixed inode tables (btrfs, some FUSE) report 0
        return None, {"inodes_total": 0}
    used = st.f_files - st.f_ffree
    pct = 100.0 * used / st.f_files
    return pct, {
        "inodes_total": st.f_files,
        "inodes_free": st.f_ffree,
        "inodes_used_pct": round(pct, 1),
    }


@check(
    "disk.smart",
    domain="disk",
    description="SMART health of physical disks",
    needs=("smartctl",),
    timeout_s=20.0,
)
def smart(ctx: CheckContext) -> list[Finding]:
    scan = _smartctl(["--scan-open"])
    devices = scan.get("devices", []) if scan else []
    if not devices:
        reason = _smart_messages(scan) or "none found (virtual machine, or disks behind a bridge)"
        return [Finding("disk.smart", "-", Status.SKIP, f"no SMART-capable disks: {reason}")]
    findings = []
    for dev in devices:
        name = dev.get("name", "?")
        report = _smartctl(["-H", "-A", "-i", "-d", dev.get("type", "auto"), name])
        findings.append(assess_smart(name, report))
    return findings


def assess_smart(name: str, report: dict[str, Any] | None) -> Finding:
    if not report or "smart_status" not in report:
        msg = _smart_messages(report) or "no health data"
        if "permission" in msg.lower() or "operation not permitted" in msg.lower():
            return Finding(
                "disk.smart", name, Status.SKIP, f"needs administrator rights to read SMART ({msg})"
            )
        return Finding("disk.smart", name, Status.SKIP, f"SMART not available: {msg}")
    model = report.get("model_name") or report.get("model_family") or ""
    attrs = {
        a.get("name"): a.get("raw", {}).get("value")
        for a in report.get("ata_smart_attributes", {}).get("table", [])
    }
    data = {
        "model": model,
        "serial": report.get("serial_number", ""),
        "passed": report["smart_status"].get("passed"),
        "temperature_c": report.get("temperature", {}).get("current"),
        "reallocated_sectors": attrs.get("Reallocated_Sector_Ct"),
        "pending_sectors": attrs.get("Current_Pending_Sector"),
        "nvme_percentage_used": report.get("nvme_smart_health_information_log", {}).get(
            "percentage_used"
        ),
    }
    if data["passed"] is False:
        return Finding(
            "disk.smart",
            name,
            Status.FAIL,
            f"{model} reports it is FAILING",
            "The disk predicts its own failure: back up the user's data now and "
            "escalate for a disk replacement.",
            data,
        )
    bad = (data["reallocated_sectors"] or 0) + (data["pending_sectors"] or 0)
    if bad > 0:
        return Finding(
            "disk.smart",
            name,
            Status.WARN,
            f"{model}: {bad} bad sectors",
            "The disk is wearing out: make sure backups are current and escalate "
            "for replacement planning.",
            data,
        )
    return Finding("disk.smart", name, Status.OK, f"{model} health PASSED", data=data)


def _smartctl(args: list[str]) -> dict[str, Any] | None:
    try:
        out = subprocess.run(
            ["smartctl", "--json", *args], capture_output=True, text=True, timeout=15
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        return None


def _smart_messages(report: dict[str, Any] | None) -> str:
    if not report:
        return ""
    messages = report.get("smartctl", {}).get("messages", [])
    return "; ".join(m.get("string", "") for m in messages)
