"""``http`` verdicts against real web servers on loopback: webpeer.py (HTTP and HTTPS with the
test CA's certificates), webproxy.py as the environment's proxy, and bare sockets for the
refused and the silent port. TLS verdicts are held against openssl's own answer."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fieldkit.diagnostics.net.http import (
    MAX_REDIRECTS,
    check_http,
    merge_http_duplicates,
    parse_http_target,
    shown_url,
    skipped,
)
from fieldkit.errors import InputError
from tests.conftest import need, need_tool
from tests.diagnostics.test_mail import LOCAL, _start, free_ports

PEERS = Path(__file__).parents[1] / "peers"
PROXY_VARS = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    """The machine's own proxy settings must not steer these tests."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """name -> port of a loopback web server, plus the certificate directory under "certs"."""
    from tests.peers.certs import make_certs

    certs = make_certs(tmp_path_factory.mktemp("http") / "certs", [LOCAL])
    names = ["ok", "tls", "to_https", "loop", "hop1", "s401", "s404", "s503", "wrongname",
             "selfsigned", "soon", "expired", "to_ftp", "to_http"]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    webpeer = [sys.executable, str(PEERS / "webpeer.py"), LOCAL]

    def tls(stem):
        return ["--tls", str(certs / f"{stem}.crt"), str(certs / f"{stem}.key")]

    specs = {
        "ok": ["ok", "hello"],
        "tls": ["ok", "hello", *tls("server")],
        "to_https": ["redirect", f"https://{LOCAL}:{ports['tls']}/landing"],
        "to_ftp": ["redirect", "ftp://files.example/"],
        "to_http": ["redirect", f"http://{LOCAL}:{ports['ok']}/", *tls("server")],
        "loop": ["redirect", f"http://{LOCAL}:{ports['hop1']}/"],
        "hop1": ["redirect", f"http://{LOCAL}:{ports['loop']}/"],
        "s401": ["status", "401"], "s404": ["status", "404"], "s503": ["status", "503"],
        "wrongname": ["ok", "hello", *tls("wrongname")],
        "selfsigned": ["ok", "hello", *tls("selfsigned")],
        "soon": ["ok", "hello", *tls("soon")],
        "expired": ["ok", "hello", *tls("expired")],
    }
    procs = []
    try:
        for name, spec in specs.items():
            procs.append(_start([*webpeer, str(ports[name]), *spec]))
        yield {**ports, "certs": certs}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def one(url, **kw):
    [finding] = check_http([parse_http_target(url)], kw.pop("timeout_s", 3.0), **kw)
    return finding


def url(web, name, scheme="http", path="/"):
    return f"{scheme}://{LOCAL}:{web[name]}{path}"


def openssl_verifies(port, ca_file=None):
    """The reference: does openssl s_client accept this server's certificate for 127.0.0.1?"""
    need_tool("openssl")
    cmd = ["openssl", "s_client", "-connect", f"{LOCAL}:{port}", "-verify_return_error",
           "-verify_ip", LOCAL, "-brief"]
    if ca_file:
        cmd += ["-CAfile", str(ca_file)]
    else:  # only the system's trust store, as fieldkit without --ca-file
        cmd += ["-CApath", "/etc/ssl/certs"]
    out = subprocess.run(cmd, input="", capture_output=True, text=True, timeout=30)
    return out.returncode == 0


@pytest.mark.integration
def test_200_over_plain_http(web):
    found = one(url(web, "ok"))
    assert found.status == "ok", found
    assert found.check == "http" and found.subject == url(web, "ok")
    assert found.data["status_code"] == 200 and found.data["redirects"] == []
    assert found.data["tls"] is None and found.data["proxy"] is None
    assert 0 < found.data["ttfb_ms"] < 3000
    assert found.summary.startswith("200 OK in "), found.summary


