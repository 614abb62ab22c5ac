"""International host names are encoded as a browser does (UTS-46, IDNA) by every parser of a
host: reach, mail, printers, --host, checklist answers (issue 23 item 14)."""

import pytest

from fieldkit.diagnostics.mail.server import parse_mail_target
from fieldkit.diagnostics.net.targets import ascii_host, host_problem, parse_target
from fieldkit.diagnostics.printers.targets import parse_printer_target
from fieldkit.errors import InputError
from fieldkit.remote.target import parse_host

ENCODED = "xn--drucker-bro-1hb.acme.local"


@pytest.mark.parametrize(("name", "encoded"), [
    ("drucker-büro.acme.local", ENCODED),
    ("DRUCKER-BÜRO.acme.local.", ENCODED + "."),
    ("faß.de", "xn--fa-hia.de"),  # non-transitional, as browsers do: ß is not "ss"
    ("ｄｒｕｃｋｅｒ.de", "drucker.de"),  # full-width letters mapped by UTS-46
    ("my_host.büro.de", "my_host.xn--bro-hoa.de"),
    ("pc-042.acme.local", "pc-042.acme.local"),
])
def test_names_are_encoded_as_a_browser_does(name, encoded):
    assert host_problem(name) == ""
    assert ascii_host(name) == encoded


def test_what_cannot_be_encoded_is_refused_with_the_reason():
    assert "international name" in host_problem("ü" * 70 + ".de")
    with pytest.raises(InputError, match="not a valid host name"):
        parse_target("drucker\u200b-büro..de:631")


def test_every_target_parser_encodes():
    assert parse_target("drucker-büro.acme.local:631").host == ENCODED
    assert parse_target("drucker-büro.acme.local:631").text == "drucker-büro.acme.local:631"
    assert {t.host for t in parse_mail_target("mail.büro.de")} == {"mail.xn--bro-hoa.de"}
    assert parse_mail_target("submission://mail.büro.de:587")[0].host == "mail.xn--bro-hoa.de"
    assert parse_printer_target("drucker-büro.acme.local").host == ENCODED
    assert parse_printer_target("ipp://drucker-büro.acme.local/ipp/print").host == ENCODED
    assert parse_host("ssh://ann@drucker-büro.acme.local").hostname == ENCODED


def test_reach_takes_an_international_name_on_the_command_line(cli):
    r = cli("diag", "reach", "drucker-büro.invalid:631", "--no-probe", "--json")
    assert r.code != 2, r.err  # not refused as input
