"""``ticket report`` at the command line: outputs, errors, and the PDF library kept out of
every other command's start-up."""

import pytest

from tests.cli.test_startup import imported_by


@pytest.fixture
def ticket(cli):
    assert cli("ticket", "new", "-t", "Drucker im 2. OG – Papierstau").code == 0
    assert cli("ticket", "note", "1", "Papier entfernt", "-m", "10").code == 0


@pytest.mark.usefixtures("ticket")
def test_a_pdf_goes_to_a_file_named_by_the_ref(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("ticket", "report", "FK-1")
    assert r.code == 0, r.err
    assert r.out == "FK-1: report written to FK-1-report.pdf\n"
    assert (tmp_path / "FK-1-report.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.usefixtures("ticket")
@pytest.mark.parametrize(("args", "code", "message"), [
    (("1", "--format", "docx"), 2, "--format must be pdf, html or md (got 'docx')"),
    (("1", "--lang", "fr"), 2, "--lang must be de or en (got 'fr')"),
    (("1", "-o", "/nonexistent/dir/r.pdf"), 2, "cannot write /nonexistent/dir/r.pdf"),
    (("FK-9",), 3, "no ticket 'FK-9'"),
])
def test_bad_input_is_one_line_with_its_code(cli, args, code, message):
    r = cli("ticket", "report", *args)
    assert (r.code, r.out) == (code, "")
    assert message in r.err and r.err.count("\n") == 1


def test_a_bad_report_setting_is_a_config_error(cli, home, ticket):
    (home / "config.toml").write_text('[report]\nrounding_minutes = 0\n')
    r = cli("ticket", "report", "1", "--format", "md")
    assert r.code == 5 and "rounding_minutes" in r.err


def test_the_pdf_library_loads_only_for_a_report(home, ticket):
    assert not {m for m in imported_by(home, "ticket", "list", "--json")
                if m.split(".")[0] == "fpdf" or m.startswith("fieldkit.report")}
    assert not {m for m in imported_by(home, "ticket", "report", "1", "--format", "md", "-o",
                                       str(home / "r.md")) if m.split(".")[0] == "fpdf"}
    assert "fpdf" in imported_by(home, "ticket", "report", "1", "-o", str(home / "r.pdf"))
