"""What several command groups need: the store, and config sections with their warnings shown."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldkit.config import Config
    from fieldkit.configschema import Choices
    from fieldkit.tickets.store import TicketStore


def store() -> TicketStore:
    from fieldkit.config import home
    from fieldkit.tickets import storage
    from fieldkit.tickets.store import TicketStore

    storage.wait_notice = _notice
    return TicketStore.at_home(home(), actor=technician())


def _notice(text: str) -> None:
    print(f"fieldkit: {text}", file=sys.stderr, flush=True)


def config_choices() -> Choices:
    """What the choice keys owned by parts above the config schema accept: the schema sits
    below sync and must not import it, so the CLI, which composes both, hands the names in."""
    from fieldkit import sync

    return sync.config_choices()


def config(*sections: str) -> Config:
    """config.toml with these sections validated; unknown keys are warned about on stderr."""
    from fieldkit.config import load_config

    loaded = load_config(choices=config_choices())
    for name in sections:
        loaded.section(name)
    for warning in loaded.warnings:
        print(f"fieldkit: warning: {warning}", file=sys.stderr)
    loaded.warnings.clear()
    return loaded


def section(name: str) -> dict[str, Any]:
    return config(name).section(name)


def technician(loaded: Config | None = None) -> str:
    """Who is working: ``[technician] name`` in config.toml, else the login name."""
    name = str((loaded or config("technician")).section("technician").get("name") or "").strip()
    if name:
        return name
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME/USER
        return "unknown"
