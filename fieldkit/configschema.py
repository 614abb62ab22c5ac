"""Every key config.toml may hold, with its type, range, default and a one-line meaning.

One table for the whole file, so a bad value is caught where it is read and reported in the
words of the file (file, section, key, the value, what is allowed) instead of surfacing later
as a Python exception, and so ``fieldkit config`` and docs/configuration.md cannot drift from
what the code accepts. A section is validated when a command first asks for it: a typo in
``[sync]`` must not stop ``fieldkit diag`` on site.

The schema sits below every part that reads config, so it cannot ask them what a key accepts:
the values of a choice key owned by a higher part (``sync.backend``: the backends sync knows)
are handed in by whoever composes the program, as :data:`Choices` (the CLI's config loading,
see ``fieldkit.cli.common.config_choices``; docs/architecture.md).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fieldkit.errors import ConfigError

# setting name ("sync.backend") -> the values a choice key accepts, for keys whose choices a
# part above the schema owns (``handed_in``); given to load_config, settings_of, markdown
Choices = Mapping[str, Iterable[str]]


@dataclass(frozen=True)
class Setting:
    """One key. ``kind`` is str, int, float, bool, url, file, choice, list or table. For str,
    ``minimum`` 1 means it must not be empty."""

    section: str
    key: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    table_keys: tuple[str, ...] = ()  # for kind "table": the keys it may hold (values are text)
    # for kind "choice": the choices are handed in (:data:`Choices`); without them any
    # text passes here and the owner checks the name when it uses it
    handed_in: bool = False

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    def allowed(self) -> str:
        """What the key accepts, in a technician's words."""
        if self.kind == "choice" and self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            unit = " (seconds)" if self.key.endswith("_s") else ""
            return f"{noun} from {self.minimum:g} to {self.maximum:g}{unit}"
        if self.kind == "table":
            return "a table of text values with keys " + ", ".join(self.table_keys)
        if self.kind == "str" and self.minimum:
            return "non-empty text"
        return {"str": "text", "bool": "true or false", "url": "a URL (scheme://host/...)",
                "list": "a list of non-empty strings",
                "file": "the path of a readable file", "choice": "text"}.get(self.kind, self.kind)

    def with_choices(self, choices: Choices | None) -> Setting:
        """This key with its handed-in choices filled in (itself when it has none)."""
        if not self.handed_in or not choices or self.name not in choices:
            return self
        return replace(self, choices=tuple(choices[self.name]))


