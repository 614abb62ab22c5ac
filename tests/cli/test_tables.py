"""Tables fit the terminal: columns narrowed to the width, cells cut with "…" at a word's end,
never a line longer than the terminal (so nothing wraps mid-word). Issue 23 item 5."""

import pytest

from fieldkit.cli import render

TITLES = ["Outlook: Senden schlägt fehl mit Fehler 0x800CCC0F nach Kennwortänderung",
          "Drucker im 2. OG druckt nur leere Seiten",
          "VPN trennt alle zehn Minuten"]
SITE = "ACME Logistik Berlin-Tempelhof"


def words_of(text):
    return {w.strip("…") for w in text.split()}


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_table_fits_the_width(columns):
    rows = [(f"FK-{i}", "P2", "in_progress", "L1", SITE, title, "2026-12-02 07:10 CET")
            for i, title in enumerate(TITLES, 1)]
    out = render.table(("REF", "PRI", "STATUS", "LVL", "SITE", "TITLE", "UPDATED"), rows,
                       shrink=("TITLE", "SITE"), width=columns)
    lines = out.splitlines()
    assert all(len(line) <= columns for line in lines), out
    whole = set().union(*(words_of(t) for t in TITLES), words_of(SITE))
    for line in lines[1:]:
        assert line.startswith("FK-") and "in_progress" in line  # short columns stay whole
        assert columns < 80 or "07:10 CET" in line  # free text gives way first
        for word in line.split():
            if word.endswith("…"):  # a cut cell ends on a whole word where one is near
                assert word == "…" or word[:-1] in whole or len(word) > 4, line
    if columns == 200:
        assert "…" not in out and TITLES[0] in out


def test_a_cut_prefers_a_word_end():
    assert render._cut("Outlook: Senden schlägt fehl", 20) == "Outlook: Senden…"
    assert render._cut("Kennwortänderungsbestätigung", 10) == "Kennwortä…"
    assert render._cut("short", 10) == "short"


def test_without_a_terminal_only_the_cell_limit_applies(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    out = render.table(("REF", "TITLE"), [("FK-1", TITLES[0])])
    assert TITLES[0][:40] in out  # not squeezed to some assumed width


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_ticket_list_and_search_fit_columns(proc, monkeypatch, columns):
    for title in TITLES:
        assert proc("ticket", "new", "-t", title, "--site", SITE).code == 0
    monkeypatch.setenv("COLUMNS", str(columns))
    for args in (("ticket", "list"), ("ticket", "search", "fehl")):
        r = proc(*args)
        assert r.code == 0, r.err
        lines = r.out.splitlines()
        assert len(lines) >= 2 and all(len(line) <= columns for line in lines), r.out
        if columns == 200 and args[1] == "list":
            assert TITLES[0] in r.out
