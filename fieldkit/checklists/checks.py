"""The bridge from a ``check`` step to the diagnostics: which checks exist, and running one.

A step names either a targeted check (``reach`` host:port, ``printer`` URI or host, ``mail``
URL or host), which takes targets like its ``fieldkit diag`` subcommand, or any check or domain
of the registry (``dns``, ``disk.usage``, ``network``), which takes none. Names and literal
targets are checked when the checklist is loaded, so a typo fails lint, not step 7 of a run.
The diagnostics are imported only here and only when needed: listing checklists stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fieldkit.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.kinds import TargetedKind
    from fieldkit.diagnostics.model import DiagRun, Finding

    JobRunner = Callable[[Job], DiagRun]


def unknown_check(name: str) -> str | None:
    """Why ``name`` is not a check a step can run, or None when it is one."""
    from fieldkit.diagnostics import kinds
    from fieldkit.diagnostics.registry import all_checks

    if kinds.get(name):
        return None
    checks = all_checks()
    known = {c.name for c in checks} | {c.domain for c in checks}
    if name in known:
        return None
    import difflib

    close = difflib.get_close_matches(name, sorted(known | set(kinds.names())), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"unknown check {name!r}{hint}; use {', '.join(targeted())} or a check of "
            "'fieldkit diag' (" + ", ".join(sorted(known)) + ")")


def targeted() -> tuple[str, ...]:
    """The checks a step can give targets to: the targeted kinds (``kinds.names()``)."""
    from fieldkit.diagnostics import kinds

    return kinds.names()


def target_kind(check: str) -> TargetedKind | None:
    from fieldkit.diagnostics import kinds

    return kinds.get(check)


def parse_target(check: str, text: str) -> None:
    """Raise InputError when ``text`` is not a valid target of ``check``."""
    kind = target_kind(check)
    if kind is None:
        raise InputError(f"check {check!r} takes no targets")
    kind.parse_target(text)


def run_check(check: str, targets: list[str], timeout_s: float | None,
              settings: dict[str, Any], runner: JobRunner | None = None) -> list[Finding]:
    """Run one check step's diagnostic as ``fieldkit diag`` would (the same job, so the same
    no-probe policy, duplicate merging and clock); never raises for what the network does.
    ``runner`` runs the job elsewhere (``checklist run --host``: on the user's machine over
    SSH); by default here."""
    from fieldkit.diagnostics.jobs import Job, run_job

    kind = target_kind(check)
    if kind is not None:
        job = Job(check, targets=list(targets), settings=settings,
                  timeout=timeout_s or kind.timeout_s)
    else:
        job = Job("diag", checks=[check], settings=settings)
    return (runner or run_job)(job).findings


def verdict(findings: list[dict[str, Any]]) -> str:
    """The step's result from its findings: the worst status; only skips (or none): skip."""
    from fieldkit.diagnostics.model import worst

    return str(worst(f["status"] for f in findings))
