"""Which printers announce themselves here: an mDNS/DNS-SD browse for a bounded time.

``zeroconf`` (pure Python, the library Home Assistant uses) browses the four printer service
types without a system daemon, so it works the same with or without avahi/Bonjour, and it is
imported only here: nothing else in fieldkit pays for it. The browse sends the standard mDNS
queries on the local link and listens for ``seconds``; what answered is listed, one finding per
printer (a printer announcing IPP, IPPS and raw 9100 is one printer), not queried further.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fieldkit.diagnostics.model import Finding, Status

SERVICE_TYPES = {"_ipps._tcp.local.": "ipps", "_ipp._tcp.local.": "ipp",
                 "_pdl-datastream._tcp.local.": "socket", "_printer._tcp.local.": "lpd"}
TXT_KEYS = ("ty", "product", "rp", "pdl", "UUID", "adminurl", "note", "Color", "Duplex", "kind")
NOTHING_HINT = ("No printer announced itself on this network: printers may have mDNS/Bonjour "
                "switched off, sit in another network (VLAN, guest Wi-Fi), or a firewall blocks "
                "mDNS (UDP 5353). Ask for the printer's IP address (its configuration page shows "
                "it) and run 'fieldkit diag printer ADDRESS'.")


@dataclass
class Announcement:
    instance: str  # "Acme FieldKit Sim" (the service name without its type)
    scheme: str
    server: str
    addresses: list[str]
    port: int
    txt: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        host = self.addresses[0] if self.addresses else self.server.rstrip(".")
        host = f"[{host}]" if ":" in host else host
        path = self.txt.get("rp", "")
        return f"{self.scheme}://{host}:{self.port}{'/' + path if path else ''}"


def browse(seconds: float) -> list[Announcement]:
    """Browse every printer service type for ``seconds``; then read what answered."""
    from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

    seen: set[tuple[str, str]] = set()
    lock = threading.Lock()

    def on_change(zeroconf: Any, service_type: str, name: str,
                  state_change: ServiceStateChange) -> None:
        if state_change is not ServiceStateChange.Removed:
            with lock:
                seen.add((service_type, name))

    zc = Zeroconf()
    try:
        browser = ServiceBrowser(zc, list(SERVICE_TYPES), handlers=[on_change])
        time.sleep(seconds)
        browser.cancel()
        found = []
        for service_type, name in sorted(seen):
            info = zc.get_service_info(service_type, name, timeout=500)
            if info is None or not info.port:  # port 0: a name reserved, no such service
                continue
            found.append(Announcement(
                name[: -len(service_type) - 1] if name.endswith(service_type) else name,
                SERVICE_TYPES[service_type], info.server or "",
                sorted(info.parsed_addresses(), key=lambda a: (":" in a, a)), info.port or 0,
                {k: (v or "")[:200] for k, v in info.decoded_properties.items()
                 if k in TXT_KEYS}))
        return found
    finally:
        zc.close()


def assess_discovery(found: list[Announcement], seconds: float) -> list[Finding]:
    """One ``printer.discover`` finding per printer; a warning when nothing answered."""
    if not found:
        return [Finding("printer.discover", "mdns", Status.WARN,
                        f"no printer answered mDNS/DNS-SD within {seconds:g} s", NOTHING_HINT,
                        {"seconds": seconds, "service_types": list(SERVICE_TYPES)})]
    printers: dict[str, list[Announcement]] = {}
    for item in found:
        printers.setdefault(item.instance, []).append(item)
    order = list(SERVICE_TYPES.values())
    findings = []
    for instance, items in printers.items():
        items.sort(key=lambda a: order.index(a.scheme))
        best = items[0]
        txt = {k: v for a in reversed(items) for k, v in a.txt.items()}
        model = txt.get("ty") or txt.get("product", "").strip("()") or instance
        address = best.addresses[0] if best.addresses else best.server
        findings.append(Finding(
            "printer.discover", best.uri, Status.OK,
            f"{model} at {address} ({', '.join(a.scheme for a in items)})",
            data={"name": instance, "make_model": model, "server": best.server,
                  "addresses": best.addresses, "uuid": txt.get("UUID", ""),
                  "adminurl": txt.get("adminurl", ""), "location": txt.get("note", ""),
                  "services": [{"scheme": a.scheme, "uri": a.uri, "port": a.port, "txt": a.txt}
                               for a in items]}))
    return findings


def discover_printers(seconds: float) -> list[Finding]:
    try:
        found = browse(seconds)
    except ImportError:  # the remote probe on a bare python3
        return [Finding("printer.discover", "mdns", Status.SKIP, "needs the Python library "
                        "zeroconf, which is not installed on this machine")]
    except RuntimeError as exc:  # zeroconf: no interface with an address to browse on
        return [Finding("printer.discover", "mdns", Status.SKIP,
                        f"no network to browse for printers ({exc})", data={"error": str(exc)})]
    except OSError as exc:
        return [Finding("printer.discover", "mdns", Status.ERROR,
                        f"mDNS browsing is not possible here ({exc.strerror or exc})",
                        data={"error": str(exc)})]
    return assess_discovery(found, seconds)
