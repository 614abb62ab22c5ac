"""Mail verdicts against real servers: aiosmtpd (plain, STARTTLS+AUTH, smtps) and dovecot."""

import importlib.util
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from fieldkit.diagnostics.mail.server import parse_mail_target
from fieldkit.errors import InputError
from tests.conftest import need, need_root, need_tool

LOCAL, HOSTSIDE, CLIENTSIDE = "127.0.0.1", "10.222.0.1", "10.222.0.2"
SMTP_KINDS = ["plain", "submission", "smtps", "smtps:selfsigned", "smtps:expired",
              "smtps:wrongname", "smtps:soon", "submission:selfsigned", "login", "tls10",
              "smtps:chain", "smtps:past"]
DAY = 86400


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind((LOCAL, 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    need_root()
    need_tool("dovecot", "ip")
    need(importlib.util.find_spec("aiosmtpd") is not None, "needs aiosmtpd (the test extra)")
    from tests.peers.certs import make_certs
    from tests.peers.dovecot import Dovecot
    from tests.peers.netns import Netns, veth

    base = tmp_path_factory.mktemp("mail")
    certs = make_certs(base / "certs", ["localhost", LOCAL, HOSTSIDE])
    ports = free_ports(len(SMTP_KINDS) + 8)
    smtp_ports = dict(zip(SMTP_KINDS, ports, strict=False))
    client = Netns("fkmail")
    smtp = dovecot = None
    try:
        veth(None, f"{HOSTSIDE}/24", client, f"{CLIENTSIDE}/24")
        specs = [f"{port}:{kind}" for kind, port in smtp_ports.items()]
        smtp = _start([sys.executable, str(Path(__file__).parents[1] / "peers" / "smtp_server.py"),
                       LOCAL, str(certs), *specs])
        n = len(SMTP_KINDS)
        mail_ports = dict(zip(["imap", "imaps", "pop3", "pop3s"], ports[n:n + 4], strict=True))
        dovecot = Dovecot(f"{LOCAL}, {HOSTSIDE}", certs / "server.crt",
                          certs / "server.key", mail_ports)
        # the outside world's time: right (the default), or 400 days behind this machine
        http_ok, ntp_ok, http_past, ntp_past = ports[-4:]
        webpeer = str(Path(__file__).parents[1] / "peers" / "webpeer.py")
        clocks = {"right": (http_ok, ntp_ok), "past": (http_past, ntp_past)}
        time_peers = [_start([sys.executable, webpeer, LOCAL, str(http_ok), "ok",
                              "Microsoft Connect Test", "--ntp", str(ntp_ok)]),
                      _start([sys.executable, webpeer, LOCAL, str(http_past), "ok",
                              "Microsoft Connect Test", "--ntp", str(ntp_past),
                              "--offset", str(-400 * DAY)])]
        yield {"certs": certs, "smtp": smtp_ports, "mail": mail_ports, "client": client,
               "smtp_proc": smtp, "clocks": clocks}
    finally:
        for peer in locals().get("time_peers", []):
            peer.terminate()
            peer.wait(timeout=10)
        if dovecot:
            dovecot.stop()
        if smtp:
            smtp.terminate()
            smtp.wait(timeout=10)
        client.close()


def _start(cmd):
    import subprocess

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    assert "ready" in line, line + proc.stdout.read()
    return proc


def clock_config(home, peers, which="right"):
    """Time sources for the clock question: peers on loopback, never the product defaults."""
    http_port, ntp_port = peers["clocks"][which]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[diag]\nntp_servers = ["{LOCAL}:{ntp_port}"]\n'
        f'portal_url = "http://{LOCAL}:{http_port}/connecttest.txt"\nclock_timeout_s = 1.0\n')


@pytest.fixture(autouse=True)
def right_clock(request, home):
    if "peers" in request.fixturenames:
        clock_config(home, request.getfixturevalue("peers"))


def run_mail(proc, *args):
    r = proc("diag", "mail", *args, "--timeout", "3", "--json")
    assert r.out, r.err
    return r.code, r.json()["findings"]


def one(proc, url, *args):
    code, findings = run_mail(proc, url, *args)
    (finding,) = findings
    return finding


@pytest.mark.integration
def test_submission_with_trusted_ca_is_ok(peers, proc):
    f = one(proc, f"submission://{LOCAL}:{peers['smtp']['submission']}", "--ca-file",
            str(peers["certs"] / "ca.crt"))
    assert f["status"] == "ok", f
    data = f["data"]
    assert data["state"] == "open" and data["starttls"] is True
    assert data["tls"]["verify"] == "ok" and data["tls"]["days_left"] >= 55
    assert data["tls"]["version"].startswith("TLSv1.")
    assert "localhost" in data["tls"]["sans"] and data["tls"]["issuer"].endswith("fieldkit test")
    assert data["plaintext_login"] is False
    assert any(c.startswith("AUTH") for c in data["capabilities"])
    assert "FieldKit-Test-submission" in data["banner"]


@pytest.mark.integration
@pytest.mark.parametrize(("kind", "use_ca", "verify", "status"), [
    ("submission", False, "untrusted", "fail"),
    ("submission:selfsigned", False, "self-signed", "fail"),
    ("smtps:selfsigned", False, "self-signed", "fail"),
    ("smtps:expired", False, "expired", "fail"),
    ("smtps:wrongname", True, "hostname-mismatch", "fail"),
    ("smtps:soon", True, "ok", "warn"),
    ("smtps", True, "ok", "ok"),
])
def test_tls_verdicts(peers, proc, kind, use_ca, verify, status):
    scheme = kind.split(":")[0]
    args = ["--ca-file", str(peers["certs"] / "ca.crt")] if use_ca else []
    f = one(proc, f"{scheme}://{LOCAL}:{peers['smtp'][kind]}", *args)
    assert (f["data"]["tls"]["verify"], f["status"]) == (verify, status), f
    assert "days_left" in f["data"]["tls"] and f["data"]["tls"]["subject"]
    if status != "ok":
        assert f["hint"]
    if kind == "smtps:soon":
        assert 3 <= f["data"]["tls"]["days_left"] <= 5 and "expires in" in f["summary"]
    if scheme == "smtps":
        assert "starttls" not in f["data"]


@pytest.mark.integration
def test_plain_smtp_without_starttls_warns(peers, proc):
    f = one(proc, f"smtp://{LOCAL}:{peers['smtp']['plain']}")
    assert f["status"] == "warn" and f["data"]["starttls"] is False
    assert f["data"]["tls"] is None and "no STARTTLS" in f["summary"]


@pytest.mark.integration
def test_imap_on_loopback_offers_plaintext_login(peers, proc):
    f = one(proc, f"imap://{LOCAL}:{peers['mail']['imap']}", "--ca-file",
            str(peers["certs"] / "ca.crt"))
    assert f["data"]["starttls"] is True and f["data"]["tls"]["verify"] == "ok"
    assert f["data"]["plaintext_login"] is True
    assert f["status"] == "warn" and "login offered without TLS" in f["summary"]


@pytest.mark.integration
def test_imap_from_another_network_has_login_disabled(peers, home):
    client = peers["client"]
    ca = str(peers["certs"] / "ca.crt")
    out = client.run(sys.executable, "-m", "fieldkit", "diag", "mail",
                     f"imap://{HOSTSIDE}:{peers['mail']['imap']}",
                     f"pop3://{HOSTSIDE}:{peers['mail']['pop3']}", "--ca-file", ca, "--json",
                     check=False, env={**os.environ, "FIELDKIT_HOME": str(home)})
    imap, pop3 = json.loads(out.stdout)["findings"]
    assert imap["data"]["plaintext_login"] is False  # dovecot said LOGINDISABLED before TLS
    assert imap["status"] == "ok", imap
    assert pop3["data"]["starttls"] is True and pop3["data"]["tls"]["verify"] == "ok"


@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["imaps", "pop3s", "pop3"])
def test_dovecot_tls_ports(peers, proc, scheme):
    f = one(proc, f"{scheme}://{LOCAL}:{peers['mail'][scheme]}", "--ca-file",
            str(peers["certs"] / "ca.crt"))
    assert f["data"]["tls"]["verify"] == "ok"
    assert f["data"]["banner"].startswith(("* OK", "+OK"))


