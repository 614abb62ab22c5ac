"""The PDF of a realistic visit, read back with pdftotext: every section, the rounded time,
German and English, and the same bytes for the same ticket."""

import shutil
import subprocess

import pytest

from tests.report.conftest import pdf_text

pytestmark = pytest.mark.usefixtures("realistic")

ENGLISH = ["IT-Service Schröder GmbH", "Hauptstraße 5", "50667 Köln", "Service report",
           "FK-1", "Outlook sendet nicht – Fehler 0x800CCC0F", "Müller & Söhne, Köln",
           "Anna Müller / 0221 12345", "PC-0815", "Problem", "250 €/Tag", "Findings",
           "the mail server refuses the login (535)",
           "Tip: Check the mail password in the account settings.",
           "Tip: Delete temporary files or move data off C:.", "2 further checks passed.",
           "Work done", "Outlook-Profil neu angelegt", "35 min",
           "Working time: 62 min logged, 75 min billed (1:15 h",
           "Checklist results", "Disk full", "Still open / escalated",
           "to Exchange-Team: Exchange-Postfach gesperrt", "Technician: Jörg Schröder",
           "Place, date: Müller & Söhne, Köln", "Customer's signature"]
GERMAN = ["Servicebericht", "Betreff", "Kunde / Standort", "Meldende Person", "Gerät",
          "Störung", "Befunde", "Tipp: Check the mail password", "Durchgeführte Arbeiten",
          "35 Min.", "Arbeitszeit: 62 Min. erfasst, 75 Min. abgerechnet (1:15 Std.",
          "je Einsatz auf 15 Minuten aufgerundet", "Ergebnisse der Checklisten",
          "Noch offen / Eskalation", "Eskalation am", "an Exchange-Team",
          "Techniker: Jörg Schröder", "Ort, Datum: Müller & Söhne, Köln",
          "Unterschrift Kunde", "2 weitere Prüfungen ohne Befund."]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_section_is_in_the_english_report(cli, tmp_path):
    out = tmp_path / "report.pdf"
    r = cli("ticket", "report", "1", "--output", str(out))
    assert r.code == 0, r.err
    assert out.read_bytes().startswith(b"%PDF")
    text = flat(pdf_text(out))
    missing = [s for s in ENGLISH if flat(s) not in text]
    assert missing == []
    # what failed comes before what only warns
    assert text.index("refuses the login") < text.index("91% full")


def test_every_section_is_in_the_german_report(cli, tmp_path):
    out = tmp_path / "bericht.pdf"
    assert cli("ticket", "report", "1", "--lang", "de", "-o", str(out)).code == 0
    text = flat(pdf_text(out))
    assert [s for s in GERMAN if flat(s) not in text] == []
    assert "Service report" not in text and "Work done" not in text


def test_the_same_ticket_gives_the_same_bytes(cli, tmp_path):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    assert cli("ticket", "report", "1", "-o", str(first)).code == 0
    assert cli("ticket", "report", "1", "-o", str(second)).code == 0
    assert first.read_bytes() == second.read_bytes()
    assert cli("ticket", "note", "1", "one more", "-m", "1").code == 0
    assert cli("ticket", "report", "1", "-o", str(second)).code == 0
    assert first.read_bytes() != second.read_bytes()


def test_letter_paper_is_configurable(cli, home, tmp_path):
    out = tmp_path / "letter.pdf"
    config = home / "config.toml"
    config.write_text(config.read_text().replace("rounding_minutes = 15",
                                                 'rounding_minutes = 15\npaper = "letter"'))
    assert cli("ticket", "report", "1", "-o", str(out)).code == 0
    assert b"/MediaBox [0 0 612.00 792.00]" in out.read_bytes()  # 8.5 x 11 in


def test_page_one_as_an_image(cli, tmp_path):
    """The PNG of page 1 is kept in /tmp/report-page1.png for a look (pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("needs pdftoppm (poppler-utils)")
    out = tmp_path / "bericht.pdf"
    assert cli("ticket", "report", "1", "--lang", "de", "-o", str(out)).code == 0
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(out), str(tmp_path / "page1")], check=True)
    png = (tmp_path / "page1.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    shutil.copy(tmp_path / "page1.png", "/tmp/report-page1.png")


def tiny_png(path):
    """A 4x4 red PNG, written with the standard library."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2,
                                                                         0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_the_logo_is_embedded(cli, home, tmp_path):
    logo = tmp_path / "logo.png"
    tiny_png(logo)
    config = home / "config.toml"
    config.write_text(config.read_text().replace("[report]\n", f'[report]\nlogo = "{logo}"\n'))
    out = tmp_path / "logo.pdf"
    assert cli("ticket", "report", "1", "-o", str(out)).code == 0
    data = out.read_bytes()
    assert b"/Subtype /Image" in data
    assert cli("ticket", "report", "1", "-o", str(tmp_path / "again.pdf")).code == 0
    assert (tmp_path / "again.pdf").read_bytes() == data
