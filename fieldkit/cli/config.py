"""``fieldkit config``: where config.toml is, what it says, whether it is valid, change a key.

``python -m fieldkit.cli.config > docs/configuration.md`` writes the reference page.
"""

from __future__ import annotations

import sys

import typer

from fieldkit.cli import common, complete, render

app = typer.Typer(help="Show, check and change config.toml (docs/configuration.md).",
                  no_args_is_help=True)


@app.command("path")
def path() -> None:
    """Print where config.toml is (it may not exist yet)."""
    from fieldkit.config import CONFIG_NAME, home

    print(home() / CONFIG_NAME)


@app.command("show")
def show(json_out: bool = typer.Option(False, "--json", help="Print the settings as JSON.")
         ) -> None:
    """Print the effective settings: every key, with defaults filled in."""
    from fieldkit.config import load_config
    from fieldkit.configschema import SECTIONS

    config = load_config(choices=common.config_choices())
    values = {name: config.section(name) for name in SECTIONS}
    _warn(config.warnings)
    if json_out:
        render.print_json({"path": str(config.path), "exists": config.path.exists(),
                           "settings": values})
        return
    print(f"# {config.path}{'' if config.path.exists() else ' (not created yet: defaults)'}")
    for name, section in values.items():
        print(f"\n[{name}]")
        for key, value in section.items():
            print(f"{key} = {_show(value)}")


@app.command("check")
def check(json_out: bool = typer.Option(False, "--json", help="Print the result as JSON.")
          ) -> None:
    """Check every section and key. Exit 0 when valid (warnings allowed), 5 when not."""
    from fieldkit.config import load_config
    from fieldkit.errors import ConfigError

    config = load_config(choices=common.config_choices())
    try:
        config.check_all()
    except ConfigError as exc:
        if json_out:
            render.print_json({"path": str(config.path), "valid": False, "error": str(exc),
                               "warnings": config.warnings})
            raise typer.Exit(exc.exit_code) from None
        raise
    if json_out:
        render.print_json({"path": str(config.path), "valid": True, "error": None,
                           "warnings": config.warnings})
        return
    _warn(config.warnings)
    print(f"{config.path}: valid" + (f" ({len(config.warnings)} warning(s))"
                                     if config.warnings else ""))


@app.command("set", context_settings={"ignore_unknown_options": True})  # VALUE may be -1
def set_(
    name: str = typer.Argument(..., metavar="SECTION.KEY",
                               help="e.g. sync.timeout_s or sync.escalation_queues.2",
                               autocompletion=complete.config_keys),
    value: str = typer.Argument(..., metavar="VALUE", help="The new value (checked first)."),
) -> None:
    """Change one key of config.toml (checked first).

    The file's comments are kept; the new value is checked against docs/configuration.md
    before anything is written.

    \b
    Examples:
      fieldkit config set sync.timeout_s 60
      fieldkit config set sync.escalation_queues.2 "2nd-Level"
      fieldkit config set technician.name "Ann Smith"
    """
    from fieldkit.config import CONFIG_NAME, home
    from fieldkit.configfile import set_value

    base = home()
    stored = set_value(base / CONFIG_NAME, name, value, base, common.config_choices())
    print(f"{name} = {_show(stored)}  ({base / CONFIG_NAME})")


def _show(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(not set)"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str | dict | list) \
        else str(value)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"fieldkit: warning: {warning}", file=sys.stderr)


def markdown() -> str:
    """docs/configuration.md: the schema with the choices this program hands it."""
    from fieldkit.configschema import markdown as schema_markdown

    return schema_markdown(common.config_choices())


if __name__ == "__main__":
    print(markdown(), end="")
