"""The network: interfaces (``nics``), default gateway (``gateway``), name resolution (``dns``),
captive portal (``portal``), and the targeted ``diag reach`` (``reach``) and ``diag http``
(``http``, its words in ``httptext``). Beside them what they
share: the system resolver's view (``resolve``), the non-blocking connect (``connect``), which hop
to blame (``route``), target parsing (``targets``), the colleague's words for each state
(``reachtext``), the TLS verdict (``tls``) and one plain HTTP GET (``httpget``). The registry
imports every module here; a module without ``@check`` declares nothing and costs one import.
"""

from __future__ import annotations

from typing import Any

from fieldkit.diagnostics.kinds import Option, TargetedKind, timeout_option


def profile_targets(options: dict[str, Any]) -> list[str]:
    """``--profile NAME``: the targets of the technician's named lists (read here, also for a
    remote run, so the remote needs none of them)."""
    from fieldkit.config import home
    from fieldkit.diagnostics.profiles import load_profile

    return [t for name in options.get("profiles") or [] for t in load_profile(name, home()).targets]


REACH = TargetedKind(
    "reach",
    "Can this machine (or --host) reach HOST:PORT?",
    "Every target is probed at once, so a sweep costs about one timeout. States follow nmap:\n"
    "open, closed, filtered, unreachable, unresolved, each with the reason.\n\n"
    "\b\nExamples:\n"
    "  fieldkit diag reach erp.acme.local:1433 files.acme.local:445 --timeout 2\n"
    "  fieldkit diag reach --profile microsoft365\n"
    "  fieldkit diag reach files.acme.local:445 --host ssh://pc-042.acme.local",
    targets="HOST:PORT...", targets_help="host:port or [v6]:port",
    parse="fieldkit.diagnostics.net.reach:parse_target",
    run="fieldkit.diagnostics.net.reach:run",
    input_type="host-port", input_words="host:port",
    options=(timeout_option(3.0, "Seconds to wait per target."),
             Option("profiles", ("--profile", "-p"), "Add a named target list (repeatable).",
                    "NAME", "texts", remote=False)),
    empty_error="give at least one target (host:port) or --profile NAME",
    expand="fieldkit.diagnostics.net:profile_targets",
)
HTTP = TargetedKind(
    "http",
    "Does this web address answer? Status, redirects, TLS, speed.",
    "Every URL is fetched at once and its redirects followed (at most 10), through the proxy\n"
    "the environment names (http_proxy, https_proxy, no_proxy). A bare host means https.\n\n"
    "\b\nExamples:\n"
    "  fieldkit diag http https://erp.acme.local/login intranet.acme.local\n"
    "  fieldkit diag http https://nas.acme.local:5001/ --ca-file acme-root.pem\n"
    "  fieldkit diag http https://erp.acme.local/ --host ssh://pc-042.acme.local",
    targets="URL...", targets_help="http:// or https:// URL, or a host (https)",
    parse="fieldkit.diagnostics.net.http:parse_http_target",
    run="fieldkit.diagnostics.net.http:run",
    input_type="url", input_words="https://host[:port]/path", input_hint="URL",
    options=(timeout_option(5.0, "Seconds per connection step and answer."),
             Option("ca_file", ("--ca-file",), "Also trust this CA (PEM), e.g. an internal "
                    "company CA (with --host: a file on that machine).", "PEM"),
             Option("insecure", ("--insecure", "-k"), "Fetch even when the certificate is "
                    "not trusted (the finding says so and stays at most warn).", type="flag",
                    default=False)),
    targets_required=True,
    check_here="fieldkit.diagnostics.kinds:ca_file_here",
)
KINDS = (REACH, HTTP)
