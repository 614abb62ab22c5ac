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
    short_help="Diagnose this machine, or another over SSH.",
    help="Diagnose this machine (or another over SSH): system, disk, network, printers, "
         "mail.\n\nWithout a subcommand: run the local checks. Exit 0 when every check ran "
         "and none failed, 1 when a finding is 'fail', 8 when none failed but a check broke or "
         "timed out ('error'), 7 when --host could not be used.\n\n\b\nExamples:\n"
         "  fieldkit diag\n  fieldkit diag --check disk --check dns --json\n"
         "  fieldkit diag --host ssh://ann@pc-042.acme.local\n"
         "  fieldkit diag reach files.acme.local:445\n  fieldkit diag printer",
    invoke_without_command=True,
    no_args_is_help=False,
)

EXIT_FAILED = 1
EXIT_INCOMPLETE = 8  # nothing failed, but a check broke or timed out (status error)
NO_PROBE = "Send nothing: validate the targets only."


@app.callback()
def diag(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    checks: list[str] = typer.Option(
        None, "--check", "-c", metavar="CHECK", help="Only this check or domain (repeatable)."
    ),
    no_probe: bool = typer.Option(
        False, "--no-probe", help="Send no network traffic: configuration only."
    ),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Run the diagnostics (help: see the group's text above)."""
    ctx.obj = {"no_probe": no_probe}  # `diag --no-probe reach ...` binds the subcommand too
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


def time_source_url(sync: object) -> str:
    """The sync server as an outside time source for the clock check: http(s) only, and never
    with a user name or password in it (a remote probe receives it)."""
    from urllib.parse import urlsplit

    url = str(sync.get("url") or "") if isinstance(sync, dict) else ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}/"


def execute(job: Job, host: str | None, trust: bool = False, identity: str | None = None,
            password: str | None = None) -> DiagRun:
    """Run the job on this machine, or on ``host`` over SSH; the same run either way."""
    from fieldkit.cli.common import config
    from fieldkit.diagnostics.jobs import apply_policy

    loaded = config("diag")
    job.settings = loaded.section("diag")
    job.sync_url = time_source_url(loaded.data.get("sync"))
    apply_policy(job)  # before the job leaves: a fieldkit on the remote gets --no-probe too
    if host:
        from fieldkit.cli.remote import run_on_host

        return run_on_host(job, host, trust=trust, identity=identity, password=password)
    from fieldkit.diagnostics.jobs import run_job

    job.validate()
    return run_job(job, password)


def format_run(run: DiagRun) -> str:
    from fieldkit.diagnostics.model import SEVERITY_ORDER, severity

    width_check = max((len(f.check) for f in run.findings), default=5)
    width_subject = min(28, max((len(f.subject) for f in run.findings), default=7))
    lines = [render.paint(f"fieldkit diag on {run.host} ({run.duration_s:.1f} s)", "bold")]
    for f in sorted(run.findings, key=lambda f: severity(f.status)):
        subject = (
            f.subject if len(f.subject) <= width_subject else f.subject[: width_subject - 1] + "…"
        )
        lines.append(
            f"{render.symbol(f.status)} {render.paint(f'{f.status:<5}', f.status)} "
            f"{f.check:<{width_check}}  {subject:<{width_subject}}  {f.summary}"
        )
        if f.hint and f.status in ("warn", "fail", "error"):
            lines.append(render.paint(render.wrap("-> " + f.hint, 8), "dim"))
    counts = {s: sum(1 for f in run.findings if f.status == s) for s in SEVERITY_ORDER}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return "\n".join(lines)


def _probing(ctx: typer.Context, no_probe: bool) -> bool:
    """False when --no-probe was given here or before the subcommand (`diag --no-probe ...`)."""
    parent = (ctx.parent.obj or {}) if ctx.parent else {}
    return not (no_probe or parent.get("no_probe"))


@app.command("reach")
def reach(
    ctx: typer.Context,
    targets: list[str] = typer.Argument(None, metavar="HOST:PORT...",
                                        help="host:port or [v6]:port"),
    timeout: float = typer.Option(3.0, "--timeout", "-t", metavar="SECONDS",
                                  help="Seconds to wait per target."),
    profiles: list[str] = typer.Option(None, "--profile", "-p", metavar="NAME",
                                       help="Add a named target list (repeatable)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    no_probe: bool = typer.Option(False, "--no-probe", help=NO_PROBE),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Can this machine (or --host) reach HOST:PORT?

    Every target is probed at once, so a sweep costs about one timeout. States follow nmap:
    open, closed, filtered, unreachable, unresolved, each with the reason.

    \b
    Examples:
      fieldkit diag reach erp.acme.local:1433 files.acme.local:445 --timeout 2
      fieldkit diag reach --profile microsoft365
      fieldkit diag reach files.acme.local:445 --host ssh://pc-042.acme.local
    """
    from fieldkit.config import home
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.profiles import load_profile

    texts = list(targets or [])
    for name in profiles or []:  # the technician's profiles, also for a remote run
        texts += load_profile(name, home()).targets
    job = Job("reach", targets=texts, timeout=timeout, probe=_probing(ctx, no_probe))
    _finish(execute(job, host, trust, identity), json_out)


@app.command("profiles")
def profiles_(json_out: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the reach profiles (built in, and your own)."""
    from fieldkit.config import home
    from fieldkit.diagnostics.profiles import list_profiles

    found = list_profiles(home())
    if json_out:
        render.print_json([{"name": p.name, "description": p.description, "targets": p.targets,
                            "path": str(p.path), "builtin": p.builtin} for p in found])
        return
    rows = [(p.name, "built-in" if p.builtin else "yours", str(len(p.targets)), p.description)
            for p in found]
    print(render.table(("PROFILE", "FROM", "TARGETS", "DESCRIPTION"), rows, max_width=70,
                       shrink=("DESCRIPTION", "TARGETS")))


def _finish(run: DiagRun, json_out: bool) -> None:
    if json_out:
        render.print_json(run.to_dict())
    else:
        print(format_run(run))
    if run.failed:
        raise typer.Exit(EXIT_FAILED)
    if run.incomplete:
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command("mail")
def mail(
    ctx: typer.Context,
    targets: list[str] = typer.Argument(..., metavar="TARGET...",
                                        help="A URL SCHEME://host[:port] with SCHEME one of "
                                             "smtp, submission, smtps, imap, imaps, pop3, pop3s; "
                                             "or a bare host for all seven ports."),
    timeout: float = typer.Option(5.0, "--timeout", "-t", metavar="SECONDS",
                                  help="Seconds per network step."),
    ca_file: str = typer.Option(None, "--ca-file", metavar="PEM",
                                help="Also trust this CA (PEM), e.g. an internal company CA "
                                     "(with --host: a file on that machine)."),
    user: str = typer.Option(None, "--user", "-u", metavar="NAME",
                             help="Test a login as this user (asks for the password; "
                                  "FIELDKIT_MAIL_PASSWORD)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    no_probe: bool = typer.Option(False, "--no-probe", help=NO_PROBE),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Check mail servers: reach, TLS, certificate, login.

    Per target: reachability, greeting, capabilities, STARTTLS, TLS version and certificate
    verdict, and with --user a login test. Sends no mail.

    \b
    Examples:
      fieldkit diag mail mail.acme.example
      fieldkit diag mail submission://mail.acme.example --user ann
    """
    import os
    import sys
    from pathlib import Path

    from fieldkit.diagnostics.jobs import Job
    from fieldkit.errors import InputError

    if ca_file and not host and not Path(ca_file).is_file():
        raise InputError(f"--ca-file {ca_file}: no such file")
    probe = _probing(ctx, no_probe)
    job = Job("mail", targets=list(targets), timeout=timeout, ca_file=ca_file, user=user,
              probe=probe)
    job.validate()  # a typo is refused before the password is asked for
    password = None
    if user and probe:
        password = os.environ.get("FIELDKIT_MAIL_PASSWORD")
        if password is None:
            if not sys.stdin.isatty():
                raise InputError("--user needs a password: no terminal to ask for it (set "
                                 "FIELDKIT_MAIL_PASSWORD)")
            password = typer.prompt(f"Password for {user}", hide_input=True)
    _finish(execute(job, host, trust, identity, password), json_out)


@app.command("printer")
def printer(
    ctx: typer.Context,
    targets: list[str] = typer.Argument(
        None, metavar="TARGET...",
        help="ipp://host[:port][/path], ipps://host/..., socket://host[:9100], "
             "lpd://host[/queue], or a host (IPP, then 9100, then 515). None: the computer's "
             "own print queues."),
    discover: bool = typer.Option(False, "--discover",
                                  help="Also list printers announcing themselves (mDNS)."),
    timeout: float = typer.Option(None, "--timeout", "-t", metavar="SECONDS",
                                  help="Seconds per network step (default 3)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    no_probe: bool = typer.Option(False, "--no-probe", help="Ask no printer over the network "
                                                            "(the local queues only)."),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
) -> None:
    """Why doesn't it print? Queues, state, paper, toner, ports.

    With no TARGET: the print queues and the printers behind them.

    \b
    Examples:
      fieldkit diag printer
      fieldkit diag printer ipp://printer-2.acme.local socket://10.0.0.50
      fieldkit diag printer --discover
    """
    from fieldkit.diagnostics.jobs import Job

    job = Job("printer", targets=list(targets or []), timeout=timeout, discover=discover,
              probe=_probing(ctx, no_probe))
    _finish(execute(job, host, trust, identity), json_out)
