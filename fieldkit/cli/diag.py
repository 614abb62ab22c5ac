"""``fieldkit diag``: run the local diagnostics (and, as subcommands, targeted network checks)."""

from __future__ import annotations

import typer

from fieldkit.cli import render

app = typer.Typer(
    help="Diagnose this machine: system, disk, network.",
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
) -> None:
    """Run the local diagnostics. Exit 1 when any finding is 'fail'."""
    if ctx.invoked_subcommand is not None:
        return
    run = run_local(checks, probe=not no_probe)
    if json_out:
        render.print_json(run.to_dict())
    else:
        print(format_run(run))
    if run.failed:
        raise typer.Exit(EXIT_FAILED)


def run_local(names: list[str] | None = None, *, probe: bool = True):  # -> DiagRun
    from fieldkit.config import load_config
    from fieldkit.diagnostics.registry import CheckContext, select
    from fieldkit.diagnostics.runner import run_checks

    settings = load_config().section("diag")
    return run_checks(select(names or None), CheckContext(settings=settings, probe=probe))


def format_run(run) -> str:  # run: DiagRun
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
            lines.append(f"{'':>8}{render.paint('-> ' + f.hint, 'dim')}")
    counts = {s: sum(1 for f in run.findings if f.status == s) for s in order}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return "\n".join(lines)
