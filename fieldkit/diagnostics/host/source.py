"""Where the system, disk and network checks read the machine's state: psutil, or the kernel.

The remote probe runs under whatever ``python3`` the user's machine has, which rarely has
psutil (a C extension) or netifaces. Instead of each check branching on that, this module is the
one declared source: :func:`source` gives psutil where it imports, else :class:`KernelSource`,
which reads the same figures from ``/proc``, ``/sys`` and ``os`` on Linux with the standard
library only. It answers psutil's calls with psutil's record fields and psutil's arithmetic
(``disk_usage`` percent, swap ``used``, ``isup`` = running), so a check reaches the same verdict
whichever answered. :data:`STAND_INS` declares which missing library it stands in for; the
runner asks it before it skips a check that declares such a library.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

PROC, POWER = Path("/proc"), Path("/sys/class/power_supply")
# /sys/class/net shows the network namespace sysfs was mounted in, not this process's: the
# per-interface figures come from ioctls on a socket, which answer for the caller's namespace
SIOCGIFFLAGS, SIOCGIFNETMASK, SIOCGIFCONF, SIOCGIFMTU = 0x8913, 0x891B, 0x8912, 0x8921
SIOCGIFHWADDR, SIOCETHTOOL, ETHTOOL_GSET = 0x8927, 0x8946, 1
# the interface flags psutil names, in its order (linux/if.h)
FLAG_NAMES = ("up", "broadcast", "debug", "loopback", "pointopoint", "notrailers", "running",
              "noarp", "promisc", "allmulti", "master", "slave", "multicast", "portsel",
              "automedia", "dynamic")


def kernel_readable() -> bool:
    """The kernel's files are there to read (Linux with /proc mounted)."""
    return sys.platform == "linux" and (PROC / "stat").is_file()


# library -> whether this module can stand in for it here
STAND_INS = {"psutil": kernel_readable, "netifaces": kernel_readable}


def stands_in(library: str) -> bool:
    test = STAND_INS.get(library)
    return bool(test and test())


@cache
def source() -> Any:
    """psutil if this python3 has it, else the kernel's own files (the runner has made sure
    one of them is there before a check declaring psutil runs)."""
    try:
        import psutil
    except ImportError:
        return KernelSource()
    return psutil


class Memory(NamedTuple):
    total: int
    available: int


class Swap(NamedTuple):
    total: int
    used: int
    free: int
    percent: float


class Battery(NamedTuple):
    percent: float
    secsleft: int
    power_plugged: bool | None


class Partition(NamedTuple):
    device: str
    mountpoint: str
    fstype: str
    opts: str


class Usage(NamedTuple):
    total: int
    used: int
    free: int
    percent: float


class Address(NamedTuple):
    family: int
    address: str
    netmask: str | None
    broadcast: str | None = None
    ptp: str | None = None


class NicStats(NamedTuple):
    isup: bool
    duplex: int
    speed: int
    mtu: int
    flags: str


class NicCounters(NamedTuple):
    bytes_sent: int
    bytes_recv: int
    packets_sent: int
    packets_recv: int
    errin: int
    errout: int
    dropin: int
    dropout: int


