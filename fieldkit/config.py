"""Where fieldkit keeps its state, what config.toml says, and where secrets come from.

Everything local lives under one directory so a technician can back it up, wipe it or point a
test at a throwaway copy: ``$FIELDKIT_HOME`` when set, else the platform's user data directory.
Secrets never live in config.toml or the ticket store: they come from the environment or the OS
keyring (see :func:`secret`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldkit.errors import ConfigError

if TYPE_CHECKING:
    from fieldkit.configschema import Choices

ENV_HOME = "FIELDKIT_HOME"
CONFIG_NAME = "config.toml"


def home() -> Path:
    """The fieldkit home directory (not created here: read-only commands must not write)."""
    explicit = os.environ.get(ENV_HOME)
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("fieldkit", appauthor=False))


@dataclass
class Config:
    """The parsed config.toml. A section is checked against the schema (``configschema``) when
    first asked for; unknown keys are collected in ``warnings`` for the CLI to show. ``choices``
    are what the composer hands in for keys a higher part owns (``sync.backend``)."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    choices: Choices | None = None
    _checked: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def section(self, name: str) -> dict[str, Any]:
        """The section's values, every known key present (defaults filled in)."""
        if name not in self._checked:
            from fieldkit.configschema import validate_section

            values, warnings = validate_section(self.path, name, self.data.get(name),
                                                self.choices)
            self._checked[name] = values
            self.warnings += warnings
        return self._checked[name]

    def check_all(self) -> None:
        """Validate every section (``fieldkit config check``), including unknown ones."""
        from fieldkit.configschema import SECTIONS, unknown_key_warning

        for name in SECTIONS:
            self.section(name)
        for name in self.data:
            if name not in SECTIONS:
                self.warnings.append(unknown_key_warning(self.path, "", name, list(SECTIONS))
                                     .replace("[] unknown key", "unknown section"))


def load_config(base: Path | None = None, *, choices: Choices | None = None) -> Config:
    """Read config.toml; a missing file is an empty config, a malformed one a clear error.
    ``choices``: see :data:`fieldkit.configschema.Choices`."""
    path = (base or home()) / CONFIG_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path, choices=choices)
    # any other OSError (home is a file, not ours, ...) means the home cannot be used: the CLI
    # reports it as such (exit 4) with the path and the reason
    try:
        return Config(path, tomllib.loads(raw.decode("utf-8")), choices=choices)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def secret(
    env_name: str, keyring_service: str = "fieldkit", keyring_user: str | None = None
) -> str | None:
    """Look a secret up in the environment first, then in the OS keyring if one is installed.

    The keyring is optional (``pip install fieldkit[keyring]``): a technician's laptop usually has
    one, a CI box usually does not, and neither case should need code changes.
    """
    value = os.environ.get(env_name)
    if value:
        return value
    if keyring_user is None:
        return None
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(keyring_service, keyring_user)
    except KeyringError:
        return None
