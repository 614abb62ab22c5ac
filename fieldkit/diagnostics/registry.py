"""Declared checks and their discovery.

A check declares who it is (name, domain, platforms it runs on, tools and Python libraries it
needs, its timeout, whether it sends traffic) next to the one function that does the work, like
an sos plugin. The registry imports every module of this package once and keeps what the
decorator collected. A domain module must import even where a library its checks need is
missing (the remote probe runs on a bare ``python3``): such imports are guarded, and the check
declares the library in ``libraries`` so the runner says ``skip`` with the reason instead.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fieldkit.diagnostics.model import Finding

CheckFunc = Callable[["CheckContext"], list[Finding]]

# infrastructure modules of this package that declare no checks
_NOT_DOMAINS = {"model", "registry", "runner", "jobs", "__main__",
                # the printer domain's helpers (its checks live in printers.py)
                "ipp", "cups", "pjl", "printstate", "supplies", "printdiscover",
                "printtargets"}


@dataclass
class CheckContext:
    """What a check may consult: settings from config.toml and the run's switches."""

    settings: dict[str, Any] = field(default_factory=dict)
    probe: bool = True  # False: no active network traffic (customer policy, --no-probe)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


@dataclass(frozen=True)
class Check:
    name: str
    domain: str
    func: CheckFunc
    description: str
    platforms: tuple[str, ...] = ("linux", "darwin", "win32")
    needs: tuple[str, ...] = ()  # external tools it would like; a missing one means "skip"
    timeout_s: float = 5.0
    probes: bool = False  # sends network traffic
    default: bool = True  # part of plain `fieldkit diag`
    libraries: tuple[str, ...] = ()  # Python modules it imports; a missing one means "skip"

    def applies_here(self) -> bool:
        return sys.platform in self.platforms


_REGISTRY: dict[str, Check] = {}
_discovered = False


def check(
    name: str,
    *,
    domain: str,
    description: str,
    platforms: tuple[str, ...] = ("linux", "darwin", "win32"),
    needs: tuple[str, ...] = (),
    timeout_s: float = 5.0,
    probes: bool = False,
    default: bool = True,
    libraries: tuple[str, ...] = (),
) -> Callable[[CheckFunc], CheckFunc]:
    def register(func: CheckFunc) -> CheckFunc:
        if name in _REGISTRY:
            raise RuntimeError(f"check {name!r} declared twice")
        _REGISTRY[name] = Check(
            name, domain, func, description, platforms, needs, timeout_s, probes, default,
            libraries,
        )
        return func

    return register


def all_checks() -> list[Check]:
    global _discovered
    if not _discovered:
        package = importlib.import_module("fieldkit.diagnostics")
        for module in pkgutil.iter_modules(package.__path__):
            if module.name not in _NOT_DOMAINS and not module.name.startswith("_"):
                importlib.import_module(f"fieldkit.diagnostics.{module.name}")
        _discovered = True
    return list(_REGISTRY.values())


def select(names: list[str] | None = None, *, default_only: bool = True) -> list[Check]:
    """Checks by name or domain; with no names, every default check for this platform."""
    checks = all_checks()
    if names:
        wanted = set(names)
        chosen = [c for c in checks if c.name in wanted or c.domain in wanted]
        unknown = wanted - {c.name for c in chosen} - {c.domain for c in chosen}
        if unknown:
            from fieldkit.errors import InputError

            known = ", ".join(sorted({c.domain for c in checks} | {c.name for c in checks}))
            raise InputError(f"unknown check {', '.join(sorted(unknown))} (known: {known})")
        return chosen
    return [c for c in checks if c.default or not default_only]