class KernelSource:
    """psutil's calls the checks use, answered from /proc, /sys and os (Linux)."""

    AF_LINK = socket.AF_PACKET if hasattr(socket, "AF_PACKET") else 17
    NIC_DUPLEX_FULL, NIC_DUPLEX_HALF, NIC_DUPLEX_UNKNOWN = 2, 1, 0

    def boot_time(self) -> float:
        for line in (PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
        raise OSError("no btime in /proc/stat")

    def cpu_count(self) -> int | None:
        return os.cpu_count()

    def getloadavg(self) -> tuple[float, float, float]:
        return os.getloadavg()

    def virtual_memory(self) -> Memory:
        info = _meminfo()
        return Memory(info["MemTotal"], info.get("MemAvailable", info["MemFree"]))

    def swap_memory(self) -> Swap:
        info = _meminfo()
        total, free = info.get("SwapTotal", 0), info.get("SwapFree", 0)
        used = total - free
        return Swap(total, used, free, round(100.0 * used / total, 1) if total else 0.0)

    def sensors_battery(self) -> Battery | None:
        names = sorted(p.name for p in POWER.glob("*")
                       if p.name.startswith("BAT") or "battery" in p.name.lower())
        if not names:
            return None
        root = POWER / names[0]
        now = _first_int(root / "energy_now", root / "charge_now")
        full = _first_int(root / "energy_full", root / "charge_full")
        rate = _first_int(root / "power_now", root / "current_now")
        if now is not None and full:
            percent = 100.0 * now / full
        else:
            capacity = _first_int(root / "capacity")
            if capacity is None:
                return None
            percent = float(capacity)
        online = _first_int(POWER / "AC0" / "online", POWER / "AC" / "online")
        status = _read(root / "status").lower()
        plugged = (online == 1 if online is not None else
                   False if status == "discharging" else
                   True if status in ("charging", "full") else None)
        secsleft = -2 if plugged else int(now / rate * 3600) if now and rate else -1
        return Battery(min(percent, 100.0), secsleft, plugged)

    def disk_partitions(self, all: bool = False) -> list[Partition]:  # noqa: A002 - psutil's
        real = {line.split("\t")[-1].strip() for line in _lines(PROC / "filesystems")
                if not line.startswith("nodev") or line.endswith("\tzfs")}
        found = []
        for line in _lines(PROC / "self" / "mounts"):
            fields = line.split()
            if len(fields) < 4:
                continue
            device, mount, fstype, opts = (_unescape(f) for f in fields[:4])
            device = "" if device == "none" else device
            if all or (device and fstype in real):
                found.append(Partition(device, mount, fstype, opts))
        return found

    def disk_usage(self, path: str) -> Usage:
        st = os.statvfs(path)
        total = st.f_blocks * st.f_frsize
        used = total - st.f_bfree * st.f_frsize
        free = st.f_bavail * st.f_frsize
        user_total = used + free
        return Usage(total, used, free, round(100.0 * used / user_total, 1) if user_total else 0.0)

    def net_io_counters(self, pernic: bool = True) -> dict[str, NicCounters]:
        found = {}
        for line in _lines(PROC / "net" / "dev")[2:]:
            name, _, rest = line.partition(":")
            v = [int(x) for x in rest.split()]
            found[name.strip()] = NicCounters(v[8], v[0], v[9], v[1], v[2], v[10], v[3], v[11])
        return found

    def net_if_stats(self) -> dict[str, NicStats]:
        found = {}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for name in self.net_io_counters():
                try:
                    flags = _flags(sock, name)
                    mtu = struct.unpack("i", _ifreq(sock, SIOCGIFMTU, name)[16:20])[0]
                except OSError:
                    continue  # gone since /proc/net/dev was read
                duplex, speed = _duplex_speed(sock, name)
                found[name] = NicStats("running" in flags, duplex, speed, mtu, ",".join(flags))
        return found

    def net_if_addrs(self) -> dict[str, list[Address]]:
        found: dict[str, list[Address]] = {}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for name in self.net_io_counters():
                try:
                    raw = _ifreq(sock, SIOCGIFHWADDR, name)[18:24]
                except OSError:
                    continue
                found[name] = [Address(self.AF_LINK, ":".join(f"{b:02x}" for b in raw), None)]
            for label, address in _ipv4_addresses(sock):
                found.setdefault(label, []).append(
                    Address(socket.AF_INET, address, _netmask(sock, label, address)))
        for line in _lines(PROC / "net" / "if_inet6"):
            hexaddr, _index, prefix, _scope, _flags6, name = line.split()
            address = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(hexaddr))
            found.setdefault(name, []).append(Address(socket.AF_INET6, address, _v6mask(prefix)))
        return found


