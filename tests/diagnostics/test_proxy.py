"""A network whose only way out is a web proxy: fieldkit uses it as curl and browsers do.

Topology: client (10.227.0.2, no default route, no resolver) -- veth -- proxy (10.227.0.1;
10.227.1.1, webproxy.py on 3128, resolving www.connect.test itself) -- veth -- "internet"
(10.227.1.2: webpeer.py on 80 with an SNTP server on 123). Only the proxy reaches the
internet; the client's NTP goes nowhere. A second webproxy.py on 3129 wants a login.
"""

import json
import os
import sys
from pathlib import Path

import pytest

from fieldkit.diagnostics.net import httpget
from tests.conftest import need_root, need_tool

CLIENT, PROXY_IN, PROXY_OUT, WEB = "10.227.0.2", "10.227.0.1", "10.227.1.1", "10.227.1.2"
URL = "http://www.connect.test/connecttest.txt"
PROXY = f"http://{PROXY_IN}:3128"
LOCKED = f"http://{PROXY_IN}:3129"  # wants the login bob:s3cr3t
PEERS = Path(__file__).parents[1] / "peers"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    need_root()
    need_tool("ip")
    from tests.peers.certs import make_certs
    from tests.peers.netns import Netns, veth

    certs = make_certs(tmp_path_factory.mktemp("proxy") / "certs", ["www.connect.test"])

    client, proxy, web = Netns("fkpxc"), Netns("fkpxp"), Netns("fkpxw")
    try:
        veth(proxy, f"{PROXY_IN}/24", client, f"{CLIENT}/24")
        veth(proxy, f"{PROXY_OUT}/24", web, f"{WEB}/24")
        web.start(sys.executable, str(PEERS / "webpeer.py"), WEB, "80", "ok",
                  "Microsoft Connect Test", "--ntp", "123", ready="ready")
        web.start(sys.executable, str(PEERS / "webpeer.py"), WEB, "443", "ok", "RT",
                  "--tls", str(certs / "server.crt"), str(certs / "server.key"), ready="ready")
        proxy.start(sys.executable, str(PEERS / "webproxy.py"), PROXY_IN, "3128",
                    f"www.connect.test={WEB}", ready="ready")
        proxy.start(sys.executable, str(PEERS / "webproxy.py"), PROXY_IN, "3129", "--auth",
                    "bob:s3cr3t", f"www.connect.test={WEB}", ready="ready")
        client.resolv_conf("# no resolver: only the proxy resolves\n")
        yield client, proxy
    finally:
        for ns in (client, proxy, web):
            ns.close()


