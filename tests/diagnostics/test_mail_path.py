"""Case 7: a path-MTU black hole between client and mail server (ClientHello never answered).

Topology: this session (client, 10.226.0.1, MTU 1500) -- veth -- router (10.226.0.2 with MTU
1280 on the client side; 10.226.1.1) -- veth -- server (10.226.1.2, MTU 1500). Both ends
negotiate a 1460-byte MSS, so the server's full-size handshake packets must shrink at the
router, which answers "fragmentation needed" - and its own firewall drops that ICMP. Banner,
EHLO and "220 go ahead" are small and pass; the server's certificate flight never arrives.
"""

import importlib.util
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import need, need_root, need_tool

CLIENT, ROUTER_IN, ROUTER_OUT, SERVER = "10.226.0.1", "10.226.0.2", "10.226.1.1", "10.226.1.2"
DROP_FRAG_NEEDED = """
table inet fk {
  chain output {
    type filter hook output priority 0;
    icmp type destination-unreachable icmp code frag-needed drop
  }
}
"""


@pytest.fixture(scope="module")
def black_hole(tmp_path_factory):
    need_root()
    need_tool("ip", "nft")
    need(importlib.util.find_spec("aiosmtpd") is not None, "needs aiosmtpd (the test extra)")
    from tests.peers.certs import make_certs
    from tests.peers.netns import Netns, sh, veth

    certs = make_certs(tmp_path_factory.mktemp("mtu") / "certs", ["mail.fieldkit.test", SERVER])
    router, server = Netns("fkmtr"), Netns("fkmsv")
    try:
        _, router_if = veth(None, f"{CLIENT}/24", router, f"{ROUTER_IN}/24")
        router.ip("link", "set", router_if, "mtu", "1280")
        veth(router, f"{ROUTER_OUT}/24", server, f"{SERVER}/24")
        router.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        server.ip("route", "add", "default", "via", ROUTER_OUT)
        sh("ip", "route", "add", "10.226.1.0/24", "via", ROUTER_IN)
        router.nft(DROP_FRAG_NEEDED)
        peer = str(Path(__file__).parents[1] / "peers" / "smtp_server.py")
        server.start(sys.executable, peer, SERVER, str(certs), "2587:submission:big",
                     "2465:smtps:big", ready="ready")
        yield certs, router
    finally:
        sh("ip", "route", "del", "10.226.1.0/24", check=False)
        server.close()
        router.close()


@pytest.mark.integration
def test_small_steps_pass_and_the_handshake_stalls(black_hole, proc):
    with socket.create_connection((SERVER, 2587), timeout=3) as sock:  # the path works
        assert sock.recv(100).startswith(b"220")
    t0 = time.monotonic()
    r = proc("diag", "mail", f"submission://{SERVER}:2587", f"smtps://{SERVER}:2465",
             "--ca-file", str(black_hole[0] / "ca.crt"), "--timeout", "2", "--json")
    elapsed = time.monotonic() - t0
    starttls, implicit = r.json()["findings"]
    assert starttls["status"] == "fail"
    assert "TLS handshake stalled after STARTTLS was accepted" in starttls["summary"], starttls
    assert "worked: connect, banner, EHLO, STARTTLS accepted" in starttls["summary"]
    assert starttls["data"]["steps"] == ["connect", "banner", "ehlo", "starttls"]
    assert starttls["data"]["failed_step"] == "handshake"
    assert "path-MTU black hole" in starttls["hint"] and "wrong port" not in starttls["hint"]
    assert "TLS handshake stalled after connect" in implicit["summary"], implicit
    assert r.code == 1
    assert elapsed < 8, f"one handshake timeout (2 s) per port, in parallel: {elapsed:.1f} s"


@pytest.mark.integration
def test_with_frag_needed_delivered_the_same_server_is_fine(black_hole, proc):
    """The control: let the router's ICMP through and path-MTU discovery repairs the path."""
    certs, router = black_hole
    router.run("nft", "delete", "table", "inet", "fk")
    r = proc("diag", "mail", f"submission://{SERVER}:2587", "--ca-file", str(certs / "ca.crt"),
             "--timeout", "3", "--json")
    (finding,) = r.json()["findings"]
    assert finding["status"] == "ok" and finding["data"]["tls"]["verify"] == "ok", finding
