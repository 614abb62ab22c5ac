"""Real printers for the tests: ippeveprinter (IPP Everywhere) and a private cupsd.

Debian's ippeveprinter will not start without a D-Bus system bus and a running avahi-daemon
(it registers itself over DNS-SD). :class:`Bus` gives it both without touching the machine's:
a private ``dbus-daemon`` on a socket in a temp dir, and an ``avahi-daemon`` in its own mount
namespace (a tmpfs over /run for its pid file) and, by default, an empty network namespace, so
no mDNS packet is ever sent. For the discovery tests the avahi-daemon runs inside a namespace
the test built instead, bound to that namespace's veth only.

:class:`Cupsd` is a real CUPS scheduler with a private configuration, spool and socket; it runs
as root but its backends as ``lp`` (cupsd refuses ``User root``), so its directory is
world-traversable. Every process is started by the fixture and stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
PRINT_CMD = HERE / "ipp_print_cmd.sh"
PRINT_JOB_TEST = HERE / "ipptool" / "print-job.test"
STATUS_TEST = HERE / "ipptool" / "get-printer-attributes.test"

MEDIA_SOURCES = ("auto", "main", "manual", "by-pass-tray")  # ippeveprinter's default trays
AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6={ipv6}
allow-interfaces={interfaces}
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
"""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_port(host: str, port: int, proc: subprocess.Popen, what: str, wait_s: float = 10) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.03)
    raise RuntimeError(f"{what} not listening on {host}:{port} after {wait_s} s")


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM to the peer's own process group, SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


class Bus:
    """A private D-Bus "system" bus with an avahi-daemon on it.

    ``netns`` None: avahi runs in a fresh, empty network namespace (no interface, no traffic).
    Otherwise it runs in that named namespace, on ``interface`` only.
    """

    def __init__(self, netns: str | None = None, interface: str = "lo") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fk-bus-"))
        self.address = f"unix:path={self.dir}/bus"
        self.dbus = _spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                            f"--address={self.address}"], self.dir / "dbus.log")
        self.avahi: subprocess.Popen | None = None
        try:
            self._wait_file(self.dir / "bus", "dbus-daemon")
            conf = self.dir / "avahi.conf"
            conf.write_text(AVAHI_CONF.format(interfaces=interface,
                                              ipv6="no" if netns else "yes"))
            inner = ("mount -t tmpfs tmpfs /run && mkdir /run/avahi-daemon && exec avahi-daemon "
                     f"-f {conf} --no-drop-root --no-chroot --no-rlimits")
            where = ["ip", "netns", "exec", netns, "unshare", "-m"] if netns else [
                "unshare", "-n", "-m"]
            self.avahi = _spawn([*where, "sh", "-c", inner], self.dir / "avahi.log",
                                env=self.env())
            self._wait_log(self.dir / "avahi.log", "startup complete", self.avahi)
        except BaseException:
            self.close()
            raise

    def env(self) -> dict[str, str]:
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.address}

    def _wait_file(self, path: Path, what: str, wait_s: float = 5) -> None:
        deadline = time.monotonic() + wait_s
        while not path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not create {path}")
            time.sleep(0.02)

    def _wait_log(self, log: Path, text: str, proc: subprocess.Popen, wait_s: float = 10) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if text in log.read_text(errors="replace"):
                return
            if proc.poll() is not None:
                raise RuntimeError(f"avahi-daemon exited: {log.read_text(errors='replace')}")
            time.sleep(0.03)
        raise RuntimeError(f"avahi-daemon not ready: {log.read_text(errors='replace')}")

    def close(self) -> None:
        stop(self.avahi)
        stop(self.dbus)
        shutil.rmtree(self.dir, ignore_errors=True)


