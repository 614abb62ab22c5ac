"""Markdown and HTML say what the PDF says: one document, three renderers."""

import pytest

from tests.report.test_pdf import ENGLISH, flat

pytestmark = pytest.mark.usefixtures("realistic")


def test_markdown_to_standard_output_has_every_section(cli):
    r = cli("ticket", "report", "1", "--format", "md")
    assert r.code == 0, r.err
    assert r.out.startswith("# Service report\n")
    assert [s for s in ENGLISH if flat(s) not in flat(r.out)] == []
    assert "| When | Time | What was done |" in r.out
    assert "**Hauptstraße 5**" not in r.out and "**IT-Service Schröder GmbH**" in r.out


def test_html_is_one_escaped_page(cli, tmp_path):
    out = tmp_path / "report.html"
    r = cli("ticket", "report", "1", "--format", "html", "--lang", "de", "-o", str(out))
    assert r.code == 0, r.err
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="de">' in page
    assert "Müller &amp; Söhne, Köln" in page  # escaped, and the umlauts kept as they are
    assert "<h2>Durchgeführte Arbeiten</h2>" in page and "Tipp: Check the mail" in page


def test_markdown_does_not_let_a_note_become_markup(cli):
    assert cli("ticket", "note", "1", "a | b", "-m", "1").code == 0
    out = cli("ticket", "report", "1", "--format", "md").out
    assert "| a \\| b |" in out
