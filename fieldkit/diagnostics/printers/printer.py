"""Printers: the local queues, and each printer's own state, supplies and ports.

"The printer doesn't print" is a paused queue, a stuck job, a printer out of paper or toner, a
jam, an open cover, or a printer the computer cannot reach. Plain ``fieldkit diag`` runs
``printer.queue``: every local queue (CUPS, over IPP to the scheduler) and, unless
``--no-probe``, the network printer behind each. ``fieldkit diag printer TARGET...`` asks
printers directly: IPP Get-Printer-Attributes (IPP 2.0, then 1.1; ``/ipp/print``, ``/ipp``,
``/``), raw 9100 with a PJL status query, LPD reachability. Every port is first probed by
:func:`~fieldkit.diagnostics.net.reach.sweep`, all at once, so a dead printer costs one timeout.

ipps: a printer's certificate is nearly always self-signed. Verification is tried first (OS
trust store, ``fieldkit.trust``); when it fails the printer is asked once more over an
unverified connection, the status is reported, and ``data.tls`` says in words that the
certificate was not verified and why. Nothing but the status request is sent on it.
"""

from __future__ import annotations

import ssl
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from fieldkit.diagnostics.model import Finding, ReachState, Status, worst
from fieldkit.diagnostics.net.reach import STATE_RANK, SUMMARIES, Probe, Target, sweep
from fieldkit.diagnostics.printers import cups, pjl
from fieldkit.diagnostics.printers import tls as printtls
from fieldkit.diagnostics.printers.state import assess_printer
from fieldkit.diagnostics.printers.supplies import assess_supplies
from fieldkit.diagnostics.printers.targets import PrinterTarget, device_target, parse_printer_target
from fieldkit.diagnostics.registry import CheckContext, check
from fieldkit.diagnostics.runner import run_concurrently
from fieldkit.diagnostics.wire import ipp

if TYPE_CHECKING:
    from fieldkit.diagnostics.jobs import Job

AUTO_ORDER = (("ipp", 631), ("socket", 9100), ("lpd", 515))
CHECK_OF = {"ipp": "printer.ipp", "ipps": "printer.ipp", "socket": "printer.raw",
            "lpd": "printer.lpd", "auto": "printer.reach"}
IPP_PATHS = ("/ipp/print", "/ipp", "/")
PRINTER_ATTRIBUTES = [
    "printer-state", "printer-state-reasons", "printer-state-message",
    "printer-is-accepting-jobs", "printer-make-and-model", "printer-location", "printer-info",
    "printer-uuid", "printer-firmware-string-version", "queued-job-count", "printer-up-time",
    "marker-names", "marker-types", "marker-colors", "marker-levels", "printer-supply",
    "printer-supply-description", "printer-alert", "printer-alert-description",
    "printer-input-tray",
]
REACH_HINTS = {
    ReachState.CLOSED:
        "The address {host} answers, but nothing listens on port {port}: this way of "
        "printing may be switched off on the printer (turn IPP / raw 9100 / LPD on in "
        "its web settings), or the address now belongs to another device.",
    ReachState.FILTERED:
        "No answer from {host} on port {port}: the printer is off or in deep sleep, in "
        "another network (VLAN, guest Wi-Fi), or a firewall drops the traffic. Check "
        "that it is on and print its configuration page to see its address.",
    ReachState.UNREACHABLE:
        "{host} does not answer at all: the printer is off or unplugged, or has a "
        "new IP address (its configuration page shows the current one). Check this "
        "computer's network too.",
    ReachState.UNRESOLVED:
        "The printer name {host} does not resolve: check the spelling, or use its IP "
        "address (printed on its configuration page).",
    ReachState.ERROR:
        "Unexpected network error reaching {host}:{port}; escalate with this finding.",
}
NOT_IPP_HINT = ("Port {port} answers, but not as an IPP printer: check the address (IPP printers "
                "usually answer at ipp://HOST/ipp/print), or use socket://HOST for a raw port.")
TLS_ONLY_HINT = ("The printer accepts only encrypted IPP: use {uri} instead of ipp:// (for a "
                 "computer's queue, change its device URI). Nothing is wrong with the printer.")