class IppEvePrinter:
    """``ippeveprinter`` on localhost:PORT (IPP and, with its self-signed key, IPPS).

    Its test-only web forms set supply levels and tray contents; a job runs the print command
    (``ipp_print_cmd.sh``), which announces ``STATE: +REASON`` for ``hold`` seconds.
    """

    def __init__(self, bus: Bus, name: str = "fk-printer", port: int | None = None,
                 netns: str | None = None, host: str | None = "localhost") -> None:
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="fk-ippeve-"))
        (self.dir / "spool").mkdir()
        (self.dir / "ssl").mkdir()
        self.ctl = self.dir / "ctl"
        self.ctl.write_text("FK_STATE=media-jam FK_HOLD=3\n")
        self.page = self.dir / "page.txt"
        self.page.write_text("fieldkit test page\n")
        env = {**bus.env(), "FK_CTL": str(self.ctl)}
        cmd = ["ippeveprinter", *(["-n", host] if host else []), "-p", str(self.port),
               "-d", str(self.dir / "spool"),
               "-K", str(self.dir / "ssl"), "-M", "Acme", "-m", "FieldKit Sim", "-l", "Room 101",
               "-s", "10", "-c", str(PRINT_CMD), "-f", "text/plain,image/pwg-raster,image/urf",
               name]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        self.proc = _spawn(cmd, self.dir / "ippeveprinter.log", env=env)
        try:
            if not netns:
                wait_port("127.0.0.1", self.port, self.proc, "ippeveprinter")
        except BaseException:
            self.close()
            raise

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    def web(self, path: str) -> None:
        """ippeveprinter's web forms change state with a plain GET."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as answer:
            answer.read()

    def supplies(self, waste: int = 25, black: int = 75, cyan: int = 75, magenta: int = 75,
                 yellow: int = 75) -> None:
        """Every one of the five fields must be given: a missing one drops that supply."""
        self.web(f"/supplies?supply0={waste}&supply1={black}&supply2={cyan}&supply3={magenta}"
                 f"&supply4={yellow}")

    def media(self, **levels: int) -> None:
        """Sheets per tray (main, by_pass_tray; default 250). The form counts a tray left out
        as empty; auto and manual have no level."""
        query = [f"size{i}=na_letter_8.5x11in&level{i}={levels.get(src.replace('-', '_'), 250)}"
                 for i, src in enumerate(MEDIA_SOURCES) if src not in ("auto", "manual")]
        self.web("/media?" + "&".join(query))

    def wait_idle(self, wait_s: float = 15) -> None:
        """Until the running job (if any) is done: ippeveprinter prints one job at a time."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            out = subprocess.run(["ipptool", "-t", "-T", "2", self.uri, str(STATUS_TEST)],
                                 capture_output=True, text=True, timeout=10).stdout
            if any(line.split(" (")[0].strip() == "printer-state" and line.endswith("= idle")
                   for line in out.splitlines()):
                return
            time.sleep(0.2)
        raise RuntimeError("ippeveprinter did not become idle")

    def reset(self) -> None:
        self.wait_idle()
        self.supplies()
        self.media()

    def print_job(self, reason: str, hold_s: float, keep: bool = False) -> None:
        """Submit a job; while it runs the print command raises ``reason``."""
        self.ctl.write_text(f"FK_STATE={reason} FK_HOLD={hold_s} FK_KEEP={int(keep)}\n")
        subprocess.run(["ipptool", "-t", "-f", str(self.page), self.uri, str(PRINT_JOB_TEST)],
                       check=True, capture_output=True, timeout=30)

    def close(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


CUPSD_CONF = """LogLevel warn
Listen 127.0.0.1:{port}
Listen {dir}/cups.sock
WebInterface No
Browsing No
BrowseLocalProtocols none
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
"""

CUPS_FILES_CONF = """User lp
Group lp
SystemGroup root
ServerRoot {dir}
RequestRoot {dir}/spool
TempDir {dir}/spool/tmp
CacheDir {dir}/cache
StateDir {dir}/state
AccessLog {dir}/log/access_log
ErrorLog {dir}/log/error_log
PageLog {dir}/log/page_log
"""


class Cupsd:
    """A private CUPS scheduler: ``socket`` is what CUPS_SERVER should name."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fk-cupsd-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        for sub in ("spool/tmp", "cache", "state", "log", "ppd"):
            (self.dir / sub).mkdir(parents=True)
        for sub in ("spool", "spool/tmp", "cache", "state"):
            shutil.chown(self.dir / sub, "root", "lp")
            (self.dir / sub).chmod(0o1770 if sub == "spool/tmp" else 0o770)
        (self.dir / "cupsd.conf").write_text(CUPSD_CONF.format(port=self.port, dir=self.dir))
        (self.dir / "cups-files.conf").write_text(CUPS_FILES_CONF.format(dir=self.dir))
        self.socket = str(self.dir / "cups.sock")
        self.proc = _spawn(["cupsd", "-f", "-c", str(self.dir / "cupsd.conf"), "-s",
                            str(self.dir / "cups-files.conf")], self.dir / "cupsd.out")
        try:
            wait_port("127.0.0.1", self.port, self.proc, "cupsd")
        except BaseException as exc:
            logs = [self.dir / "cupsd.out", self.dir / "log" / "error_log"]
            text = " | ".join(p.read_text(errors="replace") for p in logs if p.exists())
            self.close()
            raise RuntimeError(f"cupsd did not start: {text[-2000:]}") from exc

    def env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": self.socket}

    def run(self, *cmd: str) -> str:
        """A CUPS client command (lpadmin, cupsdisable, lp ...) against this scheduler."""
        done = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
        return done.stdout

    def close(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
