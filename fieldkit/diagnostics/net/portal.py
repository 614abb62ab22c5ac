"""Captive portal and DNS hijack: is this network's Internet real, or a login page pretending?

Behind a hotel or guest Wi-Fi portal every name resolves (to the portal) and every web request
is answered (by the portal), so reach and mail see "open" everywhere and blame services that
were never reached. Two questions expose it: a lookup of a name that cannot exist (a random
label under ``.invalid``, RFC 6761) must fail with NXDOMAIN, and a known URL (Microsoft's NCSI
text by default, ``[diag] portal_url`` / ``portal_expect``) must come back unchanged - not as a
redirect to a login page, not as another page. Both send traffic: ``--no-probe`` skips them.
"""

from __future__ import annotations

from fieldkit.diagnostics.model import Finding, Status
from fieldkit.diagnostics.net import httpget, resolve
from fieldkit.diagnostics.net.reachtext import PORTAL_HINT
from fieldkit.diagnostics.registry import CheckContext, check
from fieldkit.diagnostics.wire import dns as dnswire

LOGIN_HINT = ("Captive portal: open a browser and log in (or accept the terms) on this network, "
              "then run the checks again. Until then every connection reaches the portal, not "
              "the service.")
REWRITE_HINT = ("Captive portal or a proxy that rewrites web pages: open a browser and log in "
                "to the network; on a company network, ask whether a web filter intercepts "
                "plain HTTP.")
PROXY_HINT = ("The web proxy this machine is set to use ({proxy}, from http_proxy/https_proxy or "
              "the system's proxy settings) does not get the request through: check the proxy "
              "address and, if it asks for a login, the credentials; ask the network team "
              "whether it is up.")
NO_WEB_HINT = ("No Internet web access from here: see the gateway and dns findings; on a "
               "network that reaches the Internet only through a proxy this is expected.")


@check("portal", domain="network", description="captive portal / DNS hijack (a made-up name "
       "must not resolve; a known URL must come back unchanged)", timeout_s=40.0, probes=True)
def portal(ctx: CheckContext) -> list[Finding]:
    expect = ctx.text("portal_expect")
    httpget.connectivity(ctx)  # validates the settings before any packet leaves
    config = dnswire.resolver_config()
    canary = resolve.lookup(dnswire.canary_name(), config)
    return [assess_canary(canary), assess_connectivity(httpget.connectivity(ctx), expect)]


def assess_canary(result: resolve.Resolution) -> Finding:
    addresses = [a for _f, a in result.addresses]
    data = {"name": result.host, "outcome": result.outcome, "ms": round(result.ms, 1),
            "addresses": addresses}
    if result.outcome == "nxdomain":
        return Finding("portal", "dns canary", Status.OK, "DNS says a made-up name does not "
                       "exist, as it should (no DNS hijack)", data=data)
    if result.ok:
        return Finding("portal", "dns canary", Status.FAIL,
                       f"DNS is hijacked: the made-up name {result.host} resolves to "
                       f"{', '.join(addresses)} (captive portal, ISP redirect or a "
                       "misconfigured filter)", PORTAL_HINT, data)
    return Finding("portal", "dns canary", Status.SKIP, f"cannot tell whether DNS is hijacked: "
                   f"the lookup of a made-up name got {result.outcome} (see the dns findings)",
                   data=data)


def assess_connectivity(result: httpget.Fetched, expect: str) -> Finding:
    data = {"url": result.url, "status": result.status, "location": result.location,
            "expected": expect, "body": result.body[:200], "error": result.error,
            "proxy": result.proxy or None}
    via = f" through the proxy {result.proxy}" if result.proxy else ""
    if result.error:
        return Finding("portal", result.url, Status.WARN, f"connectivity check failed{via}: "
                       f"{result.url}: {result.error}",
                       PROXY_HINT.format(proxy=result.proxy) if result.proxy else NO_WEB_HINT,
                       data)
    if result.proxy and result.status in (407, 502, 503, 504):
        what = "asks for a login" if result.status == 407 else "could not fetch it"
        return Finding("portal", result.url, Status.WARN, f"connectivity check failed: the "
                       f"proxy {result.proxy} {what} ({result.status})",
                       PROXY_HINT.format(proxy=result.proxy), data)
    if 300 <= result.status < 400:
        return Finding("portal", result.url, Status.FAIL, f"captive portal: {result.url} "
                       f"redirects ({result.status}) to {result.location or 'another page'}{via}",
                       LOGIN_HINT, data)
    if result.status != 200 or expect not in result.body:
        return Finding("portal", result.url, Status.FAIL, f"captive portal or a rewriting "
                       f"proxy: {result.url} answered {result.status} with another page than "
                       f"expected{via}", REWRITE_HINT, data)
    return Finding("portal", result.url, Status.OK, f"Internet web access confirmed{via} (the "
                   "connectivity check came back unchanged)", data=data)
