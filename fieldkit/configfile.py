"""``fieldkit config set``: change one key of config.toml without losing the technician's comments.

The standard library reads TOML but does not write it, and rewriting the whole file from parsed
data would drop every comment and reorder everything. So the file is edited as lines: the key's
line is replaced (or added under its table, or a new table is appended), the result is parsed
and validated against the schema, and only then written, atomically and 0600.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from fieldkit.configschema import (
    SECTIONS,
    SETTINGS,
    Choices,
    Setting,
    check_typed,
    settings_of,
    validate_section,
)
from fieldkit.errors import ConfigError, InputError

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\s*(#.*)?$")


def parse_assignment(name: str, raw: str, choices: Choices | None = None
                     ) -> tuple[Setting, str | None, Any]:
    """``sync.timeout_s`` + ``"5"`` -> (setting, table key or None, typed value)."""
    parts = name.split(".")
    if len(parts) < 2:
        raise InputError(f"{name!r}: write SECTION.KEY, e.g. sync.timeout_s")
    section, key, sub = parts[0], parts[1], ".".join(parts[2:]) or None
    setting = settings_of(section, choices).get(key)
    if setting is None:
        raise InputError(_unknown(section, key))
    if (setting.kind == "table") != (sub is not None):
        shape = f"{name}.KEY (keys: {', '.join(setting.table_keys)})" if setting.kind == "table" \
            else f"{section}.{key}"
        raise InputError(f"{name!r}: write {shape}")
    value = _typed(setting, raw)
    try:
        check_typed(setting, {sub: value} if sub is not None else value)
    except ConfigError as exc:  # typed on the command line: bad input, and the file is untouched
        raise InputError(f"{exc}; config.toml left unchanged") from None
    return setting, sub, value


def _unknown(section: str, key: str) -> str:
    """No such key: name the closest one ("did you mean"), across sections for a typo in the
    section (``sinc.backend`` -> ``sync.backend``)."""
    import difflib

    names = [s.name for s in SETTINGS]
    close = difflib.get_close_matches(f"{section}.{key}", names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    if section not in SECTIONS:
        return f"no setting {section}.{key}: there is no [{section}] section{hint} " \
               f"(sections: {', '.join(SECTIONS)})"
    known = ", ".join(sorted(f"{section}.{k}" for k in settings_of(section)))
    return f"no setting {section}.{key}{hint} (known in [{section}]: {known})"


def set_value(path: Path, name: str, raw: str, tmp_dir: Path,
              choices: Choices | None = None) -> Any:
    """Write ``name = raw`` into config.toml; returns the value as stored."""
    from fieldkit.tickets.storage import atomic_write

    setting, sub, value = parse_assignment(name, raw, choices)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    table = f"{setting.section}.{setting.key}" if sub is not None else setting.section
    key = sub if sub is not None else setting.key
    updated = _edit(text, table, key, _literal(value))
    try:
        data = tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} would not be valid TOML after the change ({exc}); "
                          "left untouched") from None
    # the typed value passed already: what fails here is another key the file holds (exit 5)
    validate_section(path, setting.section, data.get(setting.section), choices)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write(path, updated.encode("utf-8"), tmp_dir)
    return value


def _typed(setting: Setting, raw: str) -> Any:
    kind = setting.kind
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise InputError(f"{setting.name}: {raw!r} is not {setting.allowed()}") from None
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            raise InputError(f"{setting.name}: {raw!r} is not true or false")
        return lowered in ("true", "yes", "on", "1")
    if kind == "list":  # '["a", "b"]' (JSON, as the file writes it) or 'a, b'
        if raw.lstrip().startswith("["):
            try:
                return json.loads(raw)
            except ValueError:
                raise InputError(f"{setting.name}: {raw!r} is not a JSON list of strings; "
                                 'write \'["a", "b"]\' or a, b') from None
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string


def _edit(text: str, table: str, key: str, literal: str) -> str:
    lines = text.splitlines()
    start = end = None
    for i, line in enumerate(lines):
        match = _HEADER.match(line)
        if match:
            if start is not None and end is None:
                end = i
            if _table_name(match.group(1)) == table:
                start, end = i, None
    if start is None:
        block = ([""] if lines and lines[-1].strip() else []) + [f"[{table}]", f"{key} = {literal}"]
        return "\n".join(lines + block) + "\n"
    end = len(lines) if end is None else end
    key_re = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for i in range(start + 1, end):
        if key_re.match(lines[i]):
            lines[i] = f"{key} = {literal}"
            return "\n".join(lines) + "\n"
    insert = end
    while insert > start + 1 and not lines[insert - 1].strip():
        insert -= 1  # keep the blank line before the next table
    lines.insert(insert, f"{key} = {literal}")
    return "\n".join(lines) + "\n"


def _table_name(raw: str) -> str:
    return ".".join(part.strip().strip('"') for part in raw.split("."))
