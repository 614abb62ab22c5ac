"""The ``fieldkit`` entry point: wires the command groups and turns errors into one line + code.

Exit codes (docs/exit-codes.md): 0 ok, 1 diagnostics found a failure / work left pending,
2 bad usage or input, 3 not found, 4 store unusable, 5 configuration, 6 ticket system
unusable (sync), 7 remote host unusable (--host), 70 internal error, 75 try again later,
130 interrupted.
"""

from __future__ import annotations

import os
import sys

import typer

from fieldkit import __version__
from fieldkit.cli import diag, sync, ticket

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="fieldkit",
    help="Field toolkit for 1st-level IT support: diagnose, capture tickets offline, sync.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(diag.app, name="diag")
app.add_typer(ticket.app, name="ticket")
app.add_typer(sync.app, name="sync")


def _version(value: bool) -> None:
    if value:
        print(f"fieldkit {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for internal errors."),
) -> None:
    """Field toolkit for 1st-level IT support."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sys.exit(run(args))


def run(args: list[str]) -> int:
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    from fieldkit.errors import FieldkitError

    debug = "--debug" in args or bool(os.environ.get("FIELDKIT_DEBUG"))
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="fieldkit", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx else "", file=sys.stderr)
        return 2
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "fieldkit"
        _fail(f"{exc.format_message()} (see '{where} --help')")
        return exc.exit_code
    except FieldkitError as exc:
        if debug:
            raise
        _fail(str(exc))
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the user
        if debug:
            raise
        _fail(f"internal error: {exc.__class__.__name__}: {exc} (run with --debug for details)")
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def _fail(message: str) -> None:
    one_line = " ".join(message.split())
    print(f"fieldkit: error: {one_line}", file=sys.stderr)
