"""The local print system (CUPS): where its scheduler is, its queues and jobs, and their verdict.

The scheduler is found the way CUPS clients find it: ``CUPS_SERVER`` (``host[:port]`` or a
socket path), else ``ServerName`` in ``~/.cups/client.conf`` or ``$CUPS_SERVERROOT/client.conf``
(``/etc/cups``), else the default domain socket, else localhost:631. All of it is IPP over the
scheduler's socket: no ``lpstat`` output to parse, and the same codec as for printers.
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldkit.diagnostics.model import Finding, Status, worst
from fieldkit.diagnostics.printers.state import Reading, text, texts
from fieldkit.diagnostics.wire import ipp

DEFAULT_SOCKETS = ("/run/cups/cups.sock", "/var/run/cups/cups.sock", "/private/var/run/cupsd")
JOB_STATES = {3: "pending", 4: "pending-held", 5: "processing", 6: "processing-stopped",
              7: "canceled", 8: "aborted", 9: "completed"}
QUEUE_ATTRIBUTES = [
    "printer-name", "printer-uri-supported", "device-uri", "printer-state",
    "printer-state-reasons", "printer-state-message", "printer-is-accepting-jobs",
    "queued-job-count", "printer-make-and-model", "printer-location", "printer-info",
    "printer-up-time",
]
JOB_ATTRIBUTES = ["job-id", "job-state", "job-state-reasons", "job-printer-uri",
                  "time-at-creation"]
JOBS_HINT = ("Jobs are stuck in queue QUEUE: once the printer works they print by themselves. "
             "Held jobs wait for someone to release them ('lp -i JOB-ID -H resume'); jobs "
             "nobody needs any more can go ('cancel -a QUEUE'), then print again.")
QUEUE_TIPS = {
    "paused": "The queue QUEUE is paused on this computer: once the printer is fine, resume it "
              "with 'cupsenable QUEUE' (or Resume in the printer settings); its jobs then print.",
    "rejecting": "The queue QUEUE rejects new jobs: accept them again with 'cupsaccept QUEUE' "
                 "(or in the printer settings).",
    "stopped": "The queue QUEUE stopped after an error (see its message and the printer finding "
               "below): fix the printer, then resume the queue with 'cupsenable QUEUE'.",
}
NO_SERVER_HINT = ("The print server {where} named in {source} does not answer: printing from "
                  "this computer cannot work. Check the network to it, or whether the setting "
                  "is still right (escalate to whoever runs the print server).")


@dataclass(frozen=True)
class Scheduler:
    where: str  # what the user recognises: a socket path or host:port
    source: str  # CUPS_SERVER, client.conf path, or "default"
    host: str = "localhost"
    port: int = 631
    unix_path: str | None = None

    @property
    def explicit(self) -> bool:
        return self.source != "default"

    @property
    def local(self) -> bool:
        if self.unix_path or self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


class NoScheduler(Exception):
    def __init__(self, tried: list[tuple[Scheduler, str]]) -> None:
        super().__init__("; ".join(f"{s.where}: {why}" for s, why in tried))
        self.tried = tried


def parse_server(value: str, source: str) -> Scheduler:
    """``/path/cups.sock``, ``host``, ``host:port``, ``[v6]:port`` (a ``/version=..`` suffix
    is CUPS' and ignored)."""
    value = value.strip()
    if value.startswith("/"):
        return Scheduler(value, source, unix_path=value)
    value = value.split("/", 1)[0]
    host, port = value, 631
    if value.startswith("["):
        host, _, rest = value.partition("]")
        host += "]"
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    else:
        port_text = ""
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{source}: bad port in {value!r}")
        port = int(port_text)
    if not host:
        raise ValueError(f"{source}: no host in {value!r}")
    return Scheduler(f"{host}:{port}", source, host.strip("[]"), port)


def candidates(env: dict[str, str] | None = None, home: Path | None = None) -> list[Scheduler]:
    env = dict(os.environ) if env is None else env
    if env.get("CUPS_SERVER"):
        return [parse_server(env["CUPS_SERVER"], "CUPS_SERVER")]
    confs = [(home or Path.home()) / ".cups" / "client.conf",
             Path(env.get("CUPS_SERVERROOT", "/etc/cups")) / "client.conf"]
    for conf in confs:
        name = _server_name(conf)
        if name:
            return [parse_server(name, str(conf))]
    found = [Scheduler(p, "default", unix_path=p) for p in DEFAULT_SOCKETS if os.path.exists(p)]
    return found + [Scheduler("localhost:631", "default")]


def _server_name(conf: Path) -> str:
    try:
        lines = conf.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        words = line.split(None, 1)
        if len(words) == 2 and words[0].lower() == "servername":
            return words[1].strip()
    return ""


def connect(schedulers: list[Scheduler], timeout: float) -> tuple[Scheduler, ipp.Channel]:
    """The first scheduler that accepts a connection; :class:`NoScheduler` says why none did."""
    tried = []
    for sched in schedulers:
        channel = ipp.Channel(sched.host, sched.port, timeout=timeout, unix_path=sched.unix_path)
        try:
            channel.connect()
            return sched, channel
        except OSError as exc:
            channel.close()
            tried.append((sched, exc.strerror or exc.__class__.__name__))
    raise NoScheduler(tried)


@dataclass
class Job:
    id: int
    state: str
    reasons: list[str]
    created: int | None  # seconds since the epoch, as CUPS counts them


@dataclass
class Queue:
    name: str
    attrs: dict[str, list[Any]]
    jobs: list[Job] = field(default_factory=list)

    @property
    def now(self) -> float:
        """The scheduler's clock (printer-up-time is the epoch in CUPS): ages survive skew."""
        up = self.attrs.get("printer-up-time", [])
        return float(up[0]) if up and isinstance(up[0], int) else time.time()


def list_queues(channel: ipp.Channel) -> list[Queue]:
    user = [ipp.Attribute("requesting-user-name", ipp.NAME, [_user()])]
    answer = channel.call("/", ipp.CUPS_GET_PRINTERS, [
        *user, ipp.Attribute("requested-attributes", ipp.KEYWORD, QUEUE_ATTRIBUTES)])
    if answer.code == 0x0406:  # CUPS says not-found when there is no queue at all
        return []
    if not answer.ok:
        raise RuntimeError(f"CUPS-Get-Printers: {answer.status_name}")
    queues = {text(a, "printer-name"): Queue(text(a, "printer-name"), a)
              for a in answer.all(ipp.PRINTER)}
    jobs = channel.call("/", ipp.GET_JOBS, [
        ipp.Attribute("printer-uri", ipp.URI, ["ipp://localhost/"]), *user,
        ipp.Attribute("which-jobs", ipp.KEYWORD, ["not-completed"]),
        ipp.Attribute("requested-attributes", ipp.KEYWORD, JOB_ATTRIBUTES)])
    for attrs in jobs.all(ipp.JOB) if jobs.ok else []:
        queue = queues.get(text(attrs, "job-printer-uri").rstrip("/").rsplit("/", 1)[-1])
        if queue is not None:
            created = next(iter(attrs.get("time-at-creation", [])), None)
            queue.jobs.append(Job(next(iter(attrs.get("job-id", [])), 0),
                                  JOB_STATES.get(next(iter(attrs.get("job-state", [])), 0),
                                                 "unknown"),
                                  texts(attrs, "job-state-reasons"),
                                  created if isinstance(created, int) else None))
    return list(queues.values())


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "fieldkit"


def assess_queue(queue: Queue, stuck_after_min: float) -> Finding:
    """The ``printer.queue`` finding: paused or rejecting fails, held or old jobs warn."""
    attrs = queue.attrs
    reading = Reading.of(attrs)
    state = reading.state
    status, words, tips = reading.judge(QUEUE_TIPS)
    held = [j for j in queue.jobs if j.state == "pending-held"]
    ages = [(queue.now - j.created) / 60 for j in queue.jobs if j.created is not None]
    stuck = [j for j in queue.jobs if j not in held and j.created is not None
             and (queue.now - j.created) / 60 >= stuck_after_min]
    if held or stuck:
        status = worst([status, Status.WARN])
        oldest = max(ages) if ages else 0.0
        words.append(", ".join(part for part in (
            f"{len(held)} held" if held else "",
            f"{len(stuck)} waiting over {stuck_after_min:g} min" if stuck else "") if part)
            + f" (oldest {oldest:.0f} min)")
        tips.append(JOBS_HINT)
    data = {
        **reading.to_dict(), "device_uri": text(attrs, "device-uri"),
        "uri": text(attrs, "printer-uri-supported"),
        "make_model": text(attrs, "printer-make-and-model"),
        "queued_jobs": next(iter(attrs.get("queued-job-count", [])), len(queue.jobs)),
        "jobs": {"not_completed": len(queue.jobs), "held": len(held), "stuck": len(stuck),
                 "oldest_age_min": round(max(ages), 1) if ages else None,
                 "ids": [j.id for j in queue.jobs][:20]},
    }
    n = len(queue.jobs)
    count = f"{n or 'no'} job{'s' if n != 1 else ''} waiting"
    summary = f"{state}, {count}" + (f": {', '.join(words)}" if words else "")
    hint = " ".join(tips).replace("QUEUE", queue.name)
    return Finding("printer.queue", queue.name, status, summary, hint, data)

