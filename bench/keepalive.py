#!/usr/bin/env python3
"""What a keep-alive reverse proxy in front of RT would save fieldkit, measured on loopback.

RT's standalone server (rt-server, Debian's rt5-standalone) answers every request with
``Connection: close``: whatever the client offers, each request is a new TCP connection, and
behind TLS a new handshake. A reverse proxy (nginx here, Debian's nginx-light) can keep the
client's TLS connection open and talk to RT on the same host. This bench sends the same N
authenticated reads (``GET /REST/2.0/queue/General``, one at a time, basic auth, httpx as
fieldkit uses it) three ways:

- direct:        plain HTTP straight to rt-server (a new TCP connection per request, as today);
- proxy-fresh:   HTTPS through nginx, a new TCP + TLS connection per request (what RT behind a
                 TLS proxy that closes, or any TLS server without keep-alive, costs);
- proxy-keep:    HTTPS through nginx over one keep-alive TLS connection.

It also times bare connection set-ups (TCP, and TCP + TLS to nginx) without a request. RT's
bcrypt (cost 12 by default, as on a real server) dominates each request; on loopback a new
connection costs well under a millisecond of network, so the saving shown here is mostly
handshake CPU. Over a real link each new connection adds round trips (TCP: 1, TLS 1.3: 1 more)
that keep-alive saves on every request: multiply by the link's RTT.

    sudo python bench/keepalive.py [--requests 50] [--bcrypt-cost 12]

Last line JSON: {"requests", "bcrypt_cost", "rt_connection", "direct_ms", "proxy_fresh_ms",
"proxy_keep_ms", "saved_ms", "tcp_connect_ms", "tls_connect_ms", "connections_keep"}: median
milliseconds per request (the three ways interleaved in 5 rounds), mean per bare set-up;
saved_ms = proxy_fresh_ms - proxy_keep_ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NGINX = "/usr/sbin/nginx"
ROUNDS = 5
NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_timeout 60s;
    keepalive_requests 10000;
    upstream rt {{ server 127.0.0.1:{rt_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/server.crt;
        ssl_certificate_key {dir}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            proxy_pass http://rt;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host:$server_port;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, wait_s: float = 10) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def start_nginx(workdir: Path, rt_port: int) -> tuple[subprocess.Popen, int]:
    from tests.peers.certs import make_certs

    make_certs(workdir / "certs", ["127.0.0.1", "localhost"])
    for name in ("server.crt", "server.key"):
        shutil.copy(workdir / "certs" / name, workdir / name)
    port = free_port()
    (workdir / "nginx.conf").write_text(NGINX_CONF.format(dir=workdir, port=port,
                                                          rt_port=rt_port))
    proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_port(port)
    return proc, port


def timed_requests(client, count: int) -> tuple[list[float], set[str]]:
    """Ms per request, and the server's Connection header values seen."""
    said: set[str] = set()
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        resp = client.get("/REST/2.0/queue/General")
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, resp.text[:200]
        said.add(resp.headers.get("connection", "(none)"))
    return times, said


def connect_ms(port: int, context: ssl.SSLContext | None, count: int = 50) -> float:
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        sock = socket.create_connection(("127.0.0.1", port))
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
        times.append((time.perf_counter() - t0) * 1000)
        sock.close()
    return statistics.mean(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--bcrypt-cost", type=int, default=12)
    args = parser.parse_args()
    import httpx

    from tests.peers.rt import API_PASSWORD, API_USER, RTInstance, available

    if os.geteuid() != 0 or not available() or not os.path.exists(NGINX):
        sys.exit("bench/keepalive.py needs root, Request Tracker 5 and nginx-light "
                 "(see .ci/install-packages)")
    rt = RTInstance(bcrypt_cost=args.bcrypt_cost)
    nginx = None
    try:
        rt.start()
        with tempfile.TemporaryDirectory(prefix="fk-bench-keepalive-") as tmp:
            workdir = Path(tmp)
            nginx, port = start_nginx(workdir, rt.port)
            ca = ssl.create_default_context(cafile=str(workdir / "certs" / "ca.crt"))
            auth = (API_USER, API_PASSWORD)
            proxy = f"https://127.0.0.1:{port}"
            with httpx.Client(base_url=rt.url, auth=auth) as warm:
                timed_requests(warm, 5)  # RT's workers load their code on first use
            ports: set[int] = set()  # the client's local port: one per TCP connection

            def local_port(response) -> None:
                stream = response.extensions["network_stream"]
                ports.add(stream.get_extra_info("client_addr")[1])

            direct = httpx.Client(base_url=rt.url, auth=auth)
            fresh = httpx.Client(base_url=proxy, auth=auth, verify=ca,
                                 limits=httpx.Limits(max_keepalive_connections=0))
            keep = httpx.Client(base_url=proxy, auth=auth, verify=ca,
                                limits=httpx.Limits(keepalive_expiry=300),  # across rounds
                                event_hooks={"response": [local_port]})
            times: dict[str, list[float]] = {"direct": [], "fresh": [], "keep": []}
            rt_said: set[str] = set()
            with direct, fresh, keep:
                for _round in range(ROUNDS):  # interleaved, so that drift hits all alike
                    for name, client in (("direct", direct), ("fresh", fresh), ("keep", keep)):
                        spent, said = timed_requests(client, max(1, args.requests // ROUNDS))
                        times[name] += spent
                        if name == "direct":
                            rt_said |= said
            direct_ms, fresh_ms, keep_ms = (statistics.median(times[k])
                                            for k in ("direct", "fresh", "keep"))
            connections = len(ports)
            tcp_ms = connect_ms(rt.port, None)
            tls_ms = connect_ms(port, ca)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        rt.destroy()
    print(f"RT answers Connection: {', '.join(sorted(rt_said))}")
    print(f"direct to RT (new TCP each): {direct_ms:7.1f} ms per request")
    print(f"nginx, new TCP+TLS each:     {fresh_ms:7.1f} ms per request")
    print(f"nginx, one keep-alive TLS:   {keep_ms:7.1f} ms per request ({connections} "
          f"connection{'s' if connections != 1 else ''} for {args.requests} requests)")
    print(f"saved by keep-alive: {fresh_ms - keep_ms:.1f} ms per request on loopback "
          f"(bare set-up: TCP {tcp_ms:.2f} ms, TCP+TLS {tls_ms:.2f} ms; over a link add about "
          "2 round trips per new TLS connection)")
    print(json.dumps({"requests": args.requests, "bcrypt_cost": args.bcrypt_cost,
                      "rt_connection": sorted(rt_said), "direct_ms": round(direct_ms, 1),
                      "proxy_fresh_ms": round(fresh_ms, 1), "proxy_keep_ms": round(keep_ms, 1),
                      "saved_ms": round(fresh_ms - keep_ms, 1), "tcp_connect_ms": round(tcp_ms, 2),
                      "tls_connect_ms": round(tls_ms, 2), "connections_keep": connections}))


if __name__ == "__main__":
    main()
