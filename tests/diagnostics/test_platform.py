"""The kernel source answers psutil's calls with psutil's figures, from /proc, /sys and os."""

import sys

import psutil
import pytest

from fieldkit.diagnostics.host import source
from fieldkit.diagnostics.host.source import KernelSource

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and /sys")
KERNEL = KernelSource()


def test_system_figures_match_psutil():
    assert KERNEL.boot_time() == pytest.approx(psutil.boot_time(), abs=1)
    assert KERNEL.cpu_count() == psutil.cpu_count()
    assert KERNEL.virtual_memory().total == psutil.virtual_memory().total
    assert KERNEL.swap_memory()[:2] == tuple(psutil.swap_memory())[:2]
    assert (KERNEL.sensors_battery() is None) == (psutil.sensors_battery() is None)


def test_filesystems_match_psutil():
    mine = [tuple(p) for p in KERNEL.disk_partitions()]
    assert mine == [(p.device, p.mountpoint, p.fstype, p.opts) for p in psutil.disk_partitions()]
    for _device, mount, *_ in mine:
        assert KERNEL.disk_usage(mount).total == psutil.disk_usage(mount).total


def test_interfaces_match_psutil():
    stats, theirs = KERNEL.net_if_stats(), psutil.net_if_stats()
    assert {n: (s.isup, int(s.duplex), s.speed, s.mtu, s.flags) for n, s in stats.items()} == {
        n: (s.isup, int(s.duplex), s.speed, s.mtu, s.flags) for n, s in theirs.items()}
    mine = {n: sorted((a.family, a.address, a.netmask) for a in addrs)
            for n, addrs in KERNEL.net_if_addrs().items()}
    assert mine == {n: sorted((a.family, a.address.split("%")[0], a.netmask) for a in addrs)
                    for n, addrs in psutil.net_if_addrs().items()}
    assert set(KERNEL.net_io_counters()) == set(psutil.net_io_counters(pernic=True))


def test_the_kernel_stands_in_for_psutil_and_netifaces_on_linux():
    assert source.stands_in("psutil") and source.stands_in("netifaces")
    assert not source.stands_in("smartctl")


def test_kernel_gateways_match_iproute2():
    from fieldkit.diagnostics.net import gateway

    routes = gateway._ip_routes()
    if routes is None:
        pytest.skip("needs iproute2 (ip)")
    assert source.kernel_gateways() == routes
