"""Reachability profiles: named target lists in TOML, built in or the user's own.

A profile file holds ``description`` and ``targets = ["host:port", ...]``. The user's
``<home>/profiles/NAME.toml`` wins over a built-in of the same name, so a site can pin its own
firewall expectations ("the ERP must answer on 10.0.4.20:1433") next to the generic ones.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from fieldkit.errors import InputError, NotFoundError

BUILTIN_DIR = Path(__file__).with_name("profiles")


@dataclass
class Profile:
    name: str
    description: str
    targets: list[str]
    path: Path
    builtin: bool


def profile_dirs(home: Path) -> list[tuple[Path, bool]]:
    return [(home / "profiles", False), (BUILTIN_DIR, True)]


def load_profile(name: str, home: Path) -> Profile:
    wanted = name.strip().lower()  # `--profile Microsoft365` works too
    for directory, builtin in profile_dirs(home):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                if path.stem.lower() == wanted:
                    return _read(path, builtin)
    known = ", ".join(p.name for p in list_profiles(home)) or "none"
    raise NotFoundError(f"no reach profile {name!r} (known: {known})")


def list_profiles(home: Path) -> list[Profile]:
    found: dict[str, Profile] = {}
    for directory, builtin in profile_dirs(home):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found.setdefault(path.stem, _read(path, builtin))
    return sorted(found.values(), key=lambda p: p.name)


def _read(path: Path, builtin: bool) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"profile {path} cannot be read: {exc}") from None
    targets = data.get("targets")
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise InputError(f"profile {path}: 'targets' must be a list of \"host:port\" strings")
    return Profile(path.stem, str(data.get("description", "")), targets, path, builtin)