MOVED_HINT = ("The printer does not answer at {given} but at {uri}: use that address (for a "
              "computer's queue, change its device URI to it).")
HUNG_HINT = ("The printer accepts connections but does not answer: its network service hangs. "
             "Switch the printer off and on; escalate if it stays like this.")
NO_PRINT_SYSTEM = "no print system here: no CUPS scheduler answers ({tried})"
NOT_RUNNING = ("no print system running: CUPS is installed but its scheduler does not answer "
               "({tried})")


class Unusable(Exception):
    """The printer answered, but not in a way that tells its state."""

    def __init__(self, summary: str, hint: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(summary)
        self.summary, self.hint, self.data = summary, hint, data or {}


def check_targets(targets: list[PrinterTarget], timeout: float, pjl_query: bool = True,
                  ) -> list[Finding]:
    """Probe every port at once, then ask each printer that answered, concurrently."""
    ports = [(i, kind, port) for i, t in enumerate(targets)
             for kind, port in (AUTO_ORDER if t.kind == "auto" else [(t.kind, t.port)])]
    probes = sweep([Target(targets[i].uri(kind, port, ""), targets[i].host, port)
                    for i, kind, port in ports], timeout)
    per_target: dict[int, list[tuple[str, int, Probe]]] = {}
    for (i, kind, port), probe in zip(ports, probes, strict=True):
        per_target.setdefault(i, []).append((kind, port, probe))
    tasks, findings = [], {}
    for i, target in enumerate(targets):
        opened = [(k, p, pr) for k, p, pr in per_target[i] if pr.state == ReachState.OPEN]
        if opened:
            kind, port, probe = opened[0]
            chosen = replace(target, kind=kind, port=port)
            tasks.append((str(i), _examiner(chosen, probe, timeout, pjl_query), timeout * 8))
        else:
            findings[i] = [unreachable(target, per_target[i])]
    results = run_concurrently(tasks)
    for key, outcome in results.items():
        i = int(key)
        target = targets[i]
        if isinstance(outcome, BaseException):
            kind, port, probe = next((k, p, pr) for k, p, pr in per_target[i]
                                     if pr.state == ReachState.OPEN)
            findings[i] = [_broken(replace(target, kind=kind, port=port), probe, outcome)]
        else:
            findings[i] = outcome
    return [f for i in range(len(targets)) for f in findings[i]]


def _reach_data(target: PrinterTarget, probe: Probe) -> dict[str, Any]:
    data: dict[str, Any] = {"reach": {"state": probe.state, "reason": probe.reason,
                                      "latency_ms": probe.latency_ms, "address": probe.address},
                            "host": target.host, "port": target.port}
    if target.queue:
        data["queue"] = target.queue
    return data


def _subject(target: PrinterTarget, path: str | None = None) -> str:
    return target.uri(path=path) if target.text and "://" not in target.text else target.text


def unreachable(target: PrinterTarget, tried: list[tuple[str, int, Probe]]) -> Finding:
    best = min((pr for _k, _p, pr in tried), key=lambda pr: STATE_RANK[pr.state])
    port = tried[0][1]
    data = _reach_data(replace(target, port=port), tried[0][2])
    data["state"], data["reason"] = tried[0][2].state, tried[0][2].reason
    if target.kind == "auto":
        data["ports"] = {str(p): {"state": pr.state, "reason": pr.reason} for _k, p, pr in tried}
        data["state"], data["reason"] = best.state, best.reason
        summary = (f"no printer port answers on {target.host}: " +
                   ", ".join(f"{p} {pr.state}" for _k, p, pr in tried))
    else:
        summary = SUMMARIES[best.state].format(host=target.host, port=port)
    hint = REACH_HINTS[best.state].format(host=target.host, port=best.target.port)
    return Finding(CHECK_OF[target.kind], target.text, Status.FAIL, summary, hint, data)


def _examiner(target: PrinterTarget, probe: Probe, timeout: float, pjl_query: bool):
    def examine() -> list[Finding]:
        try:
            if target.kind in ("ipp", "ipps"):
                return examine_ipp(target, probe, timeout)
            if target.kind == "socket":
                return [examine_raw(target, probe, timeout, pjl_query)]
            return [Finding("printer.lpd", _subject(target), Status.OK,
                            f"LPD port {target.port} on {target.host} is open (queue state "
                            "not asked)",
                            data={**_reach_data(target, probe), "state": ReachState.OPEN})]
        except Exception as exc:  # noqa: BLE001 - becomes the finding, with the reason
            if target.kind == "ipp" and not isinstance(exc, Unusable):
                handshake = printtls.speaks_tls(target, probe.address, timeout)
                if handshake is not None:
                    return [_tls_only(target, probe, exc, handshake)]
            return [_broken(target, probe, exc)]

    return examine


def _tls_only(target: PrinterTarget, probe: Probe, exc: BaseException,
              handshake: dict[str, Any]) -> Finding:
    ipps = replace(target, kind="ipps").uri(path=target.path or IPP_PATHS[0])
    data = {**_reach_data(target, probe), "state": ReachState.OPEN, "error": str(exc),
            "tls_only": handshake}
    return Finding("printer.ipp", _subject(target), Status.FAIL,
                   f"port {target.port} speaks only TLS: unencrypted IPP (ipp://) gets no answer "
                   f"({exc.__class__.__name__}), a TLS handshake succeeds",
                   TLS_ONLY_HINT.format(uri=ipps), data)


def examine_ipp(target: PrinterTarget, probe: Probe, timeout: float) -> list[Finding]:
    attrs, extra = query_ipp(target, probe.address, timeout)
    subject = _subject(target, extra["ipp"]["path"])
    extra.update(_reach_data(target, probe))
    state_finding = assess_printer(subject, attrs, extra)
    given = extra["ipp"].get("given_path")
    if given:
        uri = extra["ipp"]["uri"]
        state_finding.status = worst([state_finding.status, Status.WARN])
        state_finding.summary += f"; no printer at {given}: it answers at {uri}"
        state_finding.hint = " ".join(filter(None, [MOVED_HINT.format(given=given, uri=uri),
                                                    state_finding.hint]))
    tls_info = extra.get("tls")
    if tls_info:
        state_finding.summary += ("; TLS certificate verified" if tls_info["verified"] else
                                  f"; TLS certificate not verified ({tls_info['verify']})")
    supply = assess_supplies(subject, attrs, {"state": state_finding.data["state"],
                                              "reasons": state_finding.data["reasons"]})
    return [state_finding, supply]


def query_ipp(target: PrinterTarget, address: str, timeout: float,
              ) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Get-Printer-Attributes: 2.0 then 1.1, each resource path in turn; (attributes, data)."""
    tls_info = None
    if target.kind == "ipps":
        channel, tls_info = printtls.tls_channel(target, address, timeout)
    else:
        channel = ipp.Channel(target.host, target.port, timeout=timeout, address=address)
    attempts: list[dict[str, str]] = []
    try:
        given = [target.path] if target.path else []
        for path in given + [p for p in IPP_PATHS if p not in given]:
            uri = target.uri(path=path)
            for version in ((2, 0), (1, 1)):
                label = {"path": path, "version": f"{version[0]}.{version[1]}"}
                try:
                    answer = channel.call(path, ipp.GET_PRINTER_ATTRIBUTES, [
                        ipp.Attribute("printer-uri", ipp.URI, [uri]),
                        ipp.Attribute("requesting-user-name", ipp.NAME, ["fieldkit"]),
                        ipp.Attribute("requested-attributes", ipp.KEYWORD, PRINTER_ATTRIBUTES),
                    ], version)
                except ipp.HttpError as exc:
                    attempts.append({**label, "result": str(exc)})
                    if exc.status == 400 and version == (2, 0):
                        continue
                    if exc.status == 404:
                        break
                    if exc.status == 426:
                        raise Unusable("the printer accepts only encrypted IPP (HTTP 426)",
                                       f"Use ipps://{target.host}... instead of ipp://.",
                                       {"ipp": {"attempts": attempts}}) from None
                    raise Unusable(f"port {target.port} answers {exc}, not IPP",
                                   NOT_IPP_HINT.format(port=target.port),
                                   {"ipp": {"attempts": attempts}}) from None
                attempts.append({**label, "result": answer.status_name})
                if answer.ok:
                    found: dict[str, Any] = {**label, "uri": uri, "attempts": attempts}
                    if given and path != target.path:
                        found["given_path"] = target.path  # it answered 404 there
                    return answer.first(ipp.PRINTER), {"ipp": found, "tls": tls_info}
                if answer.code in (0x0400, 0x0503) and version == (2, 0):
                    continue
                if answer.code != 0x0406:
                    raise Unusable(f"the printer refuses the status query ({answer.status_name})",
                                   "The printer answers but refuses to tell its state (security "
                                   "settings?): look at its display, or escalate.",
                                   {"ipp": {"attempts": attempts}})
                break
        paths = ", ".join(dict.fromkeys(a["path"] for a in attempts))
        raise Unusable(f"no IPP printer at {paths}",
                       NOT_IPP_HINT.format(port=target.port), {"ipp": {"attempts": attempts}})
    finally:
        channel.close()


def examine_raw(target: PrinterTarget, probe: Probe, timeout: float, query: bool) -> Finding:
    data = {**_reach_data(target, probe), "state": ReachState.OPEN, "pjl": None}
    where = f"port {target.port} on {target.host} is open"
    if not query:
        return Finding("printer.raw", _subject(target), Status.OK,
                       f"{where} (PJL query off: [diag] printer_pjl)", data=data)
    answer = pjl.query(probe.address, target.port, timeout)
    if answer is None:
        return Finding("printer.raw", _subject(target), Status.OK,
                       f"{where}; no PJL answer within {timeout:g} s (many printers give none)",
                       data=data)
    data["pjl"] = answer
    status, words, tip = pjl.assess(answer)
    display = f" '{answer['display']}'" if answer.get("display") else ""
    ident = f" - {answer['id']}" if answer.get("id") else ""
    return Finding("printer.raw", _subject(target), status, f"{where}; {words}{display}{ident}",
                   tip, data)


def _broken(target: PrinterTarget, probe: Probe, exc: BaseException) -> Finding:
    data = {**_reach_data(target, probe), "state": ReachState.OPEN, "error": str(exc)}
    if isinstance(exc, Unusable):
        data.update(exc.data)
        return Finding(CHECK_OF[target.kind], _subject(target), Status.FAIL, exc.summary,
                       exc.hint, data)
    if isinstance(exc, ipp.DecodeError):
        summary, hint = f"the answer is not valid IPP ({exc})", NOT_IPP_HINT
    elif isinstance(exc, ssl.SSLError):
        summary = f"TLS handshake failed ({exc.reason or exc})"
        hint = "The printer's encryption could not be set up: try ipp:// instead, or escalate."
    elif isinstance(exc, TimeoutError):
        summary, hint = "the printer accepted the connection but did not answer", HUNG_HINT
    else:
        summary, hint = f"talking to the printer failed ({exc.__class__.__name__}: {exc})", \
            HUNG_HINT
    return Finding(CHECK_OF[target.kind], _subject(target), Status.FAIL, summary,
                   hint.format(port=target.port), data)


@dataclass(frozen=True)
class Options:
    timeout: float = 3.0
    stuck_after_min: float = 10.0
    pjl: bool = True
    discover_s: float = 3.0

    @classmethod
    def from_settings(cls, settings: dict[str, Any], timeout: float | None = None) -> Options:
        """The ``[diag] printer_*`` keys (checked by the config schema when read)."""
        defaults = cls()
        return cls(timeout or float(settings.get("printer_timeout_s", defaults.timeout)),
                   float(settings.get("printer_stuck_after_min", defaults.stuck_after_min)),
                   bool(settings.get("printer_pjl", defaults.pjl)),
                   float(settings.get("printer_discover_s", defaults.discover_s)))


@check("printer.queue", domain="printer", timeout_s=30.0,
       description="local print queues (CUPS): paused, rejecting, stuck jobs, and the printer "
                   "behind each")
def printer_queue(ctx: CheckContext) -> list[Finding]:
    return check_local(Options.from_settings(ctx.settings), probe=ctx.probe)


def check_local(options: Options, probe: bool = True) -> list[Finding]:
    """Every local queue, then (when probing) each distinct network printer behind them."""
    if sys.platform == "win32":
        return [Finding("printer.queue", "-", Status.SKIP,
                        "Windows print queues are not examined yet")]
    schedulers = cups.candidates()
    if not probe and not all(s.local for s in schedulers):
        return [Finding("printer.queue", schedulers[0].where, Status.SKIP,
                        "the print server is remote: not contacted (--no-probe)")]
    try:
        scheduler, channel = cups.connect(schedulers, options.timeout)
    except cups.NoScheduler as exc:
        return [_no_scheduler(exc)]
    try:
        queues = cups.list_queues(channel)
    finally:
        channel.close()
    if not queues:
        return [Finding("printer.queue", scheduler.where, Status.SKIP,
                        f"the print system ({scheduler.where}) has no printer queues")]
    findings = [cups.assess_queue(q, options.stuck_after_min) for q in queues]
    devices: dict[str, PrinterTarget] = {}
    for queue, finding in zip(queues, findings, strict=True):
        finding.data["scheduler"] = scheduler.where
        uri = finding.data["device_uri"]
        target = device_target(uri, queue.name) if uri else "the queue has no device URI"
        if isinstance(target, str):
            finding.data["device_check"] = target
        elif not probe:
            finding.data["device_check"] = "not asked (--no-probe)"
        elif uri in devices:
            finding.data["device_check"] = f"asked directly: see the finding for {uri}"
            devices[uri] = replace(devices[uri], queue=f"{devices[uri].queue}, {queue.name}")
        else:
            finding.data["device_check"] = f"asked directly: see the finding for {uri}"
            devices[uri] = target
    return findings + check_targets(list(devices.values()), options.timeout, options.pjl)


def _no_scheduler(exc: cups.NoScheduler) -> Finding:
    first = exc.tried[0][0]
    tried = "; ".join(f"{s.where}: {why}" for s, why in exc.tried)
    data: dict[str, Any] = {"tried": [{"where": s.where, "source": s.source, "error": why}
                                      for s, why in exc.tried]}
    if first.explicit:
        return Finding("printer.queue", first.where, Status.FAIL,
                       f"the print server {first.where} ({first.source}) does not answer",
                       cups.NO_SERVER_HINT.format(where=first.where, source=first.source), data)
    data["cups_installed"] = installed = _cupsd_installed()
    summary = (NOT_RUNNING if installed else NO_PRINT_SYSTEM).format(tried=tried)
    return Finding("printer.queue", "-", Status.SKIP, summary, data=data)


def _cupsd_installed() -> bool:
    import shutil
    from pathlib import Path

    return bool(shutil.which("cupsd")) or any(
        Path(p).exists() for p in ("/usr/sbin/cupsd", "/usr/local/sbin/cupsd"))


def diagnose(texts: list[str], discover: bool, options: Options,
             probe: bool = True, no_probe_reason: str = "--no-probe") -> list[Finding]:
    """``fieldkit diag printer``: the targets given, else the local queues; plus discovery.
    Without ``probe`` no printer is asked over the network (the local scheduler still is)."""
    targets = [parse_printer_target(t) for t in texts]  # every InputError before any traffic
    if not probe:
        findings = [Finding("printer", t.text, Status.SKIP, f"not probed ({no_probe_reason})")
                    for t in targets] or check_local(options, probe=False)
        if discover:
            findings.append(Finding("printer.discover", "mDNS", Status.SKIP,
                                    f"no discovery ({no_probe_reason})"))
        return findings
    findings = check_targets(targets, options.timeout, options.pjl) if targets else \
        check_local(options)
    if discover:
        from fieldkit.diagnostics.printers.discover import discover_printers

        findings += discover_printers(options.discover_s)
    return findings


def run(job: Job, context: CheckContext, password: str | None = None) -> list[Finding]:
    """``diag printer``: the targets, or with none this computer's queues."""
    return diagnose(job.targets, bool(job.options.get("discover")),
                    Options.from_settings(job.settings, job.timeout), probe=context.probe,
                    no_probe_reason=job.no_probe_reason)