@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["imap", "pop3"])
def test_untrusted_certificate_after_starttls_is_named(peers, proc, scheme):
    """Without the CA the STARTTLS handshake fails verification; closing the dialogue on the
    dead socket must not hide that behind 'Bad file descriptor'."""
    f = one(proc, f"{scheme}://{LOCAL}:{peers['mail'][scheme]}")
    assert f["status"] == "fail" and "unknown issuer" in f["summary"], f["summary"]
    assert f["data"]["tls"]["verify"] == "untrusted"


@pytest.mark.integration
@pytest.mark.parametrize(("password", "auth", "status"), [("s3cret", "ok", "ok"),
                                                          ("wrong", "rejected", "fail")])
def test_login(peers, proc, monkeypatch, password, auth, status):
    monkeypatch.setenv("FIELDKIT_MAIL_PASSWORD", password)
    ca = ["--ca-file", str(peers["certs"] / "ca.crt")]
    for url in (f"submission://{LOCAL}:{peers['smtp']['submission']}",
                f"imaps://{LOCAL}:{peers['mail']['imaps']}",
                f"pop3s://{LOCAL}:{peers['mail']['pop3s']}"):
        f = one(proc, url, "--user", "fieldkit", *ca)
        assert f["data"].get("auth", "").startswith(auth), f
        assert f["status"] == status


