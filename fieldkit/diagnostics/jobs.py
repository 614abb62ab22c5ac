"""One diagnostics command as data, so that it runs the same here and on a remote machine.

``fieldkit diag`` and each targeted kind (``diag reach``, ``diag http`` ..., as
:mod:`fieldkit.diagnostics.kinds` declares them) become a :class:`Job`, and :func:`run_job`
runs it with this machine's checks. ``--host`` sends the same job elsewhere
(``fieldkit.remote``): as arguments to a fieldkit installed there (:meth:`Job.argv`), or as JSON
to the probe built from this very package (:meth:`Job.to_dict`), whose entry point calls
:func:`run_job` too. What a check does exists once, wherever it runs.

Everything a user can get wrong (an unknown check, a malformed target, a timeout out of range)
is refused by :meth:`Job.validate` before any traffic, locally, even for a remote run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from fieldkit.diagnostics import kinds
from fieldkit.diagnostics.model import DiagRun, hostname, utc_timestamp
from fieldkit.errors import InputError

if TYPE_CHECKING:
    from fieldkit.diagnostics.kinds import TargetedKind

MAX_TIMEOUT_S = 120.0


@dataclass
class Job:
    """What one ``fieldkit diag ...`` command asks for (reach profiles already expanded)."""

    kind: str  # diag, or a targeted kind (fieldkit.diagnostics.kinds)
    checks: list[str] = field(default_factory=list)  # diag: check names or domains
    probe: bool = True  # diag: False for --no-probe
    targets: list[str] = field(default_factory=list)  # a targeted kind's targets
    timeout: float | None = None  # seconds per target or network step
    # a targeted kind's own options by name (mail: ca_file, a path on the machine that runs the
    # job, and user; printer: discover), as its declaration lists them
    options: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # [diag] of the technician's config
    no_probe_reason: str = "--no-probe"  # what a skipped probe says (the flag, or the policy)
    sync_url: str = ""  # the sync server: one more outside time source for the clock

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        known = {f.name for f in fields(cls)}
        job = cls(**{k: v for k, v in data.items() if k in known})
        if job.kind != "diag" and kinds.get(job.kind) is None:
            raise InputError(f"unknown diagnostics job {job.kind!r}")
        return job

    def targeted(self) -> TargetedKind:
        kind = kinds.get(self.kind)
        if kind is None:
            raise InputError(f"unknown diagnostics job {self.kind!r}")
        return kind

    def seconds(self) -> float:
        """The timeout a kind's ``run`` uses: :func:`run_job` has put the kind's default in
        when none was given (a real check, not an ``assert`` that ``python -O`` drops)."""
        if self.timeout is None:
            raise RuntimeError(f"{self.kind} job run without a timeout (use run_job)")
        return self.timeout

    def validate(self) -> None:
        """Refuse bad input before anything is sent (InputError, exit 2)."""
        if self.timeout is not None and not 0 < self.timeout <= MAX_TIMEOUT_S:
            raise InputError(f"--timeout must be between 0 and {MAX_TIMEOUT_S:g} seconds "
                             f"(got {self.timeout:g})")
        if self.kind == "diag":
            from fieldkit.diagnostics.registry import select

            select(self.checks or None)
            return
        kind = self.targeted()
        if not self.targets and kind.empty_error:
            raise InputError(kind.empty_error)
        for text in self.targets:
            kind.parse_target(text)

    def password_env(self) -> str | None:
        """The variable that carries this job's password to a fieldkit elsewhere, if it needs
        one (mail with --user)."""
        if self.kind == "diag":
            return None
        secret = self.targeted().password
        return secret.env if secret and self.options.get(secret.option) else None

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
        for option in self.targeted().options:
            value = self.options.get(option.name)
            if option.name == "timeout" or not option.remote or not value:
                continue
            if option.type == "flag":
                args.append(option.flags[0])
            elif option.type == "texts":
                for item in value:
                    args += [option.flags[0], str(item)]
            else:
                args += [option.flags[0], str(value)]
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
    kind = job.targeted()
    started, t0 = utc_timestamp(), time.monotonic()
    timed = replace(job, timeout=job.timeout or kind.timeout_s)  # the kind's default
    findings = kind.findings(timed, context, password)
    return DiagRun(hostname(), started, time.monotonic() - t0, findings)
