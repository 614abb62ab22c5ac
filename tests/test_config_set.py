"""`config set` for a person typing: list keys as JSON or a comma list, "did you mean" across
sections, and a refusal that names the key, not the file (issue 23 item 8)."""

import tomllib


def test_a_list_key_takes_json_or_a_comma_list(proc, home):
    r = proc("config", "set", "diag.ntp_servers", '["ptbtime1.ptb.de"]')
    assert r.code == 0, r.err
    assert 'diag.ntp_servers = ["ptbtime1.ptb.de"]' in r.out
    assert tomllib.loads((home / "config.toml").read_text())["diag"]["ntp_servers"] == [
        "ptbtime1.ptb.de"]
    assert proc("config", "set", "diag.ntp_servers", "ptbtime1.ptb.de, ptbtime2.ptb.de").code == 0
    assert tomllib.loads((home / "config.toml").read_text())["diag"]["ntp_servers"] == [
        "ptbtime1.ptb.de", "ptbtime2.ptb.de"]
    assert proc("config", "check").code == 0
    r = proc("config", "set", "diag.ntp_servers", "[1, 2]")
    assert r.code == 2 and "must be a list of non-empty strings" in r.err


def test_a_typo_in_the_section_suggests_the_key(proc):
    r = proc("config", "set", "sinc.backend", "rt")
    assert r.code == 2
    assert "did you mean sync.backend?" in r.err and "known in [sinc]: none" not in r.err
    assert "did you mean sync.backend?" in proc("config", "set", "sync.backnd", "rt").err


def test_a_typed_value_is_refused_in_its_own_words(proc, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("# site laptop\n[sync]\ntimeout_s = 12.0\n")
    r = proc("config", "set", "sync.backend", "jira")
    assert r.code == 2
    assert r.err.startswith("fieldkit: error: sync.backend = 'jira': must be one of")
    assert str(home / "config.toml") + ":" not in r.err  # the file does not hold 'jira'
    assert "left unchanged" in r.err
    assert (home / "config.toml").read_text() == "# site laptop\n[sync]\ntimeout_s = 12.0\n"
