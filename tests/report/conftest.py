"""A realistic visit: a ticket with a diagnostic run's findings, three notes with minutes, a
checklist run and an escalation, worked through the CLI as a technician would."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fieldkit.diagnostics.model import DiagRun, Finding
from fieldkit.i18n import set_language
from fieldkit.tickets.store import TicketStore
from tests.checklists.test_cli import DISK_ANSWERS
from tests.conftest import need

CONFIG = """[technician]
name = "Jörg Schröder"

[report]
company = "IT-Service Schröder GmbH"
address = "Hauptstraße 5\\n50667 Köln"
rounding_minutes = 15

[sync]
escalation_queues = { "2" = "Exchange-Team" }
"""


FINDINGS = [
    Finding("system.os", "os", "ok", "Windows 11 Pro 23H2"),
    Finding("disk.usage", "C:", "warn", "C: is 91% full (9 GB free)",
            "Delete temporary files or move data off C:."),
    Finding("mail.smtp", "smtp.example.de:587", "fail",
            "the mail server refuses the login (535)",
            "Check the mail password in the account settings."),
    Finding("network.dns", "resolver", "ok", "names resolve in 12 ms"),
]


def visit(cli, home) -> str:
    """Build the ticket; returns its ref."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(CONFIG)
    r = cli("ticket", "new", "-t", "Outlook sendet nicht – Fehler 0x800CCC0F",
            "--site", "Müller & Söhne, Köln", "--requester", "Anna Müller",
            "--contact", "0221 12345", "--asset", "PC-0815",
            "-d", "Seit heute früh bleiben alle Mails im Postausgang. Schaden: 250 €/Tag.")
    assert r.code == 0, r.err
    run = DiagRun("PC-0815", "2026-12-02T09:00:00Z", 1.5, FINDINGS).to_dict()
    TicketStore.at_home(home).attach_run("1", run)
    for text, minutes in (("Netzwerkkabel und Verbindung geprüft", 20),
                          ("Outlook-Profil neu angelegt", 35),
                          ("Testmail an extern gesendet", 7)):
        assert cli("ticket", "note", "1", text, "-m", str(minutes)).code == 0
    answers = home / "answers.toml"
    answers.write_text(DISK_ANSWERS)
    r = cli("checklist", "run", "disk-full", "--answers", str(answers), "--ticket", "1")
    assert r.code == 0, r.err
    r = cli("ticket", "escalate", "1", "--level", "2", "--reason",
            "Exchange-Postfach gesperrt: Zugriff nur durch den Admin")
    assert r.code == 0, r.err
    return "FK-1"


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")  # --lang de sets the language of the (in-process) run


@pytest.fixture
def realistic(cli, home) -> str:
    return visit(cli, home)


def pdf_text(path) -> str:
    need(shutil.which("pdftotext") is not None, "needs pdftotext (poppler-utils, see "
                                                ".ci/install-packages)")
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True)
    return done.stdout
