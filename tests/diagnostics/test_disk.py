"""Disk verdicts: unit tests of the thresholds, and real filesystems filled on loop devices."""

import json
import os
import subprocess
import sys

import pytest

from fieldkit.diagnostics.host.disk import assess_smart, assess_usage
from fieldkit.diagnostics.model import Status
from tests.conftest import need, need_root, need_tool


@pytest.mark.parametrize(("pct", "inodes", "opts", "status"), [
    (50.0, 10.0, "rw", Status.OK),
    (90.0, 10.0, "rw", Status.OK),
    (90.5, 10.0, "rw", Status.WARN),
    (97.0, 10.0, "rw", Status.WARN),
    (97.5, 10.0, "rw", Status.FAIL),
    (10.0, 95.0, "rw", Status.WARN),
    (10.0, 99.0, "rw", Status.FAIL),
    (10.0, None, "rw", Status.OK),
    (10.0, 10.0, "ro,relatime", Status.FAIL),
])
def test_usage_thresholds(pct, inodes, opts, status):
    verdict, summary, hint = assess_usage("/data", "ext4", opts, pct, inodes)
    assert verdict == status
    assert bool(hint) == (status != Status.OK)


def test_read_only_media_is_not_a_fault():
    assert assess_usage("/snap/x", "squashfs", "ro", 100.0, 100.0)[0] == Status.FAIL  # full
    assert assess_usage("/cdrom", "iso9660", "ro", 50.0, None)[0] == Status.OK


def test_smart_verdicts():
    passed = {"smart_status": {"passed": True}, "model_name": "Disk A"}
    failing = {"smart_status": {"passed": False}, "model_name": "Disk B"}
    worn = {"smart_status": {"passed": True}, "model_name": "Disk C", "ata_smart_attributes": {
        "table": [{"name": "Reallocated_Sector_Ct", "raw": {"value": 12}}]}}
    denied = {"smartctl": {"messages": [{"string": "Permission denied"}]}}
    assert assess_smart("/dev/sda", passed).status == Status.OK
    assert assess_smart("/dev/sda", failing).status == Status.FAIL
    assert assess_smart("/dev/sda", worn).status == Status.WARN
    skipped = assess_smart("/dev/sda", denied)
    assert skipped.status == Status.SKIP and "administrator" in skipped.summary


def _diag_in_private_mount(tmp_path, setup: str) -> dict:
    """Run `fieldkit diag -c disk --json` in a private mount namespace after shell `setup`."""
    script = f"set -e\n{setup}\nexec {sys.executable} -m fieldkit diag -c disk.usage --json\n"
    out = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "FIELDKIT_HOME": str(tmp_path / "home")})
    assert out.stdout, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def loop_fs(tmp_path):
    need_root()
    need_tool("unshare", "mkfs.ext4", "losetup")
    need(os.path.exists("/dev/loop-control"), "needs loop devices")
    image = tmp_path / "fs.img"
    subprocess.run(["truncate", "-s", "32M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-m", "0", str(image)], check=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    return image, mnt


def _finding(run, mnt):
    return next(f for f in run["findings"] if f["subject"] == str(mnt))


@pytest.mark.integration
@pytest.mark.parametrize(("fill_pct", "status"), [(50, "ok"), (94, "warn"), (99, "fail")])
def test_real_filesystem_fill_levels(loop_fs, tmp_path, fill_pct, status):
    image, mnt = loop_fs
    setup = (f"mount -o loop {image} {mnt}\n"
             f"avail=$(df --output=avail -B1 {mnt} | tail -1); size=$(df --output=size -B1 {mnt}"
             f" | tail -1); used=$(df --output=used -B1 {mnt} | tail -1)\n"
             f"want=$(( size * {fill_pct} / 100 - used ))\n"
             f"[ $want -gt 0 ] && fallocate -l $want {mnt}/filler || true\n")
    run = _diag_in_private_mount(tmp_path, setup)
    finding = _finding(run, mnt)
    assert finding["status"] == status, finding
    if status != "ok":
        assert "Free space" in finding["hint"]


@pytest.mark.integration
def test_read_only_filesystem_fails(loop_fs, tmp_path):
    image, mnt = loop_fs
    run = _diag_in_private_mount(tmp_path, f"mount -o loop,ro {image} {mnt}\n")
    finding = _finding(run, mnt)
    assert finding["status"] == "fail"
    assert "read-only" in finding["summary"] and finding["data"]["read_only"] is True


@pytest.mark.integration
def test_smartctl_runs_when_installed():
    need_tool("smartctl")
    from fieldkit.diagnostics.host.disk import smart
    from fieldkit.diagnostics.registry import CheckContext

    findings = smart(CheckContext())
    assert findings and all(f.status in set(Status) for f in findings)
    # a VM has no SMART disks: that must be a reasoned skip, never a made-up ok
    assert all(f.status != Status.OK or f.data.get("passed") is True for f in findings)
    assert all(f.summary for f in findings if f.status == Status.SKIP)