@pytest.mark.integration
def test_redirect_chain_from_http_to_trusted_https(web):
    found = one(url(web, "to_https"), ca_file=str(web["certs"] / "ca.crt"))
    assert found.status == "ok", found
    assert found.data["redirects"] == [{"url": url(web, "to_https"), "status": 302,
                                        "location": url(web, "tls", "https", "/landing")}]
    assert found.data["final_url"] == url(web, "tls", "https", "/landing")
    assert found.data["status_code"] == 200
    assert found.data["tls"]["verify"] == "ok" and found.data["tls"]["days_left"] >= 58
    assert "1 redirect" in found.summary


@pytest.mark.integration
def test_redirect_to_an_untrusted_certificate_stops_there(web):
    found = one(url(web, "to_https"))
    assert found.status == "fail", found
    assert found.data["final_url"] == url(web, "tls", "https", "/landing")
    assert found.data["status_code"] is None  # the request was never sent over it
    assert found.data["tls"]["verify"] == "untrusted"
    assert "--ca-file" in found.hint


@pytest.mark.integration
def test_redirect_loop_fails(web):
    found = one(url(web, "loop"))
    assert found.status == "fail", found
    assert found.data["redirect_problem"] == "loop"
    assert [(h["url"], h["status"], h["location"]) for h in found.data["redirects"]] == [
        (url(web, "loop"), 302, url(web, "hop1")), (url(web, "hop1"), 302, url(web, "loop"))]
    assert found.data["final_url"] == url(web, "hop1")
    assert "redirect loop" in found.summary and found.hint


@pytest.mark.integration
def test_a_redirect_from_https_to_plain_http_warns(web):
    found = one(url(web, "to_http", "https"), ca_file=str(web["certs"] / "ca.crt"))
    assert found.status == "warn", found
    assert found.data["redirects"] == [{"url": url(web, "to_http", "https"), "status": 302,
                                        "location": url(web, "ok"), "tls_verify": "ok"}]
    assert found.data["status_code"] == 200 and found.data["tls"] is None
    assert found.summary.startswith("redirected from https to unencrypted http; 200 OK")


@pytest.mark.integration
def test_a_redirect_that_cannot_be_followed(web):
    found = one(url(web, "to_ftp"))
    assert found.status == "fail" and found.data["redirect_problem"] == "bad-location", found
    assert found.data["redirects"] == [{"url": url(web, "to_ftp"), "status": 302,
                                        "location": "ftp://files.example/"}]


@pytest.mark.integration
@pytest.mark.parametrize(("name", "code", "status"), [("s401", 401, "warn"),
                                                      ("s404", 404, "warn"),
                                                      ("s503", 503, "fail")])
def test_error_answers(web, name, code, status):
    found = one(url(web, name))
    assert (found.status, found.data["status_code"]) == (status, code), found
    assert found.summary.startswith(f"{code} "), found.summary
    assert found.hint


@pytest.mark.integration
def test_refused_port():
    [port] = free_ports(1)
    found = one(f"http://{LOCAL}:{port}/")
    assert found.status == "fail", found
    assert found.data["error"] == "refused" and found.data["status_code"] is None
    assert f"diag reach {LOCAL}:{port}" in found.hint


@pytest.mark.integration
def test_a_server_that_accepts_and_never_answers():
    silent = socket.create_server((LOCAL, 0))  # the kernel accepts; nobody ever reads
    try:
        started = time.monotonic()
        found = one(f"http://{LOCAL}:{silent.getsockname()[1]}/", timeout_s=1.0)
        took = time.monotonic() - started
    finally:
        silent.close()
    assert found.status == "fail", found
    assert found.data["error"] == "no-answer", found.data
    assert 0.9 < took < 3.0
    assert "accepts the connection but sends no answer" in found.summary


@pytest.mark.integration
def test_a_connection_attempt_nobody_answers():
    """A listener whose accept queue is full: Linux drops further SYNs, as a firewall would."""
    full = socket.socket()
    full.bind((LOCAL, 0))
    full.listen(0)
    port = full.getsockname()[1]
    waiting = [socket.socket() for _ in range(3)]
    try:
        for sock in waiting:
            sock.setblocking(False)
            sock.connect_ex((LOCAL, port))
        time.sleep(0.2)
        started = time.monotonic()
        found = one(f"http://{LOCAL}:{port}/", timeout_s=1.0)
        took = time.monotonic() - started
    finally:
        for sock in [*waiting, full]:
            sock.close()
    assert found.status == "fail", found
    assert found.data["error"] == "timeout", found.data
    assert 0.9 < took < 3.0
    assert found.summary == f"no answer from {LOCAL} port {port} (timeout)"
    assert f"diag reach {LOCAL}:{port}" in found.hint


