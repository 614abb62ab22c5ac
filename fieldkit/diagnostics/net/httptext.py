"""The words of the ``http`` check: a summary and a first-level tip for each way a web
request goes wrong (kept apart from the probe, as ``reachtext`` and ``mail.texts`` are)."""

from __future__ import annotations

from fieldkit.diagnostics.model import Status
from fieldkit.diagnostics.net import tls

# no HTTP answer, or a chain that cannot be followed: (summary, hint)
TROUBLE = {
    "dns": ("name lookup for {host} failed ({detail})",
            "The name does not resolve here: check its spelling, then run 'fieldkit diag -c "
            "dns' to see whether DNS works at all."),
    "refused": ("connection to {host} port {port} refused",
                "Nothing answers on port {port} (web server down, or the wrong port), or a "
                "firewall rejects it: check with 'fieldkit diag reach {hostport}'; if the "
                "port is right, escalate to the server's admin."),
    "timeout": ("no answer from {host} port {port} (timeout)",
                "The connection attempt gets no answer: the server is down or a firewall drops "
                "the traffic. Check with 'fieldkit diag reach {hostport}', then escalate."),
    "no-answer": ("{host} port {port} accepts the connection but sends no answer (timeout)",
                  "The server accepts connections but does not answer: it hangs or is "
                  "overloaded (escalate to its admin), or something in between swallows the "
                  "request."),
    "tls": ("TLS handshake with {host} failed ({detail})",
            "No secure connection could be made: the port may speak plain http (try http://), "
            "or the server offers only outdated TLS versions. Escalate with this finding."),
    "not-http": ("{host} port {port} gave no HTTP answer ({detail})",
                 "Something answers on this port, but not a web server as asked: check the "
                 "port and http:// versus https://."),
    "unreachable": ("{host} port {port} cannot be reached ({detail})",
                    "Check this machine's network connection ('fieldkit diag -c network'), then "
                    "'fieldkit diag reach {hostport}'."),
    "proxy-setting": ("the proxy setting cannot be used ({detail})",
                      "Fix or remove the http_proxy/https_proxy setting in the environment, "
                      "or ask the network admin for the right proxy address."),
    "loop": ("redirect loop: {url} sends back to an address already visited",
             "The site redirects in a circle (often a login or cookie problem on the server): "
             "escalate to the site's admin with this chain."),
    "too-many": ("more than {count} redirects, stopped at {url}",
                 "The site redirects endlessly: escalate to the site's admin with this chain."),
    "bad-location": ("{url} redirects to an address that cannot be followed (not http or "
                     "https, or malformed)",
                     "The redirect leads nowhere a browser could follow: escalate to the "
                     "site's admin with this chain."),
    "downgrade": ("redirected from https to unencrypted http",
                  "The site sends the browser from an encrypted address to an unencrypted "
                  "one: what that page shows or asks travels readable. Tell the site's admin."),
}
# the same troubles when the connection went to the proxy
TROUBLE_VIA_PROXY = {
    "dns": ("name lookup for the proxy {proxy} failed ({detail})",
            "The proxy named in the environment (http_proxy/https_proxy) does not resolve: "
            "check the proxy setting or ask the network admin."),
    "refused": ("the proxy {proxy} refuses the connection",
                "The proxy named in the environment does not answer: check the proxy setting "
                "(address and port) or ask the network admin."),
    "timeout": ("no answer from the proxy {proxy} (timeout)",
                "The proxy named in the environment cannot be reached: check the proxy setting "
                "and this machine's network connection, or ask the network admin."),
    "proxy": ("the proxy {proxy} refuses the tunnel to {hostport} ({detail})",
              "The proxy does not let this connection through: 407 means it wants a login "
              "(user:password in https_proxy, percent-encoded), 403 that the site is blocked "
              "by policy; ask the network admin."),
}
# the answer's status code (or its class): (status, hint)
STATUS_HINTS: dict[int, tuple[Status, str]] = {
    300: (Status.WARN, "The server redirects without saying where to (no Location): "
                       "escalate to the site's admin."),
    401: (Status.WARN, "The site is reachable and asks for a login: expected for a protected "
                       "page; if the user's own login fails there, check the account."),
    403: (Status.WARN, "The site is reachable but refuses this page to this user or network: "
                       "check the user's permissions, or whether the site allows this network."),
    404: (Status.WARN, "The server answers but has no such page: check the address (path) "
                       "given; a bookmark may be outdated."),
    407: (Status.FAIL, "The proxy wants a login: put user:password into http_proxy "
                       "(percent-encoded) or ask the network admin."),
    400: (Status.WARN, "The server answers but refuses the request: check the address; "
                       "escalate if it should work."),
    500: (Status.FAIL, "The web server (or a gateway or proxy in front of it: 502/504) answers "
                       "with an error: the problem is on the server side; escalate to its admin."),
    100: (Status.WARN, "Unexpected answer: escalate with this finding."),
}
STATUS_HINTS[410] = STATUS_HINTS[404]
CERT_WORDS = {
    "self-signed": "certificate not trusted: self-signed",
    "expired": "certificate expired",
    "not-yet-valid": "certificate not yet valid",
    "hostname-mismatch": "certificate is for another name",
    "untrusted": "certificate not trusted: unknown issuer",
    "chain-incomplete": "certificate chain incomplete",
    "error": "certificate cannot be verified",
}
TLS_HINTS = {
    **tls.VERIFY_HINTS,
    "self-signed": "The site presents a self-signed certificate: browsers warn or refuse. A "
                   "certificate from a trusted CA belongs on the server (escalate), or, for an "
                   "internal CA, pass --ca-file.",
    "hostname-mismatch": "The certificate is for another name than {host}: use a name the "
                         "certificate lists (sans, in the evidence) in the address, or "
                         "escalate.",
    "chain-incomplete": "The server sends its own certificate but not the intermediate CA "
                        "certificate that links it to the trusted root: many clients refuse "
                        "it. The site's admin must install the full chain (escalate).",
}
INSECURE_HINT = "The page was fetched without trusting the certificate (--insecure)."
EXPIRY_HINT = ("The certificate expires in {days} days: tell the site's admin to renew it "
               "before then.")
