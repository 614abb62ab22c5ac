"""Declared checks and their discovery.

A check declares who it is (name, domain, platforms it runs on, tools and Python libraries it
needs, its timeout, whether it sends traffic) next to the one function that does the work, like
an sos plugin. The registry imports every module of the domain packages
(:data:`fieldkit.diagnostics.DOMAINS`) once and keeps what the decorator collected; a module
there that declares no check (a helper) costs one import and nothing else, so no list says
which is which. A domain module must import even where a library its checks need is missing
(the remote probe runs on a bare ``python3``): such imports are guarded, and the check declares
the library in ``libraries`` so the runner says ``skip`` with the reason instead.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fieldkit.diagnostics import DOMAINS
from fieldkit.diagnostics.model import Finding

CheckFunc = Callable[["CheckContext"], list[Finding]]
T = TypeVar("T")



@dataclass
class CheckContext:
    """What a check may consult: settings from config.toml ([diag]) and the run's switches.

    The typed readers (:meth:`number`, :meth:`text`, :meth:`texts`, :meth:`flag`) take the
    default and the allowed range from ``fieldkit.configschema`` (one place for every key) and
    check the value where it is read: a wrong one raises :class:`~fieldkit.errors.ConfigError`
    naming the key, which the runner reports as that check's ``error``.
    """

    settings: dict[str, Any] = field(default_factory=dict)
    probe: bool = True  # False: no active network traffic (customer policy, --no-probe)
    sync_url: str = ""  # the sync server: one more outside time source for the clock check
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def number(self, key: str) -> float | None:
        value = self._checked(key)
        return None if value is None else float(value)

    def text(self, key: str) -> str:
        return str(self._checked(key))

    def texts(self, key: str) -> list[str]:
        return list(self._checked(key))

    def flag(self, key: str) -> bool:
        return bool(self._checked(key))

    def _checked(self, key: str) -> Any:
        """The value, or the schema's default; checked against the one schema of config.toml
        (a context built from a plain dict, as in tests, gets the same checks)."""
        from fieldkit.configschema import check_value, settings_of

        setting = settings_of("diag")[key]
        value = self.settings.get(key)
        return setting.default if value is None else check_value(setting, value)

    def shared(self, key: str, produce: Callable[[], T]) -> T:
        """One result per run for work several checks need (one HTTP request, not two)."""
        with self._lock:
            slot = self._shared.setdefault(key, [threading.Lock(), None, False])
        with slot[0]:
            if not slot[2]:
                slot[1], slot[2] = produce(), True
            return slot[1]


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
        # by module name across the domains: a run lists its findings in the same order as
        # when the modules sat in one folder (clock, disk, dns, ... system)
        for name, package in sorted(
            (module.name, domain)
            for domain in DOMAINS
            for module in pkgutil.iter_modules(
                importlib.import_module(f"fieldkit.diagnostics.{domain}").__path__)
        ):
            importlib.import_module(f"fieldkit.diagnostics.{package}.{name}")
        _discovered = True
    return list(_REGISTRY.values())


def select(names: list[str] | None = None, *, default_only: bool = True) -> list[Check]:
    """Checks by name or domain; with no names, every default check for this platform."""
    checks = all_checks()
    if names:
        wanted = {name.strip().lower() for name in names}  # `--check System` works too
        chosen = [c for c in checks if c.name.lower() in wanted or c.domain.lower() in wanted]
        unknown = wanted - {c.name.lower() for c in chosen} - {c.domain.lower() for c in chosen}
        if unknown:
            from fieldkit.errors import InputError

            known = ", ".join(sorted({c.domain for c in checks} | {c.name for c in checks}))
            raise InputError(f"unknown check {', '.join(sorted(unknown))} (known: {known})")
        return chosen
    return [c for c in checks if c.default or not default_only]