SETTINGS: tuple[Setting, ...] = (
    Setting("sync", "backend", "choice", None, "which central ticket system to sync to",
            handed_in=True),
    Setting("sync", "url", "url", None, "where the ticket system is (rt: its base URL; sftp: "
            "sftp://user@host[:port]/drop/directory)"),
    Setting("sync", "queue", "str", "General", "queue new tickets are created in"),
    Setting("sync", "user", "str", "", "user for password authentication (not needed with a "
                                       "token)"),
    Setting("sync", "ca_file", "file", "", "an extra CA (PEM) to trust besides the OS store"),
    Setting("sync", "timeout_s", "float", 30.0, "seconds to wait for one answer of the server",
            minimum=1, maximum=600),
    Setting("sync", "retries", "int", 3, "retries of requests that are safe to repeat",
            minimum=0, maximum=10),
    Setting("sync", "backoff_s", "float", 0.5, "first pause between retries (doubles each time)",
            minimum=0, maximum=60),
    Setting("sync", "escalation_queues", "table", {}, "queue a ticket moves to per support "
            "level when escalated", table_keys=("2", "3")),
    Setting("sync", "custom_fields", "table", {}, "the server's custom field names, if they "
            "differ from Category, Site, SupportLevel", table_keys=("category", "site", "level")),
    Setting("sync", "identity_file", "file", "", "sftp: the SSH private key to log in with "
            "(else ssh-agent and ~/.ssh keys)"),
    Setting("technician", "name", "str", "", "your name in ticket histories, checklist runs and "
            "overrides (default: the OS user name)"),
    Setting("tickets", "max_attachment_mib", "float", 20.0, "largest file 'ticket attach' "
            "accepts, in MiB", minimum=0.001, maximum=1024),
    Setting("report", "company", "str", "", "your company's name at the head of the service "
            "report"),
    Setting("report", "address", "str", "", "your company's address on the report (lines "
            "separated by \\n)"),
    Setting("report", "logo", "file", "", "a PNG or JPEG logo for the report's head"),
    Setting("report", "rounding_minutes", "int", 15, "the report and 'report time' round each "
            "visit's time up to this many minutes (1: exact)", minimum=1, maximum=240),
    Setting("report", "minimum_minutes", "int", 0, "least time billed per visit (a ticket's "
            "work on one day)", minimum=0, maximum=1440),
    Setting("report", "paper", "choice", "a4", "paper size of the PDF report",
            choices=("a4", "letter")),
    Setting("report", "technician", "str", "", "the technician named on the report (default: "
            "[technician] name)"),
    Setting("report", "place", "str", "", "the place printed beside the date (default: the "
            "ticket's site)"),
    Setting("diag", "probe", "bool", True, "false: every command behaves as with --no-probe "
            "(a customer's no-probe policy)"),
    Setting("diag", "dns_name", "str", "example.com", "the name the dns check resolves",
            minimum=1),
    Setting("diag", "dns_timeout_s", "float", None, "seconds the dns check waits per resolver "
            "(default: resolv.conf's timeout)", minimum=0.1, maximum=30),
    Setting("diag", "dns_slow_s", "float", 1.0, "a DNS answer slower than this is 'slow' (dns "
            "check and reach)", minimum=0.05, maximum=60),
    Setting("diag", "gateway_timeout_s", "float", 2.0, "seconds the gateway check waits for an "
            "answer", minimum=0.1, maximum=30),
    Setting("diag", "portal_url", "url", "http://www.msftconnecttest.com/connecttest.txt",
            "connectivity check (plain http: a portal cannot intercept https); its Date header "
            "is also a time source"),
    Setting("diag", "portal_expect", "str", "Microsoft Connect Test", "text the connectivity "
            "answer must contain", minimum=1),
    Setting("diag", "portal_timeout_s", "float", 5.0, "seconds the connectivity check waits",
            minimum=0.5, maximum=30),
    Setting("diag", "ntp_servers", "list", [], "time sources for the clock check (host, "
            "host:port, [v6]:port; default: the system's NTP configuration)"),
    Setting("diag", "clock_timeout_s", "float", 3.0, "seconds to wait per time source",
            minimum=0.5, maximum=30),
    Setting("diag", "printer_timeout_s", "float", 3.0, "seconds per network step of the printer "
            "checks (--timeout overrides it)", minimum=0.1, maximum=120),
    Setting("diag", "printer_stuck_after_min", "float", 10.0, "minutes after which a queued "
            "print job counts as stuck", minimum=0, maximum=10080),
    Setting("diag", "printer_pjl", "bool", True, "ask raw port 9100 printers for PJL status "
            "(a printer without PJL might print the query as text)"),
    Setting("diag", "printer_discover_s", "float", 3.0, "seconds 'diag printer --discover' "
            "listens for printers", minimum=0.5, maximum=60),
    Setting("remote", "connect_timeout_s", "float", 10.0, "--host: seconds to wait for the "
            "SSH server (connect, then its banner and key exchange)", minimum=1, maximum=120),
    Setting("remote", "auth_timeout_s", "float", 30.0, "--host: seconds to wait for the answer "
            "to each login attempt", minimum=1, maximum=300),
    Setting("remote", "command_timeout_s", "float", 120.0, "--host: seconds a remote "
            "diagnostics run may take, upload included", minimum=5, maximum=3600),
    Setting("remote", "use_installed", "bool", True, "--host: run the fieldkit installed on "
            "the remote when there is one (false: always upload this fieldkit's checks)"),
    Setting("remote", "identity_file", "file", "", "--host: the SSH private key to log in "
            "with when -i is not given (else ssh-agent and ~/.ssh keys)"),
)

SECTIONS = tuple(dict.fromkeys(s.section for s in SETTINGS))


def settings_of(section: str, choices: Choices | None = None) -> dict[str, Setting]:
    return {s.key: s.with_choices(choices) for s in SETTINGS if s.section == section}