@pytest.mark.integration
def test_untrusted_certificate_fails_as_openssl_says(web):
    found = one(url(web, "tls", "https"))
    assert openssl_verifies(web["tls"]) is False
    assert found.status == "fail", found
    assert found.data["tls"]["verify"] == "untrusted"
    assert found.data["tls"]["issuer"].endswith("O=fieldkit test")  # the facts, read anyway
    assert found.data["status_code"] is None


@pytest.mark.integration
def test_the_same_server_with_its_ca_file_is_ok_as_openssl_says(web):
    ca = web["certs"] / "ca.crt"
    found = one(url(web, "tls", "https"), ca_file=str(ca))
    assert openssl_verifies(web["tls"], ca) is True
    assert found.status == "ok", found
    assert found.data["tls"]["verify"] == "ok" and found.data["tls"]["version"] == "TLSv1.3"


@pytest.mark.integration
def test_insecure_fetches_but_warns(web):
    found = one(url(web, "selfsigned", "https"), insecure=True)
    assert found.status == "warn", found
    assert found.data["status_code"] == 200 and found.data["tls"]["verify"] == "self-signed"
    assert "--insecure" in found.summary and "--insecure" in found.hint


@pytest.mark.integration
def test_a_bad_certificate_without_insecure_is_refused(web):
    found = one(url(web, "selfsigned", "https"))
    assert found.status == "fail" and found.data["tls"]["verify"] == "self-signed", found


@pytest.mark.integration
def test_name_mismatch_as_openssl_says(web):
    ca = web["certs"] / "ca.crt"
    found = one(url(web, "wrongname", "https"), ca_file=str(ca))
    assert openssl_verifies(web["wrongname"], ca) is False
    assert openssl_verifies(web["tls"], ca) is True  # the same CA: only the name differs
    assert found.status == "fail", found
    assert found.data["tls"]["verify"] == "hostname-mismatch"
    assert found.data["tls"]["sans"] == ["other.fieldkit.test"]
    assert LOCAL in found.hint


@pytest.mark.integration
def test_a_certificate_about_to_expire_warns(web):
    found = one(url(web, "soon", "https"), ca_file=str(web["certs"] / "ca.crt"))
    assert found.status == "warn" and found.data["status_code"] == 200, found
    assert found.data["tls"]["verify"] == "ok" and found.data["tls"]["days_left"] < 6
    assert "renew" in found.hint


@pytest.mark.integration
def test_an_expired_certificate_fails(web):
    found = one(url(web, "expired", "https"))
    assert found.status == "fail" and found.data["tls"]["verify"] == "expired", found
    assert found.summary.startswith("certificate expired")


@pytest.fixture
def proxies():
    """Starts webproxy.py on loopback: start(*args) -> (URL, a function that stops that proxy
    and returns its log)."""
    procs = []

    def start(*args):
        [port] = free_ports(1)
        proc = _start([sys.executable, str(PEERS / "webproxy.py"), LOCAL, str(port), *args])
        procs.append(proc)

        seen: list[str] = []

        def log():
            if not seen:
                proc.terminate()
                seen.append(proc.communicate(timeout=10)[0])
            return seen[0]

        return f"http://{LOCAL}:{port}", log

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def proxy(proxies):
    return proxies()


@pytest.mark.integration
def test_plain_http_goes_through_the_environment_proxy(web, proxy, monkeypatch):
    address, log = proxy
    monkeypatch.setenv("http_proxy", address)
    found = one(url(web, "ok"))
    assert found.status == "ok", found
    assert found.data["proxy"] == address
    assert f"through the proxy {address}" in found.summary
    assert f"GET {url(web, 'ok')}" in log()