def kernel_gateways() -> list[dict[str, Any]]:
    """The default routes in /proc/net/route (IPv4) and /proc/net/ipv6_route, by metric."""
    found: list[dict[str, Any]] = []
    v4 = []
    for line in _lines(PROC / "net" / "route")[1:]:
        f = line.split()
        if len(f) >= 8 and f[1] == "00000000" and f[7] == "00000000" and int(f[3], 16) & 2:
            address = socket.inet_ntoa(struct.pack("<I", int(f[2], 16)))
            v4.append({"family": "ipv4", "address": address, "interface": f[0],
                       "metric": int(f[6])})
    v6 = []
    for line in _lines(PROC / "net" / "ipv6_route"):
        f = line.split()
        if len(f) >= 10 and f[0] == "0" * 32 and f[1] == "00" and f[4] != "0" * 32:
            address = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(f[4]))
            v6.append({"family": "ipv6", "address": address, "interface": f[9],
                       "metric": int(f[5], 16)})
    for routes in (v4, v6):
        found += sorted(routes, key=lambda r: r["metric"])
    return found


def _meminfo() -> dict[str, int]:
    info = {}
    for line in _lines(PROC / "meminfo"):
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            info[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return info


def _ifreq(sock: socket.socket, request: int, name: str) -> bytes:
    import fcntl

    return fcntl.ioctl(sock, request, struct.pack("16s24x", name.encode()[:15]))


def _flags(sock: socket.socket, name: str) -> list[str]:
    bits = struct.unpack("H", _ifreq(sock, SIOCGIFFLAGS, name)[16:18])[0]
    return [flag for i, flag in enumerate(FLAG_NAMES) if bits & (1 << i)]


def _duplex_speed(sock: socket.socket, name: str) -> tuple[int, int]:
    """As psutil asks: ETHTOOL_GSET; an interface without it (lo, veth down) is unknown, 0."""
    import array
    import fcntl

    command = array.array("B", struct.pack("I", ETHTOOL_GSET) + bytes(40))
    pointer, _ = command.buffer_info()
    try:
        fcntl.ioctl(sock, SIOCETHTOOL, struct.pack("16sP16x", name.encode()[:15], pointer))
    except OSError:
        return 0, 0
    speed_lo, duplex = struct.unpack_from("HB", command, 12)
    speed = speed_lo | struct.unpack_from("H", command, 28)[0] << 16
    return {1: 2, 0: 1}.get(duplex, 0), 0 if speed in (0xFFFF, 0xFFFFFFFF) else speed


def _ipv4_addresses(sock: socket.socket) -> list[tuple[str, str]]:
    """Every IPv4 address with its interface label (SIOCGIFCONF lists secondaries too)."""
    import array
    import fcntl

    size = 40  # struct ifreq on 64-bit Linux
    buffer = array.array("B", bytes(size * 256))
    address, _ = buffer.buffer_info()
    answer = fcntl.ioctl(sock, SIOCGIFCONF, struct.pack("iL", len(buffer), address))
    length = struct.unpack("iL", answer)[0]
    data = buffer.tobytes()[:length]
    return [(data[i:i + 16].split(b"\0", 1)[0].decode(), socket.inet_ntoa(data[i + 20:i + 24]))
            for i in range(0, length, size)]


def _netmask(sock: socket.socket, label: str, address: str) -> str | None:
    import fcntl

    request = struct.pack("16sH2s4s8x", label.encode(), socket.AF_INET, b"\0\0",
                          socket.inet_aton(address))  # the address picks the secondary's mask
    try:
        answer = fcntl.ioctl(sock, SIOCGIFNETMASK, request)
    except OSError:
        return None
    return socket.inet_ntoa(answer[20:24])


def _v6mask(prefix_hex: str) -> str:
    bits = int(prefix_hex, 16)
    mask = ((1 << 128) - 1) ^ ((1 << (128 - bits)) - 1)
    return socket.inet_ntop(socket.AF_INET6, mask.to_bytes(16, "big"))


def _unescape(field: str) -> str:
    """/proc/self/mounts writes space, tab, newline and backslash as octal escapes."""
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""  # e.g. speed/duplex of a link that is down: EINVAL


def _first_int(*paths: Path) -> int | None:
    for path in paths:
        text = _read(path)
        if text:
            try:
                return int(text)
            except ValueError:
                continue
    return None