def validate_section(path: Path, section: str, raw: Any, choices: Choices | None = None
                     ) -> tuple[dict[str, Any], list[str]]:
    """The section's values with defaults filled in, plus warnings (unknown keys).

    Raises :class:`ConfigError` naming file, section, key, value and what is allowed.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [{section}] must be a table (got {_show(raw)})")
    known = settings_of(section, choices)
    values = {key: setting.default for key, setting in known.items()}
    warnings = []
    for key, value in raw.items():
        setting = known.get(key)
        if setting is None:
            warnings.append(unknown_key_warning(path, section, key, list(known)))
            continue
        values[key] = _check(path, setting, value)
    return values, warnings


def check_value(setting: Setting, value: Any, path: Path | None = None) -> Any:
    """One value checked against its key (for readers handed a plain dict)."""
    return _check(path or Path("config.toml"), setting, value)


def unknown_key_warning(path: Path, section: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{path}: [{section}] unknown key {key!r} is ignored{hint}"


def check_typed(setting: Setting, value: Any) -> Any:
    """A value typed on the command line (``config set``), refused in its own words: the
    file does not hold it (yet), so the message names the key, not the file."""
    return _check(None, setting, value)


def refusal(path: Path | None, setting: Setting, value: Any, allowed: str = "") -> ConfigError:
    """The one-line error for a value a key does not accept (in the file, or typed)."""
    where = f"{path}: [{setting.section}] {setting.key}" if path else setting.name
    return ConfigError(f"{where} = {_show(value)}: must be {allowed or setting.allowed()}")


def _check(path: Path | None, setting: Setting, value: Any) -> Any:
    def refuse(extra: str = "") -> ConfigError:
        return refusal(path, setting, value, setting.allowed() + extra)

    kind = setting.kind
    if kind in ("str", "url", "file", "choice") and not isinstance(value, str):
        raise refuse()
    if kind == "str" and setting.minimum and not value.strip():
        raise refuse()
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise refuse()
        return list(value)
    if kind == "choice" and (setting.choices or not setting.handed_in) \
            and value not in setting.choices:
        raise refuse()
    if kind == "url":
        parts = urlsplit(value)
        if not parts.scheme or not parts.hostname:
            raise refuse()
        if parts.password is not None:  # it would end up in tickets, sync.json and messages
            raise refusal(path, setting, "***", "a URL without a password (secrets come from "
                          "the environment or the OS keyring, see docs/sync.md)")
    if kind == "file" and value:
        expanded = os.path.expanduser(value)
        if not os.path.isfile(expanded):
            raise refuse(" (no such file)")
        if not os.access(expanded, os.R_OK):
            raise refuse(" (not readable)")
        return expanded
    if kind == "bool" and not isinstance(value, bool):
        raise refuse()
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise refuse()
        if kind == "int" and not isinstance(value, int):
            raise refuse()
        assert setting.minimum is not None and setting.maximum is not None
        if not setting.minimum <= value <= setting.maximum:
            raise refuse()
        return float(value) if kind == "float" else value
    if kind == "table":
        if not isinstance(value, dict):
            raise refuse()
        for key, item in value.items():
            if key not in setting.table_keys or not isinstance(item, str) or not item.strip():
                where = f"{path}: [{setting.name}] {key}" if path else f"{setting.name}.{key}"
                raise ConfigError(f"{where} = {_show(item)}: must be {setting.allowed()}")
        return dict(value)
    return value


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def markdown(choices: Choices) -> str:
    """docs/configuration.md, generated from the schema and the handed-in choices (a test
    keeps the file current; ``python -m fieldkit.cli.config`` writes it)."""
    lines = ["# Configuration", "",
             "fieldkit reads `<home>/config.toml` (`fieldkit config path` prints where that is).",
             "Every key is optional; a section is checked when a command first reads it: a wrong",
             "type or a value out of range ends the command with exit 5 and one line naming file,",
             "section, key, value and what is allowed; an unknown key is a warning with a",
             "suggestion. `fieldkit config check` checks the whole file, `fieldkit config show`",
             "prints the effective settings, `fieldkit config set SECTION.KEY VALUE` changes one",
             "key (validated, written atomically, comments kept; a value it refuses is exit 2,",
             "named by its key, and the file stays as it was; a list key takes",
             "`'[\"a\", \"b\"]'` or `a, b`; a mistyped key or section gets a \"did you mean\").",
             "Secrets (passwords, tokens) never go in this file: see docs/sync.md.", "",
             "This page is generated from `fieldkit/configschema.py`",
             "(`python -m fieldkit.cli.config > docs/configuration.md`).", ""]
    for section in SECTIONS:
        lines += [f"## [{section}]", "", "| key | type | default | allowed | meaning |",
                  "|---|---|---|---|---|"]
        for s in settings_of(section, choices).values():
            default = "(none)" if s.default in (None, "", {}) else f"`{s.default!r}`"
            lines.append(f"| `{s.key}` | {s.kind} | {default} | {s.allowed()} | {s.help} |")
        lines.append("")
    return "\n".join(lines)

