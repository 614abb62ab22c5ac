"""Help that reads well: every command's --help, as a technician sees it on an 80-column screen.

Fails on a Python type shown as a placeholder (``<str>``, ``<list[str]>``), an option or
argument without a help line, and a command summary cut short with "...".
"""

import re

import pytest
import typer

from fieldkit.cli.main import app

PYTHON_TYPE = re.compile(r"<(str|int|float|bool|path|list|int range|float range)[^>]*>",
                         re.IGNORECASE)


def all_commands():
    root = typer.main.get_command(app)
    found = []

    def walk(command, path):
        found.append((path, command))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(root, ())
    return found


COMMANDS = all_commands()


@pytest.mark.parametrize(("path", "command"), COMMANDS,
                         ids=[" ".join(p) or "fieldkit" for p, _ in COMMANDS])
def test_help_reads_well(cli, monkeypatch, path, command):
    monkeypatch.setenv("COLUMNS", "80")
    r = cli(*path, "--help")
    assert r.code == 0, r.err
    shown = r.out
    assert not PYTHON_TYPE.search(shown), f"a Python type as placeholder:\n{shown}"
    for param in command.params:
        if param.name in ("help",) or getattr(param, "hidden", False):
            continue
        assert getattr(param, "help", None), f"{' '.join(path)}: {param.name} has no help"
    in_commands = False
    for line in shown.splitlines():
        if line.strip() == "Commands:":
            in_commands = True
        elif in_commands and line.strip():
            assert not line.rstrip().endswith("..."), f"summary cut short: {line!r}"
    assert not re.search(r"\w-\n\s*\w|\[:p\n", shown), "a word broken in two"


def test_every_command_group_is_covered():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"ticket new", "ticket attach", "diag mail", "sync check", "config set"} <= names
