"""``fieldkit diag``: run the local diagnostics (and, as subcommands, targeted network checks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from fieldkit.cli import render

if TYPE_CHECKING:
    from fieldkit.diagnostics.model import DiagRun
    from fieldkit.diagnostics.registry import CheckContext

app = typer.Typer(
    help="Diagnose this machine: system, disk, network, printers, mail.\n\n"
         "Without a subcommand: run the local checks. Exit 0 when every check ran and none "
         "failed, 1 when a finding is 'fail', 8 when none failed but a check broke or timed "
         "out ('error').\n\n\b\nExamples:\n  fieldkit diag\n  fieldkit diag --check disk "
         "--check dns --json\n  fieldkit diag reach files.acme.local:445\n  fieldkit diag "
         "printer",
    invoke_without_command=True,
    no_args_is_help=False,
)

EXIT_FAILED = 1
EXIT_INCOMPLETE = 8  # nothing failed, but a check broke or timed out (status error)


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
) -> None:
    """Run the local diagnostics (help: see the group's text above)."""
    ctx.obj = {"no_probe": no_probe}  # `diag --no-probe reach ...` binds the subcommand too
    if ctx.invoked_subcommand is not None:
        return
    _finish(run_local(checks, probe=not no_probe), json_out)


def run_local(names: list[str] | None = None, *, probe: bool = True) -> DiagRun:
    from fieldkit.diagnostics.registry import select
    from fieldkit.diagnostics.runner import run_checks

    context = check_context(probe)
    return run_checks(select(names or None), context)


def check_context(probe: bool) -> CheckContext:
    """[diag] settings, and the no-probe policy: the flag, or `probe = false` in config.toml
    (a customer's policy holds without anyone remembering the flag)."""
    from fieldkit.cli.common import config as load
    from fieldkit.diagnostics.registry import CheckContext

    config = load("diag")
    sync = config.data.get("sync")
    sync_url = str(sync.get("url") or "") if isinstance(sync, dict) else ""
    context = CheckContext(settings=config.section("diag"), probe=probe, sync_url=sync_url)
    context.probe = probe and context.flag("probe")
    return context


def _no_probe_reason(ctx: typer.Context, no_probe: bool) -> str:
    parent = (ctx.parent.obj or {}) if ctx.parent else {}
    return "--no-probe" if no_probe or parent.get("no_probe") else "probe = false in config.toml"


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
    ctx: typer.Context,
    targets: list[str] = typer.Argument(None, metavar="HOST:PORT...",
                                        help="host:port or [v6]:port"),
    timeout: float = typer.Option(3.0, "--timeout", "-t", metavar="SECONDS",
                                  help="Seconds to wait per target."),
    profiles: list[str] = typer.Option(None, "--profile", "-p", metavar="NAME",
                                       help="Add a named target list (repeatable)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    no_probe: bool = typer.Option(False, "--no-probe", help="Send nothing: validate the "
                                                            "targets only."),
) -> None:
    """Can this machine reach HOST:PORT? (open, closed, filtered)

    Every target is probed at once, so a sweep costs about one timeout. States follow nmap:
    open, closed, filtered, unreachable, unresolved, each with the reason.

    \b
    Examples:
      fieldkit diag reach erp.acme.local:1433 files.acme.local:445 --timeout 2
      fieldkit diag reach --profile microsoft365
    """
    import time

    from fieldkit.config import home
    from fieldkit.diagnostics import reach as probes
    from fieldkit.diagnostics.model import DiagRun, hostname, utc_timestamp
    from fieldkit.diagnostics.profiles import load_profile
    from fieldkit.errors import InputError

    if not 0 < timeout <= 120:
        raise InputError(f"--timeout must be between 0 and 120 seconds (got {timeout:g})")
    texts = list(targets or [])
    for name in profiles or []:
        texts += load_profile(name, home()).targets
    if not texts:
        raise InputError("give at least one target (host:port) or --profile NAME")
    unique, given = probes.merge_duplicates([probes.parse_target(t) for t in texts])
    context = check_context(not no_probe and not (ctx.parent and (ctx.parent.obj or {}).get(
        "no_probe")))
    slow = context.number("dns_slow_s") or probes.DNS_SLOW_S
    started, t0 = utc_timestamp(), time.monotonic()
    if context.probe:
        findings = [probes.to_finding(p, slow) for p in probes.sweep(unique, timeout)]
    else:
        findings = [probes.skipped(t, _no_probe_reason(ctx, no_probe)) for t in unique]
    for finding, target in zip(findings, unique, strict=True):
        if given[target.key] > 1:
            finding.data["given"] = given[target.key]  # duplicates merged: probed once
    _finish(DiagRun(hostname(), started, time.monotonic() - t0, findings), json_out)


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
    print(render.table(("PROFILE", "FROM", "TARGETS", "DESCRIPTION"), rows, max_width=70))


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
                                help="Also trust this CA (PEM), e.g. an internal company CA."),
    user: str = typer.Option(None, "--user", "-u", metavar="NAME",
                             help="Test a login as this user (asks for the password; "
                                  "FIELDKIT_MAIL_PASSWORD)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
    no_probe: bool = typer.Option(False, "--no-probe", help="Send nothing: validate the "
                                                            "targets only."),
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
    import time
    from pathlib import Path

    from fieldkit.diagnostics.clock import outside_time
    from fieldkit.diagnostics.mail import (
        check_mail,
        merge_mail_duplicates,
        parse_mail_target,
        skipped,
    )
    from fieldkit.diagnostics.model import DiagRun, hostname, utc_timestamp
    from fieldkit.errors import InputError

    if not 0 < timeout <= 120:
        raise InputError(f"--timeout must be between 0 and 120 seconds (got {timeout:g})")
    if ca_file and not Path(ca_file).is_file():
        raise InputError(f"--ca-file {ca_file}: no such file")
    parsed = merge_mail_duplicates([t for text in targets for t in parse_mail_target(text)])
    context = check_context(not no_probe and not (ctx.parent and (ctx.parent.obj or {}).get(
        "no_probe")))
    if not context.probe:
        findings = [skipped(t, _no_probe_reason(ctx, no_probe)) for t in parsed]
        _finish(DiagRun(hostname(), utc_timestamp(), 0.0, findings), json_out)
        return
    credentials = None
    if user:
        password = os.environ.get("FIELDKIT_MAIL_PASSWORD")
        if password is None:
            if not sys.stdin.isatty():
                raise InputError("--user needs a password: no terminal to ask for it (set "
                                 "FIELDKIT_MAIL_PASSWORD)")
            password = typer.prompt(f"Password for {user}", hide_input=True)
        credentials = (user, password)
    started, t0 = utc_timestamp(), time.monotonic()
    findings = check_mail(parsed, timeout, ca_file, credentials,
                          clock=lambda: outside_time(context))
    _finish(DiagRun(hostname(), started, time.monotonic() - t0, findings), json_out)


@app.command("printer")
def printer(
    targets: list[str] = typer.Argument(
        None, metavar="TARGET...",
        help="ipp://host[:port][/path], ipps://host/..., socket://host[:9100], "
             "lpd://host[/queue], or a host (IPP, then 9100, then 515). None: this computer's "
             "print queues."),
    discover: bool = typer.Option(False, "--discover",
                                  help="Also list printers announcing themselves (mDNS)."),
    timeout: float = typer.Option(None, "--timeout", "-t", metavar="SECONDS",
                                  help="Seconds per network step (default 3)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Why doesn't it print? Queues, state, paper, toner, ports.

    With no TARGET: the local print queues and the printers behind them.

    \b
    Examples:
      fieldkit diag printer
      fieldkit diag printer ipp://printer-2.acme.local socket://10.0.0.50
      fieldkit diag printer --discover
    """
    import time

    from fieldkit.cli.common import section
    from fieldkit.diagnostics.model import DiagRun, hostname, utc_timestamp
    from fieldkit.diagnostics.printers import Options, diagnose
    from fieldkit.errors import InputError

    if timeout is not None and not 0 < timeout <= 120:
        raise InputError(f"--timeout must be between 0 and 120 seconds (got {timeout:g})")
    options = Options.from_settings(section("diag"), timeout)
    started, t0 = utc_timestamp(), time.monotonic()
    findings = diagnose(list(targets or []), discover, options)
    _finish(DiagRun(hostname(), started, time.monotonic() - t0, findings), json_out)