@pytest.mark.integration
def test_https_goes_through_the_proxy_as_a_tunnel(web, proxy, monkeypatch):
    address, log = proxy
    monkeypatch.setenv("https_proxy", address)
    found = one(url(web, "tls", "https"), ca_file=str(web["certs"] / "ca.crt"))
    assert found.status == "ok", found
    assert found.data["proxy"] == address and found.data["tls"]["verify"] == "ok"
    assert f"CONNECT {LOCAL}:{web['tls']}" in log()


@pytest.mark.integration
def test_no_proxy_exempts_the_host(web, proxy, monkeypatch):
    address, log = proxy
    monkeypatch.setenv("http_proxy", address)
    monkeypatch.setenv("no_proxy", LOCAL)
    found = one(url(web, "ok"))
    assert found.status == "ok" and found.data["proxy"] is None, found
    assert "GET" not in log()


@pytest.mark.integration
def test_a_dead_proxy_is_blamed(web, monkeypatch):
    [port] = free_ports(1)
    monkeypatch.setenv("http_proxy", f"http://{LOCAL}:{port}")
    found = one(url(web, "ok"))
    assert found.status == "fail", found
    assert found.summary == f"the proxy http://{LOCAL}:{port} refuses the connection"


@pytest.mark.integration
def test_a_proxy_that_wants_a_login(web, proxies, monkeypatch):
    address, log = proxies("--auth", "bob:s3cr3t")
    monkeypatch.setenv("http_proxy", address)
    monkeypatch.setenv("https_proxy", address)
    plain = one(url(web, "ok"))
    tunnel = one(url(web, "tls", "https"), ca_file=str(web["certs"] / "ca.crt"))
    assert (plain.status, plain.data["status_code"]) == ("fail", 407), plain
    assert "proxy wants a login" in plain.hint
    assert tunnel.status == "fail" and tunnel.data["error"] == "proxy", tunnel
    assert "407" in tunnel.summary and "407 means it wants a login" in tunnel.hint
    assert f"407 GET {url(web, 'ok')}" in log()


@pytest.mark.integration
def test_proxy_login_from_the_environment_is_used_and_never_shown(web, proxies, monkeypatch):
    address, log = proxies("--auth", "bob:s3cr3t")
    monkeypatch.setenv("http_proxy", address.replace("://", "://bob:s3cr3t@"))
    monkeypatch.setenv("https_proxy", address.replace("://", "://bob:s3cr3t@"))
    found = check_http([parse_http_target(url(web, "ok")),
                        parse_http_target(url(web, "tls", "https"))], 3.0,
                       ca_file=str(web["certs"] / "ca.crt"))
    assert [f.status for f in found] == ["ok", "ok"], found
    assert all(f.data["proxy"] == address for f in found)
    assert "s3cr3t" not in repr([f.to_dict() for f in found])
    lines = log().splitlines()
    assert f"CONNECT {LOCAL}:{web['tls']}" in lines and f"GET {url(web, 'ok')}" in lines
    assert not [line for line in lines if line.startswith("407 ")], lines


@pytest.mark.integration
def test_a_name_that_does_not_resolve():
    found = one("https://nosuch.invalid/")
    assert found.status == "fail" and found.data["error"] == "dns", found
    assert "diag -c dns" in found.hint


@pytest.mark.integration
def test_https_to_a_plain_http_port_and_back(web):
    tls_to_plain = one(url(web, "ok", "https"))
    plain_to_tls = one(url(web, "tls", "http"))
    assert tls_to_plain.status == "fail" and tls_to_plain.data["error"] == "tls", tls_to_plain
    assert "try http://" in tls_to_plain.hint
    assert plain_to_tls.status == "fail", plain_to_tls
    assert plain_to_tls.data["error"] == "not-http", plain_to_tls


@pytest.mark.integration
def test_a_proxy_setting_that_cannot_be_used(web, monkeypatch):
    monkeypatch.setenv("http_proxy", "socks5://127.0.0.1:1080")
    found = one(url(web, "ok"))
    assert found.status == "fail" and found.data["error"] == "proxy-setting", found
    assert "socks5" in found.summary and "http_proxy" in found.hint


