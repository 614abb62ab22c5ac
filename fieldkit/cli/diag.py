"""``fieldkit diag``: run the diagnostics here or, with ``--host``, on another machine over SSH
(and, as subcommands, the targeted network checks). Each command only builds a
:class:`~fieldkit.diagnostics.jobs.Job`; where it runs is decided in one place (:func:`execute`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from fieldkit.cli import render
from fieldkit.cli.remote import HOST, IDENTITY, TRUST

if TYPE_CHECKING:
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.model import DiagRun

app = typer.Typer(
    help="Diagnose this machine (or another one over SSH): system, disk, network.",
    invoke_without_command=True,
    no_args_is_help=False,
)

EXIT_FAILED = 1


@app.callback()
def diag(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    checks: list[str] = typer.Option(
        None, "--check", "-c", help="Only this check or domain (repeatable)."
    ),
    no_probe: bool = typer.Option(
        False, "--no-probe", help="Send no network traffic: configuration only."
    ),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Run the diagnostics. Exit 1 when any finding is 'fail', 7 when --host cannot be used."""
    if ctx.invoked_subcommand is not None:
        if host or trust or identity:  # silently running locally instead would mislead
            from fieldkit.errors import InputError

            raise InputError(f"put --host, --trust-new-host and -i after the subcommand: "
                             f"fieldkit diag {ctx.invoked_subcommand} ... --host ...")
        return
    _finish(run_diag(checks, probe=not no_probe, host=host, trust=trust, identity=identity),
            json_out)


def run_diag(names: list[str] | None = None, *, probe: bool = True, host: str | None = None,
             trust: bool = False, identity: str | None = None) -> DiagRun:
    """Plain ``fieldkit diag`` here or on ``host`` (also ``ticket new --diag``)."""
    from fieldkit.diagnostics.jobs import Job

    return execute(Job("diag", checks=list(names or []), probe=probe), host, trust, identity)


def run_local(names: list[str] | None = None, *, probe: bool = True) -> DiagRun:
    return run_diag(names, probe=probe)


def execute(job: Job, host: str | None, trust: bool = False, identity: str | None = None,
            password: str | None = None) -> DiagRun:
    """Run the job on this machine, or on ``host`` over SSH; the same run either way."""
    from fieldkit.cli.common import section

    job.settings = section("diag")
    if host:
        from fieldkit.cli.remote import run_on_host

        return run_on_host(job, host, trust=trust, identity=identity, password=password)
    from fieldkit.diagnostics.jobs import run_job

    job.validate()
    return run_job(job, password)


def format_run(run: DiagRun) -> str:
    from fieldkit.diagnostics.model import SEVERITY_ORDER

    order = {status: i for i, status in enumerate(SEVERITY_ORDER)}
    width_check = max((len(f.check) for f in run.findings), default=5)
    width_subject = min(28, max((len(f.subject) for f in run.findings), default=7))
    lines = [render.paint(f"fieldkit diag on {run.host} ({run.duration_s:.1f} s)", "bold")]
    for f in sorted(run.findings, key=lambda f: order[f.status]):
        subject = (
            f.subject if len(f.subject) <= width_subject else f.subject[: width_subject - 1] + "…"
        )
        lines.append(
            f"{render.symbol(f.status)} {render.paint(f'{f.status:<5}', f.status)} "
            f"{f.check:<{width_check}}  {subject:<{width_subject}}  {f.summary}"
        )
        if f.hint and f.status in ("warn", "fail", "error"):
            lines.append(render.paint(render.wrap("-> " + f.hint, 8), "dim"))
    counts = {s: sum(1 for f in run.findings if f.status == s) for s in order}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return "\n".join(lines)


@app.command("reach")
def reach(
    targets: list[str] = typer.Argument(None, metavar="TARGET...", help="host:port or [v6]:port"),
    timeout: float = typer.Option(3.0, "--timeout", "-t", help="Seconds to wait per target."),
    profiles: list[str] = typer.Option(None, "--profile", "-p",
                                       help="Add a named target list (repeatable)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Can this machine (or --host) reach host:port? open / closed / filtered / unreachable /
    unresolved."""
    from fieldkit.config import home
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.profiles import load_profile

    texts = list(targets or [])
    for name in profiles or []:  # the technician's profiles, also for a remote run
        texts += load_profile(name, home()).targets
    _finish(execute(Job("reach", targets=texts, timeout=timeout), host, trust, identity),
            json_out)


@app.command("profiles")
def profiles_(json_out: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the reach profiles (built in, and yours in <home>/profiles/*.toml)."""
    from fieldkit.config import home
    from fieldkit.diagnostics.profiles import list_profiles

    found = list_profiles(home())
    if json_out:
        render.print_json([{"name": p.name, "description": p.description, "targets": p.targets,
                            "path": str(p.path), "builtin": p.builtin} for p in found])
        return
    rows = [(p.name, "built-in" if p.builtin else "yours", str(len(p.targets)), p.description)
            for p in found]
    print(render.table(("PROFILE", "FROM", "TARGETS", "DESCRIPTION"), rows, max_width=70))


def _finish(run: DiagRun, json_out: bool) -> None:
    if json_out:
        render.print_json(run.to_dict())
    else:
        print(format_run(run))
    if run.failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("mail")
def mail(
    targets: list[str] = typer.Argument(..., metavar="TARGET...",
                                        help="smtp|submission|smtps|imap|imaps|pop3|pop3s://host"
                                             "[:port], or a bare host for all seven ports"),
    timeout: float = typer.Option(5.0, "--timeout", "-t", help="Seconds per network step."),
    ca_file: str = typer.Option(None, "--ca-file", help="Also trust this CA (PEM), e.g. an "
                                                        "internal company CA (with --host: a "
                                                        "file on that machine)."),
    user: str = typer.Option(None, "--user", "-u", help="Test a login as this user (asks for "
                                                       "the password; FIELDKIT_MAIL_PASSWORD)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Check mail servers: reach, STARTTLS, certificate, capabilities, login. Sends no mail."""
    import os
    import sys
    from pathlib import Path

    from fieldkit.diagnostics.jobs import Job
    from fieldkit.errors import InputError

    if ca_file and not host and not Path(ca_file).is_file():
        raise InputError(f"--ca-file {ca_file}: no such file")
    job = Job("mail", targets=list(targets), timeout=timeout, ca_file=ca_file, user=user)
    job.validate()  # a typo is refused before the password is asked for
    password = None
    if user:
        password = os.environ.get("FIELDKIT_MAIL_PASSWORD")
        if password is None:
            if not sys.stdin.isatty():
                raise InputError("--user needs a password: no terminal to ask for it (set "
                                 "FIELDKIT_MAIL_PASSWORD)")
            password = typer.prompt(f"Password for {user}", hide_input=True)
    _finish(execute(job, host, trust, identity, password), json_out)


@app.command("printer")
def printer(
    targets: list[str] = typer.Argument(
        None, metavar="TARGET...",
        help="ipp://host[:port][/path], ipps://..., socket://host[:9100], lpd://host[/queue], or "
             "a host (IPP, then 9100, then 515). None: the computer's own print queues."),
    discover: bool = typer.Option(False, "--discover",
                                  help="Also list printers announcing themselves (mDNS)."),
    timeout: float = typer.Option(None, "--timeout", "-t",
                                  help="Seconds per network step (default 3)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Why doesn't it print? Queues, printer state, paper, toner, jams, covers, ports."""
    from fieldkit.diagnostics.jobs import Job

    job = Job("printer", targets=list(targets or []), timeout=timeout, discover=discover)
    _finish(execute(job, host, trust, identity), json_out)
