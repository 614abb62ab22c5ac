"""``fieldkit checklist``: guided checklists (runbooks) recorded on the ticket.

Exit codes: 0 the run completed, whatever its findings (they are the result, on the ticket);
2 bad usage, a malformed checklist or answers file, no terminal to ask on, a ticket that is not
open; 3 no such checklist, ticket or unfinished run; 4 store; 5 config; 130 stopped (Ctrl-C or
end of input): the run is saved for ``checklist resume``. ``lint``: 0 valid, 2 not.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from fieldkit.cli import complete, remote, render

if TYPE_CHECKING:
    from fieldkit.checklists.model import Checklist, ChecklistRun
    from fieldkit.checklists.runner import AnswerSource
    from fieldkit.tickets.store import TicketStore

app = typer.Typer(
    help="Guided checklists (runbooks), recorded on the ticket.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Print as JSON.")
CHECKLIST_ID = typer.Argument(..., metavar="ID",
                              help="The checklist's id (see 'fieldkit checklist list').",
                              autocompletion=complete.checklist_ids)
ANSWERS = typer.Option(None, "--answers", metavar="FILE",
                       help="Answers from this file instead of questions (print a ready "
                            "one with 'checklist show ID --answers-template').")


@app.command("list")
def list_(json_out: bool = JSON) -> None:
    """List the checklists (built in, and your own).

    Your own live in <home>/checklists/ID.toml; one with a built-in's id replaces it.
    """
    from fieldkit.checklists.loader import entries
    from fieldkit.config import home

    found = entries(home())
    for entry in found:
        if entry.error:
            print(f"fieldkit: warning: {entry.error}", file=sys.stderr)
    usable = [e for e in found if e.checklist is not None]
    if json_out:
        render.print_json([{"id": c.id, "title": c.title, "category": c.category,
                            "version": c.version, "steps": len(c.steps),
                            "description": c.description, "builtin": c.builtin,
                            "path": c.source}
                           for c in (e.checklist for e in usable) if c is not None])
        return
    rows = [(e.id, "built-in" if e.builtin else "yours", e.checklist.category,
             f"v{e.checklist.version}", str(len(e.checklist.steps)), e.checklist.title)
            for e in usable if e.checklist is not None]
    print(render.table(("CHECKLIST", "FROM", "CATEGORY", "VER", "STEPS", "TITLE"), rows,
                       shrink=("TITLE",)))


@app.command("show")
def show(
    checklist_id: str = CHECKLIST_ID,
    answers_template: bool = typer.Option(False, "--answers-template",
                                          help="Print a ready answers file (every step "
                                               "answered with its default)."),
    json_out: bool = JSON,
) -> None:
    """Show a checklist's steps, conditions and outcome rules."""
    from fieldkit.checklists.loader import find
    from fieldkit.config import home

    checklist = find(checklist_id, home())
    if answers_template:
        from fieldkit.checklists.template import answers_template as template

        sys.stdout.write(template(checklist))
    elif json_out:
        render.print_json(checklist.to_dict())
    else:
        from fieldkit.cli.checklistview import format_checklist

        print(format_checklist(checklist))


@app.command("run")
def run(
    checklist_id: str = CHECKLIST_ID,
    ticket: str = typer.Option(None, "--ticket", metavar="REF",
                               help="Record the run on this ticket."),
    new_ticket: bool = typer.Option(False, "--new-ticket",
                                    help="Open a ticket for it (takes the suggested category, "
                                         "impact and urgency at the end)."),
    answers: Path = ANSWERS,
    json_out: bool = typer.Option(False, "--json", help="Print the finished run as JSON "
                                                        "(questions go to stderr)."),
    host: str = remote.HOST,
    trust: bool = remote.TRUST,
    identity: str = remote.IDENTITY,
) -> None:
    """Work through a checklist, step by step.

    Interactive on a terminal ("step 3/9"; Enter takes the default, < goes back, Ctrl-C saves
    the run for 'checklist resume'), or non-interactive with --answers FILE. Exit 0 when the
    run completed, whatever its findings.

    \b
    Examples:
      fieldkit checklist run printer-not-printing --ticket FK-12
      fieldkit checklist show no-network --answers-template > answers.toml
      fieldkit checklist run no-network --new-ticket --answers answers.toml
      fieldkit checklist run vpn-home-office --host ssh://ann@pc-042.acme.local

    With --host the check steps run on that machine over SSH (as 'diag --host' does); the
    questions are still asked here.
    """
    from fieldkit.checklists import session
    from fieldkit.checklists.loader import find
    from fieldkit.cli import common
    from fieldkit.config import home
    from fieldkit.errors import InputError

    cfg = common.config("technician", "diag")  # a broken config stops us before any question
    who = common.technician(cfg)
    if ticket and new_ticket:
        raise InputError("give --ticket REF or --new-ticket, not both")
    checklist = find(checklist_id, home())
    runner, where = _remote_runner(host, trust, identity) if host else (None, None)
    source = _source(checklist, answers, json_out)
    store = common.store()
    started = session.start(store, checklist, who, ticket_key=ticket, new_ticket=new_ticket,
                            host=where)
    finished = session.proceed(store, started, source,
                               session.diagnostics_check(cfg.section("diag"), runner), who)
    _finish(store, finished, json_out, interactive=answers is None)


