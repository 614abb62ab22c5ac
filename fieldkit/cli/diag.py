"""``fieldkit diag``: run the diagnostics here or, with ``--host``, on another machine over SSH
(and, as subcommands, the targeted kinds, each built from its declaration in
:mod:`fieldkit.diagnostics.kinds`). Each command only builds a
:class:`~fieldkit.diagnostics.jobs.Job`; where it runs is decided in one place (:func:`execute`).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info
from typer.models import CommandInfo

from fieldkit.cli import render
from fieldkit.cli.remote import HOST, IDENTITY, TRUST

if TYPE_CHECKING:
    from collections.abc import Callable

    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.kinds import Password, TargetedKind
    from fieldkit.diagnostics.model import DiagRun


class _KindsGroup(TyperGroup):
    """``fieldkit diag``: the targeted kinds' commands are built from their declarations the
    first time anything asks the group for its commands, so ``fieldkit --help`` and every other
    command never import the diagnostics."""

    _loaded = False

    def _load(self) -> None:
        if self._loaded or not hasattr(self, "_commands"):
            return
        self._loaded = True
        from fieldkit.diagnostics import kinds

        for kind in kinds.all_kinds():
            self._add(kind.name, command_of(kind))
            if kind.name == "reach":  # its companion: the named target lists --profile takes
                self._add("profiles", profiles_)

    def _add(self, name: str, callback: Callable[..., None]) -> None:
        self.add_command(get_command_from_info(
            CommandInfo(name=name, callback=callback),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=self.rich_markup_mode))  # the group's, as main.py set it

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:  # what Click reads: built on first use
        self._load()
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, Any]) -> None:
        self._commands = value


app = typer.Typer(
    cls=_KindsGroup,
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


def _run_kind(kind: TargetedKind, ctx: typer.Context, targets: list[str] | None, json_out: bool,
              no_probe: bool, host: str, trust: bool, identity: str, **options: Any) -> None:
    """One targeted kind's command: its job from the arguments, then the one way to run it."""
    from fieldkit.diagnostics.jobs import Job

    texts = list(targets or [])
    if kind.expand:  # resolved here, also for a remote run (reach's --profile)
        texts += kind.call(kind.expand, options)
    probe = _probing(ctx, no_probe)
    job = Job(kind.name, targets=texts, timeout=options.get("timeout"), probe=probe,
              options={o.name: options[o.name] for o in kind.options
                       if o.remote and o.name != "timeout"})
    if kind.check_here and not host:
        kind.call(kind.check_here, job)
    password = None
    if kind.password:
        job.validate()  # a typo is refused before the password is asked for
        if probe and job.options.get(kind.password.option):
            password = _password(kind.password, str(job.options[kind.password.option]))
    _finish(execute(job, host, trust, identity, password), json_out)


def _password(secret: Password, value: str) -> str:
    import os
    import sys

    from fieldkit.errors import InputError

    password = os.environ.get(secret.env)
    if password is None:
        if not sys.stdin.isatty():
            raise InputError(secret.missing)
        password = typer.prompt(secret.prompt.format(value=value), hide_input=True)
    return password


_OPTION_TYPES: dict[str, Any] = {"text": str, "texts": list[str], "flag": bool, "seconds": float}


def command_of(kind: TargetedKind) -> Callable[..., None]:
    """The Typer command of a targeted kind, built from its declaration: Typer reads the
    parameters from ``__signature__``, so they are exactly those a hand-written command would
    have (target argument, the kind's options in order, then --json, --no-probe, --host ...)."""
    def param(name: str, default: Any, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                                 annotation=annotation)

    targets = typer.Argument(... if kind.targets_required else None, metavar=kind.targets,
                             help=kind.targets_help)
    params = [param("ctx", inspect.Parameter.empty, typer.Context),
              param("targets", targets, list[str])]
    params += [param(o.name, typer.Option(o.default, *o.flags, metavar=o.metavar, help=o.help),
                     _OPTION_TYPES[o.type]) for o in kind.options]
    params += [param("json_out", typer.Option(False, "--json", help="Print the run as JSON."),
                     bool),
               param("no_probe", typer.Option(False, "--no-probe", help=kind.no_probe_help),
                     bool),
               param("host", HOST, str), param("trust", TRUST, bool),
               param("identity", IDENTITY, str)]

    def command(**arguments: Any) -> None:
        _run_kind(kind, **arguments)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = f"{kind.summary}\n\n{kind.details}"
    command.__name__ = command.__qualname__ = kind.name
    return command
