"""The ``fieldkit`` entry point: wires the command groups and turns errors into one line + code.

Exit codes (docs/exit-codes.md): 0 ok, 1 diagnostics found a failure / work left pending,
2 bad usage or input, 3 not found, 4 home or store unusable, 5 configuration, 6 ticket system
unusable (sync), 7 remote host unusable (--host), 8 diagnostics incomplete, 70 internal error,
75 try again later, 130 interrupted (a checklist run stopped this way is saved for
``checklist resume``). ``--debug`` adds a traceback to stderr and never changes the code.
"""

from __future__ import annotations

import os
import sys

import typer

from fieldkit import __version__
from fieldkit.cli import (
    checklist,
    config,
    diag,
    report,
    sync,
    ticket,
    ticketreport,  # noqa: F401 - adds `ticket report` and `ticket signoff`
)

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def _argument_type_from_metavar() -> None:
    """Typer prints an argument as ``REF <str>``: a Python type means nothing to a technician.
    When an argument names its metavar (every fieldkit argument does), show just that."""
    shown = typer.core.TyperArgument.display_type_rich

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        return None if self.metavar else shown(self, ctx)

    typer.core.TyperArgument.display_type_rich = display_type_rich  # type: ignore[method-assign]


_argument_type_from_metavar()

app = typer.Typer(
    name="fieldkit",
    help="Field toolkit for 1st-level IT support: diagnose, capture tickets offline, sync.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(diag.app, name="diag")
app.add_typer(ticket.app, name="ticket")
app.add_typer(sync.app, name="sync")
app.add_typer(checklist.app, name="checklist")
app.add_typer(report.app, name="report")
app.add_typer(config.app, name="config")


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


@app.command("completion")
def completion(shell: str = typer.Argument(..., metavar="bash|zsh|fish",
                                           help="The shell to complete in.")) -> None:
    """Print the shell completion script.

    \b
    Examples (or run 'fieldkit --install-completion' once):
      eval "$(fieldkit completion bash)"        # in ~/.bashrc
      fieldkit completion fish > ~/.config/fish/completions/fieldkit.fish
    """
    from typer._completion_shared import get_completion_script

    from fieldkit.errors import InputError

    if shell not in ("bash", "zsh", "fish"):
        raise InputError(f"no completion for {shell!r}: bash, zsh or fish")
    print(get_completion_script(prog_name="fieldkit", complete_var="_FIELDKIT_COMPLETE",
                                shell=shell))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sys.exit(run(args))


def run(args: list[str]) -> int:
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    from fieldkit.errors import FieldkitError

    debug = "--debug" in args or bool(os.environ.get("FIELDKIT_DEBUG"))
    command = typer.main.get_command(app)
    stdout, sys.stdout = sys.stdout, _PipeGuard(sys.stdout)  # type: ignore[assignment]
    try:
        _refuse_non_utf8(args)
        result = command.main(args=args, prog_name="fieldkit", standalone_mode=False)
        sys.stdout.flush()
    except NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx else "", file=sys.stderr)
        return 2
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "fieldkit"
        return _fail(f"{exc.format_message()} (see '{where} --help')", exc.exit_code, debug)
    except FieldkitError as exc:
        if exc.exit_code == EXIT_INTERRUPTED:
            _end_the_ctrl_c_line()
        return _fail(str(exc), exc.exit_code, debug)
    except (KeyboardInterrupt, typer.Abort):
        _end_the_ctrl_c_line()
        return _fail("interrupted", EXIT_INTERRUPTED, debug)
    except (_ReaderGone, BrokenPipeError):
        return _closed_pipe(stdout)
    except OSError as exc:
        unusable = _home_unusable(exc)
        if unusable is None:
            return _internal(exc, debug)
        return _fail(str(unusable), unusable.exit_code, debug)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the user
        return _internal(exc, debug)
    finally:
        sys.stdout = stdout
    return result if isinstance(result, int) else 0


class _ReaderGone(Exception):
    """stdout's reader closed the pipe. Not an OSError, so the CLI framework does not turn it
    into its own exit 1 on the way out."""


class _PipeGuard:
    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise _ReaderGone from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise _ReaderGone from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _refuse_non_utf8(args: list[str]) -> None:
    from fieldkit.errors import InputError

    for position, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # argv bytes that are not UTF-8 arrive as lone surrogates
            shown = arg.encode("utf-8", "replace").decode("utf-8")
            raise InputError(f"argument {position} ({shown!r}) is not valid UTF-8") from None


def _home_unusable(exc: OSError):
    """A StoreError for an OS failure on the fieldkit home or anything in it; None otherwise."""
    from pathlib import Path

    from fieldkit.config import home
    from fieldkit.errors import StoreError

    base = home().absolute()
    where = Path(exc.filename).absolute() if exc.filename else None
    if where is None or not (where == base or base in where.parents):
        return None
    reason = exc.strerror or exc.__class__.__name__
    if os.path.exists(base) and not os.path.isdir(base):  # these never raise
        reason = "it is a file, not a directory"
    return StoreError(f"cannot use the fieldkit home {base}: {reason} ({where}); check "
                      f"FIELDKIT_HOME and the permissions there")


def _closed_pipe(stdout) -> int:
    """The reader went away (``| head``): stop quietly, and let no late flush complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests capture stdout)
        pass
    return 0


def _internal(exc: BaseException, debug: bool) -> int:
    return _fail(f"internal error: {exc.__class__.__name__}: {exc} (run with --debug for "
                 "details)", EXIT_INTERNAL, debug)


def _end_the_ctrl_c_line() -> None:
    """The terminal echoed ^C without a newline: the error goes on a line of its own."""
    if sys.stderr.isatty():
        print(file=sys.stderr)


def _fail(message: str, code: int, debug: bool = False) -> int:
    """One line on stderr (after the traceback with --debug); the code is the same either way."""
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)
    one_line = " ".join(message.split())
    print(f"fieldkit: error: {one_line}", file=sys.stderr)
    return code
