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

from fieldkit.configschema import Setting, settings_of, validate_section
from fieldkit.errors import ConfigError, InputError

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\s*(#.*)?$")


def parse_assignment(name: str, raw: str) -> tuple[Setting, str | None, Any]:
    """``sync.timeout_s`` + ``"5"`` -> (setting, table key or None, typed value)."""
    parts = name.split(".")
    if len(parts) < 2:
        raise InputError(f"{name!r}: write SECTION.KEY, e.g. sync.timeout_s")
    section, key, sub = parts[0], parts[1], ".".join(parts[2:]) or None
    setting = settings_of(section).get(key)
    if setting is None:
        known = ", ".join(sorted(f"{section}.{k}" for k in settings_of(section))) or "none"
        raise InputError(f"no setting {section}.{key} (known in [{section}]: {known})")
    if (setting.kind == "table") != (sub is not None):
        shape = f"{name}.KEY (keys: {', '.join(setting.table_keys)})" if setting.kind == "table" \
            else f"{section}.{key}"
        raise InputError(f"{name!r}: write {shape}")
    return setting, sub, _typed(setting, raw)


def set_value(path: Path, name: str, raw: str, tmp_dir: Path) -> Any:
    """Write ``name = raw`` into config.toml; returns the value as stored."""
    from fieldkit.tickets.storage import atomic_write

    setting, sub, value = parse_assignment(name, raw)
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
    try:
        validate_section(path, setting.section, data.get(setting.section))
    except ConfigError as exc:  # a value typed on the command line: bad input, not a bad file
        raise InputError(str(exc)) from None
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