def diag_json(client, home, env, *args, url=URL, extra=""):
    """`fieldkit diag ARGS --json` in the client namespace: its stdout and stderr."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[diag]\nportal_url = "{url}"\nntp_servers = ["{WEB}"]\n'
                                      'clock_timeout_s = 1.0\nportal_timeout_s = 3.0\n' + extra)
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    out = client.run(sys.executable, "-m", "fieldkit", "diag", *args, "--json", check=False,
                     env={**clean, "FIELDKIT_HOME": str(home), **env})
    assert out.stdout, out.stderr
    return out.stdout, out.stderr


def diag(client, home, env, *args, url=URL, extra=""):
    stdout, _ = diag_json(client, home, env, *args, url=url, extra=extra)
    return {f["subject"]: f for f in json.loads(stdout)["findings"]}


@pytest.mark.integration
@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY"])
def test_portal_and_clock_go_through_the_proxy(proxied, home, variable):
    client, proxy = proxied
    env = {variable: PROXY}
    # the reference: curl gets through the same proxy (curl reads only the lower-case
    # http_proxy, against httpoxy; fieldkit, like Python, Go and most tools, reads both)
    curl = client.run("curl", "-s", "-m", "5", URL, check=False,
                      env={**os.environ, "http_proxy": PROXY})
    assert curl.stdout == "Microsoft Connect Test"
    found = diag(client, home, env, "-c", "portal", "-c", "system.clock")
    web = found[URL]
    assert web["status"] == "ok" and web["data"]["proxy"] == PROXY, web
    assert f"through the proxy {PROXY}" in web["summary"]
    clock = found["clock"]
    assert clock["status"] == "ok", clock
    assert clock["data"]["source"] == f"Date of {URL} (via proxy {PROXY})"
    assert f"GET {URL}" in proxy.output(proxy.processes[0])


@pytest.mark.integration
def test_no_proxy_set_means_no_web_access_here(proxied, home):
    client, _ = proxied
    assert client.run("curl", "-s", "-m", "3", "--noproxy", "*", URL, check=False).returncode
    found = diag(client, home, {}, "-c", "portal", "-c", "system.clock")
    assert found[URL]["status"] == "warn" and found[URL]["data"]["proxy"] is None
    clock = found["clock"]  # no source reachable: only the OS's sync state can speak
    assert "source" not in clock["data"], clock
    ntp, http = clock["data"]["unavailable"]
    assert ntp == f"ntp {WEB}: [Errno 101] Network is unreachable", clock
    assert http.startswith("http: name lookup failed"), clock
    synced = clock["data"]["synchronized"]
    assert clock["status"] == {True: "ok", False: "warn", None: "skip"}[synced], clock


@pytest.mark.integration
def test_no_proxy_exempts_the_host(proxied, home):
    client, _ = proxied
    found = diag(client, home, {"http_proxy": PROXY, "no_proxy": "localhost,.connect.test"},
                 "-c", "portal")
    assert found[URL]["status"] == "warn" and found[URL]["data"]["proxy"] is None


@pytest.mark.integration
def test_https_sync_server_date_through_connect(proxied, home):
    """The sync server's Date over https goes through the proxy's CONNECT tunnel (the
    connectivity URL, exempted by no_proxy, has no way out here)."""
    client, proxy = proxied
    sync = "https://www.connect.test/"
    found = diag(client, home, {"https_proxy": PROXY, "no_proxy": WEB}, "-c", "system.clock",
                 url=f"http://{WEB}/connecttest.txt", extra=f'[sync]\nurl = "{sync}"\n')
    clock = found["clock"]
    assert clock["status"] == "ok" and clock["data"]["source"] == \
        f"Date of {sync} (via proxy {PROXY})", clock
    assert "CONNECT www.connect.test:443" in proxy.output(proxy.processes[0])


def test_proxy_settings_read_like_curl(monkeypatch):
    for key in list(os.environ):
        if "proxy" in key.lower():
            monkeypatch.delenv(key)
    assert httpget.proxy_for(URL) is None
    monkeypatch.setenv("HTTPS_PROXY", "proxy.example:8080")
    assert httpget.proxy_for(URL) is None  # https_proxy is for https:// only
    assert httpget.proxy_for("https://rt.example/").shown == "http://proxy.example:8080"
    monkeypatch.setenv("http_proxy", "http://user:p%40ss@10.0.0.1:3128/")
    proxy = httpget.proxy_for(URL)
    assert (proxy.host, proxy.port, proxy.shown) == ("10.0.0.1", 3128, "http://10.0.0.1:3128")
    assert proxy.authorization == "Basic dXNlcjpwQHNz"  # user:p@ss
    monkeypatch.setenv("NO_PROXY", "connect.test")
    assert httpget.proxy_for(URL) is None
    monkeypatch.setenv("http_proxy", "socks5://10.0.0.1:1080")
    monkeypatch.delenv("NO_PROXY")
    with pytest.raises(ValueError, match="not an http:// proxy"):
        httpget.proxy_for(URL)


def locked(password):
    return f"http://bob:{password}@{PROXY_IN}:3129"


@pytest.mark.integration
def test_proxy_login_is_sent_and_never_shown(proxied, home):
    """Finding 3: the right login gets through; a wrong one is a 407 (GET) and a failed
    CONNECT (https sync server), and neither the password nor its encoding is in the output."""
    client, proxy = proxied
    found = diag(client, home, {"http_proxy": locked("s3cr3t")}, "-c", "portal")
    assert found[URL]["status"] == "ok" and found[URL]["data"]["proxy"] == LOCKED, found[URL]
    env = {"http_proxy": locked("wr0ngpw"), "https_proxy": locked("wr0ngpw")}
    sync = "https://www.connect.test/"
    out, err = diag_json(client, home, env, "-c", "portal", "-c", "system.clock",
                         extra=f'[sync]\nurl = "{sync}"\n')
    found = {f["subject"]: f for f in json.loads(out)["findings"]}
    web = found[URL]
    assert web["status"] == "warn" and web["data"]["status"] == 407, web
    assert f"the proxy {LOCKED} asks for a login (407)" in web["summary"]
    assert "407 CONNECT www.connect.test:443" in proxy.output(proxy.processes[1])
    for secret in ("wr0ngpw", "bob:wr0ngpw", "Ym9iOndyMG5ncHc"):  # base64 of bob:wr0ngpw
        assert secret not in out and secret not in err


@pytest.mark.integration
@pytest.mark.parametrize("password", ["47/11", "s3cr/et", "pa?ss", "pa#ss"])
def test_unencoded_password_is_refused_unseen(proxied, home, password):
    """Finding 3: an unencoded / ? # in the password used to end the host part early (shown
    as http://bob:47 or urllib's "Port could not be cast ... 's3cr'"): refused, unshown."""
    client, _ = proxied
    out, err = diag_json(client, home, {"http_proxy": locked(password)}, "-c", "portal")
    web = {f["subject"]: f for f in json.loads(out)["findings"]}[URL]
    assert web["status"] == "warn" and web["data"]["proxy"] is None, web
    assert "proxy setting is not a valid URL" in web["summary"]
    for piece in {password, *password.replace("?", "/").replace("#", "/").split("/")}:
        assert f"bob:{piece}" not in out and f"'{piece}'" not in out
    assert password not in out and password not in err


@pytest.mark.parametrize("value", ["http://bob:4711/x@proxy:3128", "http://bob:s3cr/et@p:1",
                                   "http://bob:pa?ss@proxy:3128", "socks5://bob:s3cr/et@p:1080",
                                   "http://proxy:12ab", "bob:s3cr/et@proxy:3128"])
def test_malformed_proxy_value_message_is_fixed(monkeypatch, value):
    for key in list(os.environ):
        if "proxy" in key.lower():
            monkeypatch.delenv(key)
    monkeypatch.setenv("http_proxy", value)
    with pytest.raises(ValueError) as caught:
        httpget.proxy_for(URL)
    assert str(caught.value) == ("the http proxy setting is not a valid URL (a / ? # or @ in "
                                 "the user name or password must be percent-encoded: %2F %3F "
                                 "%23 %40); not shown, it may hold a password")
