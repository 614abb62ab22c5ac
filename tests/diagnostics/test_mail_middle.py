"""STARTTLS that goes wrong between "offered" and "encrypted", beside swaks' and openssl's word.

Peers on loopback: aiosmtpd answering STARTTLS with 454 (Postfix's "TLS not available due to
local problem"), the same healthy aiosmtpd behind an SMTP-inspecting firewall that masks the
EHLO line as XXXXXXXA (Cisco ESMTP inspection) on port 587, and a server that answers
"220 Ready to start TLS" and hangs up.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need, need_root, need_tool
from tests.diagnostics.test_mail import LOCAL, _start, free_ports, one

FIREWALL = "127.0.0.17"  # the masking proxy listens on the real submission port here
PEERS = Path(__file__).parents[1] / "peers"


@pytest.fixture(scope="module")
def middle(tmp_path_factory):
    need_root()
    need(importlib.util.find_spec("aiosmtpd") is not None, "needs aiosmtpd (the test extra)")
    from tests.peers.certs import make_certs

    certs = make_certs(tmp_path_factory.mktemp("middle") / "certs", ["localhost", LOCAL])
    healthy, notls, cut = free_ports(3)
    procs = []
    try:
        procs.append(_start([sys.executable, str(PEERS / "smtp_server.py"), LOCAL, str(certs),
                             f"{healthy}:submission", f"{notls}:notls"]))
        procs.append(_start([sys.executable, str(PEERS / "smtpmiddle.py"), FIREWALL,
                             f"587:mask:{LOCAL}:{healthy}"]))
        procs.append(_start([sys.executable, str(PEERS / "smtpmiddle.py"), LOCAL,
                             f"{cut}:cut"]))
        yield {"certs": certs, "healthy": healthy, "notls": notls, "cut": cut}
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


def swaks(port, server=LOCAL):
    """swaks' own account of the dialogue (`--tls`: STARTTLS required)."""
    need_tool("swaks")  # the reference: locally a skip without it, in CI a failure
    out = subprocess.run(["swaks", "--server", server, "--port", str(port), "--tls",
                          "--quit-after", "TLS", "--timeout", "5"], capture_output=True,
                         text=True, timeout=30)
    return out.stdout + out.stderr


@pytest.mark.integration
def test_starttls_refused_with_454_is_a_server_tls_problem(middle, proc):
    f = one(proc, f"submission://{LOCAL}:{middle['notls']}")
    assert f["status"] == "fail" and f["data"]["failed_step"] == "starttls", f
    assert "accepted failed" not in f["summary"]
    assert "refuses STARTTLS" in f["summary"] and "454 4.7.0 TLS not available" in f["summary"]
    assert "wrong port" not in f["hint"] and "mail admin" in f["hint"]
    assert f["data"]["steps"] == ["connect", "banner", "ehlo"]
    told = swaks(middle["notls"])  # the reference says the same: the server refused TLS
    assert "454 4.7.0 TLS not available" in told and "STARTTLS attempted but failed" in told


@pytest.mark.integration
def test_starttls_masked_by_an_inspecting_firewall_is_named(middle, proc):
    f = one(proc, f"submission://{FIREWALL}")
    assert f["data"]["port"] == 587 and f["data"]["starttls"] is False
    assert f["data"]["masked_capabilities"] == ["XXXXXXXA"], f
    assert "firewall" in f["summary"] and "XXXXXXXA" in f["summary"]
    assert "465 or 587" not in f["hint"] and "ESMTP inspection" in f["hint"]
    assert f["status"] == "fail"
    # the same server without the firewall in between offers STARTTLS
    direct = one(proc, f"submission://{LOCAL}:{middle['healthy']}", "--ca-file",
                 str(middle["certs"] / "ca.crt"))
    assert direct["status"] == "ok" and direct["data"]["starttls"] is True, direct
    told = swaks(587, FIREWALL)
    assert "250-XXXXXXXA" in told and "Host did not advertise STARTTLS" in told


@pytest.mark.integration
def test_connection_cut_after_starttls_is_not_called_a_version_mismatch(middle, proc):
    f = one(proc, f"submission://{LOCAL}:{middle['cut']}")
    assert f["status"] == "fail" and f["data"]["failed_step"] == "handshake", f
    assert "cut" in f["summary"] and "after STARTTLS" in f["summary"]
    assert "version" not in f["summary"] + f["hint"], f
    assert f["data"]["tls"]["offered_versions"] == []
    need_tool("openssl")  # openssl sees the same: no TLS answer at all
    out = subprocess.run(["openssl", "s_client", "-connect", f"{LOCAL}:{middle['cut']}",
                          "-starttls", "smtp"], input="", capture_output=True, text=True,
                         timeout=30)
    assert out.returncode != 0 and "no peer certificate available" in out.stdout


@pytest.mark.parametrize(("reason", "words"), [
    ("TLSV1_ALERT_PROTOCOL_VERSION", "no TLS version in common"),
    ("SSLV3_ALERT_HANDSHAKE_FAILURE", "TLS handshake failed (SSLV3_ALERT_HANDSHAKE_FAILURE)"),
])
def test_version_mismatch_only_with_evidence(reason, words):
    """A protocol_version alert is evidence of a version mismatch; a plain handshake failure
    alert is not, and its hint must not guess one."""
    import ssl

    from fieldkit.diagnostics.mail import server as mail
    from fieldkit.diagnostics.mail.proto import DialogueError, Session
    from fieldkit.diagnostics.net.reach import Probe
    from fieldkit.diagnostics.net.targets import Target

    session = Session(steps=["connect", "banner", "ehlo", "starttls"], current="handshake",
                      tls={"offered_versions": []})
    alert = ssl.SSLError(1, f"[SSL: {reason}] alert")
    alert.reason = reason
    (target,) = mail.parse_mail_target("submission://192.0.2.1")
    probe = Probe(Target(target.text, target.host, target.port), "open", "", 1.0, "192.0.2.1")
    finding = mail.broken(target, probe, DialogueError(session, alert))
    assert words in finding.summary, finding
    assert ("version" in finding.hint) == (reason == "TLSV1_ALERT_PROTOCOL_VERSION")
