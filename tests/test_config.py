"""Every key of config.toml refuses a wrong type and an out-of-range value with exit 5 and one
line naming file, section and key; a misspelt key is a warning with a suggestion."""

import json
import re

import pytest

from fieldkit.configschema import SETTINGS, Setting

COMMAND = {"sync": ("sync",), "diag": ("diag", "--no-probe", "--check", "system.os"),
           "technician": ("ticket", "new", "-t", "x"),
           "tickets": ("ticket", "attach", "FK-1", "/dev/null"),
           # read before connecting; a valid section then meets a closed port (exit 7)
           "remote": ("diag", "--host", "ssh://127.0.0.1:1", "--check", "system.os"),
           "report": ("report", "time")}
VALID_SYNC = {"backend": "rt", "url": "http://127.0.0.1:9/", "user": "fk"}


def toml_value(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def write(home, section, values):
    home.mkdir(parents=True, exist_ok=True)
    base = dict(VALID_SYNC) if section == "sync" else {}
    base.update(values)
    lines = [f"[{section}]"] + [f"{k} = {toml_value(v)}" for k, v in base.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def wrong_values(setting: Setting):
    kind = setting.kind
    wrong_type = {"str": 3, "int": "abc", "float": "abc", "bool": "yes", "choice": 3,
                  "file": 3, "url": 42, "table": 3, "list": "ntp.example"}[kind]
    yield "wrong type", wrong_type
    if kind in ("int", "float"):
        yield "below range", setting.minimum - 1
        yield "above range", setting.maximum + 1
    if kind == "choice":
        yield "not a choice", "no-such-" + setting.key
    if kind == "file":
        yield "missing file", "/no/such/ca.pem"
    if kind == "url":
        yield "not a URL", "rt.example.com"
    if kind == "table":
        yield "unknown table key", {"nope": "x"}
    if kind == "list":
        yield "an empty entry", ["ntp.example", ""]
    if kind == "str" and setting.minimum:
        yield "empty", "  "


CASES = [pytest.param(s, label, value, id=f"{s.name}-{label}")
         for s in SETTINGS for label, value in wrong_values(s)]


@pytest.mark.parametrize(("setting", "label", "value"), CASES)
def test_bad_value_exits_5_naming_the_key(proc, home, setting, label, value):
    write(home, setting.section, {setting.key: value})
    r = proc(*COMMAND[setting.section])
    assert r.code == 5, (r.code, r.err)
    assert f"[{setting.section}" in r.err and setting.key in r.err, r.err
    assert str(home / "config.toml") in r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    checked = proc("config", "check")
    assert (checked.code, checked.err) == (r.code, r.err)


@pytest.mark.parametrize("section", sorted(COMMAND))
def test_misspelt_key_is_a_warning_with_a_suggestion(proc, home, section):
    key = next(s.key for s in SETTINGS if s.section == section)
    write(home, section, {key[:-1] + key[-1].upper() + "x": "1"})
    r = proc(*COMMAND[section])
    assert "unknown key" in r.err and f"did you mean {key!r}" in r.err
    assert r.code != 5


def test_a_broken_sync_section_does_not_stop_diagnostics(proc, home):
    write(home, "sync", {"timeout_s": "abc"})
    assert proc(*COMMAND["diag"]).code == 0


def test_every_section_is_read_by_some_command():
    assert {s.section for s in SETTINGS} == set(COMMAND)


def test_set_keeps_comments_and_validates(proc, home):
    home.mkdir()
    (home / "config.toml").write_text('# site laptop\n[sync]\nbackend = "rt"  # prod\n'
                                      'url = "https://rt.example.com/"\n')
    assert proc("config", "set", "sync.timeout_s", "12").code == 0
    assert proc("config", "set", "sync.escalation_queues.2", "2nd-Level").code == 0
    r = proc("config", "set", "sync.retries", "-1")
    assert r.code == 2 and "retries" in r.err
    assert proc("config", "set", "sync.nope", "1").code == 2
    text = (home / "config.toml").read_text()
    assert "# site laptop" in text and "timeout_s = 12.0" in text and "retries" not in text
    assert (home / "config.toml").stat().st_mode & 0o777 == 0o600
    shown = proc("config", "show", "--json").json()["settings"]
    assert shown["sync"]["timeout_s"] == 12.0
    assert shown["sync"]["escalation_queues"] == {"2": "2nd-Level"}
    assert proc("config", "check").code == 0


def test_configuration_doc_is_generated_from_the_schema():
    from pathlib import Path

    from fieldkit.cli.config import markdown

    doc = Path(__file__).parents[1] / "docs" / "configuration.md"
    assert doc.read_text() == markdown(), "run: python -m fieldkit.cli.config > " \
                                          "docs/configuration.md"


def test_a_config_loaded_without_the_backend_names_refuses_in_the_same_words(home):
    """The schema is handed the backend names by the CLI; a library caller who loads the config
    without them still gets the schema's refusal, from sync, when it builds the backend."""
    from fieldkit.config import load_config
    from fieldkit.errors import ConfigError
    from fieldkit.sync.configure import build_backend

    write(home, "sync", {"backend": "bogus"})
    config = load_config(home)
    assert config.section("sync")["backend"] == "bogus"  # any text passes the schema here
    with pytest.raises(ConfigError) as caught:
        build_backend(config)
    assert str(caught.value) == (f"{home / 'config.toml'}: [sync] backend = 'bogus': must be "
                                 "one of 'rt', 'sftp'")
    handed = load_config(home, choices={"sync.backend": ("rt", "sftp")})
    with pytest.raises(ConfigError, match=r"^" + re.escape(str(caught.value)) + "$"):
        handed.section("sync")