@pytest.mark.integration
def test_no_password_to_an_unverified_server(peers, proc, monkeypatch):
    monkeypatch.setenv("FIELDKIT_MAIL_PASSWORD", "s3cret")
    f = one(proc, f"smtps://{LOCAL}:{peers['smtp']['smtps:selfsigned']}", "--user", "fieldkit")
    assert f["data"]["auth"].startswith("skipped: certificate not verified")


@pytest.mark.integration
def test_bare_host_checks_all_seven_ports(peers, proc):
    code, findings = run_mail(proc, LOCAL)
    assert [f["subject"] for f in findings] == [
        f"{s}://{LOCAL}" for s in ("smtp", "submission", "smtps", "imap", "imaps", "pop3",
                                   "pop3s")]
    assert {f["data"]["port"] for f in findings} == {25, 587, 465, 143, 993, 110, 995}
    assert all(f["data"]["state"] == "closed" and f["status"] == "fail" for f in findings)
    assert code == 1


@pytest.mark.integration
def test_no_mail_was_ever_sent(peers):
    proc = peers["smtp_proc"]
    os.set_blocking(proc.stdout.fileno(), False)
    assert "DATA" not in (proc.stdout.read() or "")


@pytest.mark.parametrize("bad", ["", "ftp://x", "smtp://x:99999", "smtp://", "http://x",
                                 "imap://x/INBOX", "mail.example.com:2525", "smtp://bad host"])
def test_bad_mail_targets(bad):
    with pytest.raises(InputError):
        parse_mail_target(bad)


@pytest.mark.parametrize("bad", ["ftp://x", "smtp://x:99999", ""])
def test_bad_mail_targets_cli(cli, bad):
    r = cli("diag", "mail", bad)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1


def test_default_ports():
    (t,) = parse_mail_target("SUBMISSION://[::1]")
    assert (t.scheme, t.host, t.port) == ("submission", "::1", 587)
    assert parse_mail_target("imaps://mail.example.com:1993")[0].port == 1993


@pytest.mark.integration
def test_login_only_server_gets_login_not_plain(peers, proc, monkeypatch):
    """Case 7: smtplib negotiates the mechanism the server offers (AUTH LOGIN only here)."""
    monkeypatch.setenv("FIELDKIT_MAIL_PASSWORD", "s3cret")
    t0 = time.monotonic()
    f = one(proc, f"submission://{LOCAL}:{peers['smtp']['login']}", "--user", "fieldkit",
            "--ca-file", str(peers["certs"] / "ca.crt"))
    assert time.monotonic() - t0 < 8
    assert any("AUTH" in c and "LOGIN" in c and "PLAIN" not in c
               for c in f["data"]["capabilities"]), f
    assert f["data"]["auth"] == "ok (LOGIN)" and f["status"] == "ok", f
    assert f["data"]["steps"] == ["connect", "banner", "ehlo", "starttls", "handshake", "ehlo",
                                  "login"]


