"""One diagnostics command as data, so that it runs the same here and on a remote machine.

``fieldkit diag``, ``diag reach``, ``diag mail`` and ``diag printer`` each become a :class:`Job`,
and :func:`run_job` runs it with this machine's checks. ``--host`` sends the same job elsewhere
(``fieldkit.remote``): as arguments to a fieldkit installed there (:meth:`Job.argv`), or as JSON
to the probe built from this very package (:meth:`Job.to_dict`), whose entry point calls
:func:`run_job` too. What a check does exists once, wherever it runs.

Everything a user can get wrong (an unknown check, a malformed target, a timeout out of range)
is refused by :meth:`Job.validate` before any traffic, locally, even for a remote run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from fieldkit.diagnostics.model import DiagRun, Finding, hostname, utc_timestamp
from fieldkit.errors import InputError

if TYPE_CHECKING:
    from fieldkit.diagnostics.registry import CheckContext

KINDS = ("diag", "reach", "mail", "printer")
MAX_TIMEOUT_S = 120.0


@dataclass
class Job:
    """What one ``fieldkit diag ...`` command asks for (reach profiles already expanded)."""

    kind: str  # diag, reach, mail, printer
    checks: list[str] = field(default_factory=list)  # diag: check names or domains
    probe: bool = True  # diag: False for --no-probe
    targets: list[str] = field(default_factory=list)  # reach, mail, printer
    timeout: float | None = None  # seconds per target or network step
    ca_file: str | None = None  # mail: a CA to trust (a path on the machine that runs the job)
    user: str | None = None  # mail: test a login as this user
    discover: bool = False  # printer: also browse mDNS
    settings: dict[str, Any] = field(default_factory=dict)  # [diag] of the technician's config
    no_probe_reason: str = "--no-probe"  # what a skipped probe says (the flag, or the policy)
    sync_url: str = ""  # the sync server: one more outside time source for the clock

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        known = {f.name for f in fields(cls)}
        job = cls(**{k: v for k, v in data.items() if k in known})
        if job.kind not in KINDS:
            raise InputError(f"unknown diagnostics job {job.kind!r}")
        return job

    def validate(self) -> None:
        """Refuse bad input before anything is sent (InputError, exit 2)."""
        if self.timeout is not None and not 0 < self.timeout <= MAX_TIMEOUT_S:
            raise InputError(f"--timeout must be between 0 and {MAX_TIMEOUT_S:g} seconds "
                             f"(got {self.timeout:g})")
        if self.kind == "diag":
            from fieldkit.diagnostics.registry import select

            select(self.checks or None)
        elif self.kind == "reach":
            from fieldkit.diagnostics.net.reach import parse_target

            if not self.targets:
                raise InputError("give at least one target (host:port) or --profile NAME")
            for text in self.targets:
                parse_target(text)
        elif self.kind == "mail":
            from fieldkit.diagnostics.mail.server import parse_mail_target

            for text in self.targets:
                parse_mail_target(text)
        elif self.kind == "printer":
            from fieldkit.diagnostics.printers.targets import parse_printer_target

            for text in self.targets:
                parse_printer_target(text)

    def argv(self) -> list[str]:
        """The same job as arguments of ``fieldkit`` (a fieldkit installed on the remote reads
        its own config.toml, so ``settings`` do not travel this way)."""
        args = ["diag"] if self.kind == "diag" else ["diag", self.kind]
        args.append("--json")
        if not self.probe:
            args.append("--no-probe")
        if self.kind == "diag":
            for name in self.checks:
                args += ["--check", name]
            return args
        if self.timeout is not None:
            args += ["--timeout", f"{self.timeout:g}"]
        if self.ca_file:
            args += ["--ca-file", self.ca_file]
        if self.user:
            args += ["--user", self.user]
        if self.discover:
            args.append("--discover")
        return [*args, "--", *self.targets]


def apply_policy(job: Job) -> Job:
    """``probe = false`` in the [diag] settings holds like --no-probe (a customer's policy),
    wherever and however the job runs."""
    if job.probe and job.settings.get("probe") is False:
        job.probe, job.no_probe_reason = False, "probe = false in config.toml"
    return job


def run_job(job: Job, password: str | None = None) -> DiagRun:
    """Run the job with this machine's checks (``password``: for a mail login test)."""
    from fieldkit.diagnostics.registry import CheckContext

    apply_policy(job)
    context = CheckContext(settings=job.settings, probe=job.probe, sync_url=job.sync_url)
    if job.kind == "diag":
        from fieldkit.diagnostics.registry import select
        from fieldkit.diagnostics.runner import run_checks

        return run_checks(select(job.checks or None), context)
    started, t0 = utc_timestamp(), time.monotonic()
    findings = _targeted(job, context, password)
    return DiagRun(hostname(), started, time.monotonic() - t0, findings)


def _targeted(job: Job, context: CheckContext, password: str | None) -> list[Finding]:
    if job.kind == "reach":
        from fieldkit.diagnostics.net import reach as probes

        unique, given = probes.merge_duplicates([probes.parse_target(t) for t in job.targets])
        if context.probe:
            slow = context.number("dns_slow_s") or probes.DNS_SLOW_S
            found = [probes.to_finding(p, slow) for p in probes.sweep(unique, job.timeout or 3.0)]
        else:
            found = [probes.skipped(t, job.no_probe_reason) for t in unique]
        for finding, target in zip(found, unique, strict=True):
            if given[target.key] > 1:
                finding.data["given"] = given[target.key]  # duplicates merged: probed once
        return found
    if job.kind == "mail":
        from fieldkit.diagnostics.host.clock import outside_time
        from fieldkit.diagnostics.mail.server import (
            check_mail,
            merge_mail_duplicates,
            parse_mail_target,
            skipped,
        )

        parsed = merge_mail_duplicates([t for text in job.targets
                                        for t in parse_mail_target(text)])
        if not context.probe:
            return [skipped(t, job.no_probe_reason) for t in parsed]
        credentials = (job.user, password or "") if job.user else None
        return check_mail(parsed, job.timeout or 5.0, job.ca_file, credentials,
                          clock=lambda: outside_time(context))
    from fieldkit.diagnostics.printers.printer import Options, diagnose

    return diagnose(job.targets, job.discover, Options.from_settings(job.settings, job.timeout),
                    probe=context.probe, no_probe_reason=job.no_probe_reason)
