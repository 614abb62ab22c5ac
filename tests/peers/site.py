"""A small customer site for end-to-end checklist runs, built from the real peers.

fieldkit runs in a client namespace (10.223.0.2) whose default gateway and resolver is the test
session's own namespace (10.223.0.1) on a veth pair. There, every service a built-in checklist
asks about answers: dnsmasq (names *.site.test), plain TCP listeners (web 443, SMB 445, SIP
5060/5061), aiosmtpd (25 plain, 587 submission, 465 smtps), dovecot (143/993/110/995) and
ippeveprinter (IPP). The session namespace is already private (tests/netisolation.py), so no
packet can leave the machine; everything is started here and stopped by PID in ``close``.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

from tests.peers.netns import HERE, Netns, veth

SITE, CLIENT = "10.223.0.1", "10.223.0.2"
NAMES = ("ok.site.test", "web.site.test", "intranet.site.test", "files.site.test",
         "printer.site.test", "mail.site.test", "vpn.site.test", "sip.site.test")
TCP_PORTS = (443, 445, 5060, 5061)
MAIL_PORTS = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
CONFIG = """[technician]
name = "Tess Tech"
[diag]
dns_name = "ok.site.test"
dns_timeout_s = 1.0
gateway_timeout_s = 1.0
printer_timeout_s = 2.0
"""


class SessionSide(Netns):
    """The test session's own namespace as the site side: same helpers, no `ip netns exec`."""

    def __init__(self) -> None:  # noqa: D107 - nothing to create: it exists already
        self.name = "session"
        self.processes: list[subprocess.Popen] = []
        self.logs: dict[int, collections.deque[str]] = {}

    def exec_cmd(self, *cmd: str) -> list[str]:
        return list(cmd)

    def close(self) -> None:
        from tests.peers.ipp import stop

        for proc in self.processes:
            stop(proc)
            if proc.stdout:
                proc.stdout.close()


class Site:
    def __init__(self, workdir: Path, *, mail: bool = True, printer: bool = True) -> None:
        self.side = SessionSide()
        self.client = Netns("fkcl")
        self.dovecot = self.bus = self.printer = None
        try:
            veth(None, f"{SITE}/24", self.client, f"{CLIENT}/24")
            self.client.ip("route", "add", "default", "via", SITE)
            self.client.resolv_conf(f"nameserver {SITE}\n")
            self.side.dnsmasq(SITE, dict.fromkeys(NAMES, SITE))
            self.side.listen(SITE, *TCP_PORTS)
            if mail:
                self._mail(workdir)
            if printer:
                from tests.peers.ipp import Bus, IppEvePrinter

                self.bus = Bus()
                self.printer = IppEvePrinter(self.bus, name="FieldKit Site Printer", host=None)
        except BaseException:
            self.close()
            raise

    def _mail(self, workdir: Path) -> None:
        from tests.peers.certs import make_certs
        from tests.peers.dovecot import Dovecot

        certs = make_certs(workdir / "certs", ["mail.site.test", SITE])
        self.side.start(sys.executable, str(HERE / "smtp_server.py"), SITE, str(certs),
                        "25:plain", "587:submission", "465:smtps", ready="ready")
        self.dovecot = Dovecot(SITE, certs / "server.crt", certs / "server.key", MAIL_PORTS)

    @property
    def printer_uri(self) -> str:
        assert self.printer is not None
        # by address: ippeveprinter answers 400 to a Host header that is not its own name
        return f"ipp://{SITE}:{self.printer.port}/ipp/print"

    def fieldkit(self, home: Path, *args: str, timeout: float = 120
                 ) -> subprocess.CompletedProcess:
        """``fieldkit ARGS`` as a technician on the client computer would run it."""
        return self.client.run(sys.executable, "-m", "fieldkit", *args, check=False,
                               timeout=timeout, stdin=subprocess.DEVNULL,
                               env={**os.environ, "FIELDKIT_HOME": str(home), "NO_COLOR": "1"})

    def close(self) -> None:
        if self.printer is not None:
            self.printer.close()
        if self.bus is not None:
            self.bus.close()
        if self.dovecot is not None:
            self.dovecot.stop()
        self.side.close()
        self.client.close()