@pytest.mark.integration
def test_tls10_only_server_names_the_offered_versions(peers, proc):
    """Case 7: a TLS 1.0-only server is named as such, not a generic handshake failure."""
    t0 = time.monotonic()
    f = one(proc, f"smtps://{LOCAL}:{peers['smtp']['tls10']}", "--ca-file",
            str(peers["certs"] / "ca.crt"))
    assert f["status"] == "fail"
    assert "offers only TLS 1" in f["summary"] and "TLS 1.2 or newer" in f["summary"], f
    assert f["data"]["tls"]["offered_versions"] == ["TLSv1"]
    assert "outdated TLS" in f["hint"] and f["data"]["failed_step"] == "handshake"
    assert time.monotonic() - t0 < 10


@pytest.mark.integration
def test_missing_intermediate_reads_chain_incomplete(peers, proc):
    """Case 7: leaf signed by an intermediate the server does not send, root trusted."""
    t0 = time.monotonic()
    f = one(proc, f"smtps://{LOCAL}:{peers['smtp']['smtps:chain']}", "--ca-file",
            str(peers["certs"] / "ca.crt"))
    assert f["data"]["tls"]["verify"] == "chain-incomplete", f
    assert f["data"]["tls"]["chain_sent"] == 1
    assert "chain incomplete (the server does not send its intermediate certificate)" in \
        f["summary"]
    assert "intermediate" in f["hint"] and f["status"] == "fail"
    assert time.monotonic() - t0 < 8


@pytest.mark.integration
def test_wrong_clock_is_blamed_not_the_server(peers, proc, home):
    """Case 5: this machine is 400 days ahead of the outside world (NTP and HTTP Date say so):
    the certificate that looks expired is valid for the real date."""
    clock_config(home, peers, "past")
    t0 = time.monotonic()
    f = one(proc, f"smtps://{LOCAL}:{peers['smtp']['smtps:past']}", "--ca-file",
            str(peers["certs"] / "ca.crt"))
    assert f["data"]["tls"]["verify"] == "clock", f
    assert "clock is 400 days ahead" in f["summary"] and "only looks expired" in f["summary"]
    assert "renew" not in f["hint"] and "date and time" in f["hint"]
    assert abs(f["data"]["tls"]["clock_offset_s"] - 400 * DAY) < 5
    assert time.monotonic() - t0 < 10


@pytest.mark.integration
def test_really_expired_certificate_with_a_right_clock(peers, proc):
    f = one(proc, f"smtps://{LOCAL}:{peers['smtp']['smtps:expired']}")
    assert f["data"]["tls"]["verify"] == "expired"
    assert "clock is right" in f["summary"] and "renew" in f["hint"]


@pytest.mark.integration
def test_clock_check_sees_400_days_ahead(peers, cli, home):
    """Case 5: system.clock compares with NTP / HTTP Date instead of a floor date."""
    clock_config(home, peers, "past")
    t0 = time.monotonic()
    r = cli("diag", "-c", "system.clock", "--json")
    (f,) = r.json()["findings"]
    assert f["status"] == "fail" and "400 days ahead" in f["summary"], f
    assert f["data"]["source"].startswith("ntp ") and r.code == 1
    assert time.monotonic() - t0 < 5
    clock_config(home, peers, "right")
    (f,) = cli("diag", "-c", "system.clock", "--json").json()["findings"]
    assert f["status"] == "ok" and abs(f["data"]["offset_s"]) < 1, f


@pytest.mark.integration
def test_clock_reads_the_sync_servers_date_when_nothing_else_answers(peers, cli, home):
    """The sync server's HTTP Date is a time source too (NTP and the NCSI URL closed here)."""
    http_past = peers["clocks"]["past"][0]
    (home / "config.toml").write_text(
        f'[diag]\nntp_servers = ["{LOCAL}:9"]\nportal_url = "http://{LOCAL}:9/x"\n'
        f'clock_timeout_s = 1.0\n[sync]\nurl = "http://{LOCAL}:{http_past}/"\n')
    (f,) = cli("diag", "-c", "system.clock", "--json").json()["findings"]
    assert f["status"] == "fail" and "400 days ahead" in f["summary"], f
    assert f["data"]["source"] == f"Date of http://{LOCAL}:{http_past}/"