@pytest.mark.integration
def test_ipv6_loopback():
    need(socket.has_ipv6, "needs IPv6")
    [port] = free_ports(1)
    peer = _start([sys.executable, str(PEERS / "webpeer.py"), "::1", str(port), "ok", "v6"])
    try:
        found = one(f"http://[::1]:{port}/")
        refused = one(f"http://[::1]:{free_ports(1)[0]}/")
    finally:
        peer.terminate()
        peer.wait(timeout=10)
    assert found.status == "ok" and found.data["final_url"] == f"http://[::1]:{port}/", found
    assert refused.status == "fail" and "diag reach [::1]:" in refused.hint, refused


@pytest.mark.integration
def test_targets_are_probed_concurrently_in_order(web):
    silent = socket.create_server((LOCAL, 0))
    try:
        started = time.monotonic()
        found = check_http([parse_http_target(f"http://{LOCAL}:{silent.getsockname()[1]}/"),
                            parse_http_target(url(web, "ok")),
                            parse_http_target(f"http://{LOCAL}:{silent.getsockname()[1]}/x")],
                           1.0)
        took = time.monotonic() - started
    finally:
        silent.close()
    assert [f.status for f in found] == ["fail", "ok", "fail"]
    assert took < 1.9  # two silent servers cost one timeout, not two


@pytest.mark.parametrize(("text", "expected"), [
    ("https://intranet.example.com/", ("https", "intranet.example.com", 443, "/")),
    ("http://Host.example:8080/a?b=c#frag", ("http", "Host.example", 8080, "/a?b=c")),
    ("intranet.example.com", ("https", "intranet.example.com", 443, "/")),
    ("intranet.example.com/wiki/Start", ("https", "intranet.example.com", 443, "/wiki/Start")),
    ("HTTPS://[::1]:8443/x", ("https", "::1", 8443, "/x")),
    ("https://drucker-büro.example/ä", ("https", "xn--drucker-bro-1hb.example", 443, "/%C3%A4")),
    ("127.0.0.1:8080", ("https", "127.0.0.1", 8080, "/")),
])
def test_parse_accepts(text, expected):
    target = parse_http_target(text)
    assert (target.scheme, target.host, target.port, target.path) == expected
    assert target.text == text


def test_url_omits_the_default_port():
    assert parse_http_target("example.com/a").url == "https://example.com/a"
    assert parse_http_target("http://[::1]:81").url == "http://[::1]:81/"


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty web target"),
    ("ftp://files.example.com/", "unknown scheme 'ftp'"),
    ("https:///path", "has no host"),
    ("https://host:0/", "port must be a number from 1 to 65535"),
    ("https://host:99999/", "port must be a number from 1 to 65535"),
    ("https://host:٣/", "port must be a number from 1 to 65535"),
    ("https://bad_label-.example/", "not a valid host name"),
    ("https://a b/", "spaces or control characters"),
    ("https://[::1/", "write IPv6 as [address]:port"),
    ("https://[nothex]:80/", "is not an IPv6 address"),
    ("https://fe80::1/", "write IPv6 as [address]:port"),
    ("https://" + "a" * 2000, "too long"),
])
def test_parse_refuses(text, words):
    with pytest.raises(InputError, match=words.replace("[", r"\[").replace("(", r"\(")):
        parse_http_target(text)


def test_a_password_is_refused_and_never_repeated():
    with pytest.raises(InputError) as caught:
        parse_http_target("https://bob:s3cr3t@intranet.example.com/")
    assert "password" in str(caught.value) and "s3cr3t" not in str(caught.value)
    assert "bob" not in str(caught.value)