@app.command("resume")
def resume(
    key: str = typer.Argument(None, metavar="[REF|RUN]",
                              help="The ticket (FK-12) or run id; default: the latest "
                                   "unfinished run."),
    answers: Path = ANSWERS,
    json_out: bool = typer.Option(False, "--json", help="Print the finished run as JSON."),
) -> None:
    """Continue an unfinished run where it stopped.

    The run goes on with the checklist as it was when it started.
    """
    from fieldkit.checklists import session
    from fieldkit.cli import common

    cfg = common.config("technician", "diag")
    who = common.technician(cfg)
    store = common.store()
    unfinished = session.find_resumable(store, key)
    remaining = {s.id for s in unfinished.checklist.steps[unfinished.position:]}
    source = _source(unfinished.checklist, answers, json_out, remaining)
    finished = session.proceed(store, unfinished, source,
                               session.diagnostics_check(cfg.section("diag")), who)
    _finish(store, finished, json_out, interactive=answers is None)


@app.command("lint")
def lint(files: list[Path] = typer.Argument(..., metavar="FILE...",
                                            help="Checklist files (TOML) to check.")) -> None:
    """Check checklist files: every error names file, step and field. Exit 2 if any fails."""
    from fieldkit.checklists.loader import ChecklistError, load

    failed = 0
    for path in files:
        try:
            checklist = load(path)
        except ChecklistError as exc:
            failed += 1
            print(f"fieldkit: error: {' '.join(str(exc).split())}", file=sys.stderr)
            continue
        print(f"{path}: ok ({checklist.id} v{checklist.version}, {len(checklist.steps)} steps, "
              f"{len(checklist.outcomes)} outcome rules)")
    if failed:
        raise typer.Exit(2)


def _remote_runner(host: str, trust: bool, identity: str | None):
    """Each check step's job run on ``host`` over SSH, exactly as ``diag --host`` runs one (same
    host-key rules, auth and exit 7); the address is checked before the first question."""
    from fieldkit.cli.diag import execute
    from fieldkit.remote.target import parse_host

    target = parse_host(host)

    def runner(job):
        return execute(job, host, trust, identity)

    return runner, target.alias


def _source(checklist: Checklist, answers: Path | None, json_out: bool,
            remaining: set[str] | None = None) -> AnswerSource:
    """The answers file, checked whole before anything starts, or the terminal."""
    from fieldkit.errors import InputError

    if answers is not None:
        from fieldkit.checklists.answers import read_answers
        from fieldkit.checklists.runner import FileAnswers

        return FileAnswers(read_answers(answers, checklist, remaining=remaining), answers.name)
    if not sys.stdin.isatty():
        raise InputError(f"no terminal to ask the questions on: give --answers FILE (make one "
                         f"with 'fieldkit checklist show {checklist.id} --answers-template')")
    from fieldkit.checklists.prompt import TerminalAnswers

    return TerminalAnswers(sys.stdin, sys.stderr if json_out else sys.stdout)


def _finish(store: TicketStore, run: ChecklistRun, json_out: bool, interactive: bool) -> None:
    from fieldkit.checklists.session import apply_suggestions

    applied = apply_suggestions(store, run)
    if json_out:
        render.print_json(run.to_dict())
        return
    from fieldkit.cli.checklistview import format_finished

    if interactive:
        print()  # the questions end here; the record starts
    print(format_finished(run, applied))