def test_a_bad_ca_file_is_an_input_error_before_any_traffic(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        check_http([parse_http_target("https://192.0.2.1/")], 1.0, ca_file=str(tmp_path / "x"))


def test_duplicates_merge():
    targets = [parse_http_target(t) for t in ("Example.com", "https://example.com/",
                                              "http://example.com", "example.com/x")]
    assert [t.text for t in merge_http_duplicates(targets)] == [
        "Example.com", "http://example.com", "example.com/x"]


def test_redirect_evidence_hides_credentials_and_query_values():
    assert shown_url("https://u:p@sso.example/login?token=abc#x") == \
        "https://sso.example/login?..."


def test_skipped_says_why():
    found = skipped(parse_http_target("intranet.example"), "--no-probe")
    assert (found.status, found.data["state"]) == ("skip", "not-probed")
    assert found.summary == "https://intranet.example/ not fetched (--no-probe)"


@pytest.mark.integration
def test_an_endless_chain_stops_after_max_redirects():
    """/1 -> /2 -> /3 ... never twice the same address: only the count can stop it."""
    import http.server
    import threading

    class Onward(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's naming
            self.send_response(301)
            self.send_header("Location", f"/{int(self.path.strip('/') or 0) + 1}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer((LOCAL, 0), Onward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found = one(f"http://{LOCAL}:{server.server_port}/")
    finally:
        server.shutdown()
        server.server_close()
    assert found.status == "fail", found
    assert found.data["redirect_problem"] == "too-many"
    assert len(found.data["redirects"]) == MAX_REDIRECTS + 1  # the one not followed too
    assert found.data["final_url"].endswith(f"/{MAX_REDIRECTS}")


# --- the declared kind: the CLI, a checklist step and a remote fieldkit read one declaration ---

def test_diag_http_command_runs_the_kind(cli, web):
    import json

    url = f"http://{LOCAL}:{web['ok']}/"
    r = cli("diag", "http", url, url.upper().replace("HTTP://", "http://"), "--json")
    findings = json.loads(r.out)["findings"]
    assert r.code == 0, r.err
    assert [(f["check"], f["status"], f["data"]["status_code"]) for f in findings] == [
        ("http", "ok", 200)]  # the same URL twice (host case aside) is fetched once
    refused = cli("diag", "http", "--no-probe", url, "--json")
    assert json.loads(refused.out)["findings"][0]["status"] == "skip"
    bad = cli("diag", "http", "ftp://files.acme.local/")
    assert (bad.code, bad.err.strip()) == (
        2, "fieldkit: error: web target 'ftp://files.acme.local/': unknown scheme 'ftp' "
           "(use http or https)")


def test_the_kind_travels_to_a_remote_fieldkit_with_its_options():
    from fieldkit.diagnostics.jobs import Job

    job = Job("http", targets=["https://erp.acme.local/"], timeout=2.0,
              options={"ca_file": "/etc/acme.pem", "insecure": True})
    job.validate()
    assert job.argv() == ["diag", "http", "--json", "--timeout", "2", "--ca-file",
                          "/etc/acme.pem", "--insecure", "--", "https://erp.acme.local/"]


CHECKLIST = """id = "web"
title = "Web application"
category = "software"
version = 1

[[steps]]
id = "url"
kind = "input"
type = "url"
title = "Which address does the user open?"
example = "https://erp.acme.local/"

[[steps]]
id = "fetch"
kind = "check"
check = "http"
targets = ["{url}"]
title = "Fetch it"
tip = "Compare with a colleague's browser."
"""


def test_a_checklist_step_runs_the_kind_on_an_answer_of_its_input_type(cli, tmp_path, web):
    path = tmp_path / "web.toml"
    path.write_text(CHECKLIST)
    assert cli("checklist", "lint", str(path)).code == 0
    path.write_text(CHECKLIST.replace('example = "https://erp.acme.local/"',
                                      'example = "gopher://erp"'))
    lint = cli("checklist", "lint", str(path))
    assert lint.code != 0 and "unknown scheme 'gopher'" in lint.out + lint.err

    from fieldkit.checklists.checks import run_check

    url = f"http://{LOCAL}:{web['s404']}/"
    [finding] = run_check("http", [url], None, {})
    assert (finding.check, finding.status, finding.data["status_code"]) == ("http", "warn", 404)
