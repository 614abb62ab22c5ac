"""Targeted kinds (``diag reach``, ``http``, ``printer``, ``mail``), each declared once.

A targeted kind is a diagnostic that takes targets (``host:port``, a URL, a printer URI, a mail
URL) instead of looking at this machine. Its :class:`TargetedKind` says everything the rest of
fieldkit asks about it: the job runner (:mod:`fieldkit.diagnostics.jobs`: validate, run, the
argv for a remote fieldkit), the checklists (a ``check`` step naming the kind, the input type
whose answers are its targets, the default timeout) and the CLI (``fieldkit diag NAME``, built
from the declaration: its help, target argument and options). Nothing else lists the kinds.

A declaration must stay light, because ``fieldkit --help`` reads it: it names its functions as
``"module:function"`` text, imported only when called. Each domain package
(:data:`fieldkit.diagnostics.DOMAINS`) lists its kinds in ``KINDS`` in its ``__init__.py``;
``HTTP`` in ``net/__init__.py`` is the smallest complete example (added as one module pair and
that declaration). Adding a kind: write its module (parse a target, run a job), declare it
beside its siblings, add tests and docs.

``run`` is called as ``run(job, context, password)`` and returns findings; ``job.timeout`` is
already the kind's default when none was given, ``job.options`` holds the kind's options by
name, and with ``context.probe`` false it must send nothing (``job.no_probe_reason`` says why).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.model import Finding
    from fieldkit.diagnostics.registry import CheckContext

OptionType = Literal["text", "texts", "flag", "seconds"]


@dataclass(frozen=True)
class Option:
    """One option of a kind's command, as data. ``name`` is its key in ``Job.options`` (the
    option ``timeout`` is ``Job.timeout`` itself). ``remote``: passed on to a fieldkit on
    another machine; false for an option the CLI resolves here (reach's ``--profile``)."""

    name: str
    flags: tuple[str, ...]
    help: str
    metavar: str | None = None
    type: OptionType = "text"
    default: Any = None
    remote: bool = True


def timeout_option(default: float | None, help: str) -> Option:
    return Option("timeout", ("--timeout", "-t"), help, "SECONDS", "seconds", default)


@dataclass(frozen=True)
class Password:
    """A secret the kind may need (mail's login test): asked when ``option`` is given and the
    job probes; read from ``env`` first, and handed to a remote fieldkit through ``env`` on its
    stdin, never on a command line."""

    option: str
    env: str
    prompt: str  # formatted with the option's value as {value}
    missing: str  # the error when there is no terminal to ask on


@dataclass(frozen=True)
class TargetedKind:
    name: str  # the subcommand (``diag NAME``), the job kind and the checklist check name
    summary: str  # one line: the command's short help
    details: str  # the rest of its help (Click's ``\\b`` keeps an example block as written)
    targets: str  # metavar of the target argument
    targets_help: str
    parse: str  # "module:function" raising InputError for a malformed target
    run: str  # "module:function": run(job, context, password) -> list[Finding]
    input_type: str  # the checklist input type whose answers are targets of this kind
    input_words: str  # what such an answer looks like (the checklist answer template)
    input_hint: str = ""  # the short prompt for such an answer ("mail server"); else input_words
    options: tuple[Option, ...] = ()  # in the order the command's help lists them
    targets_required: bool = False  # the command refuses to run without a target
    runs_without_targets: bool = False  # no target is a job of its own (printer: the queues)
    empty_error: str = ""  # no target and none expanded: this error (reach)
    no_probe_help: str = "Send nothing: validate the targets only."
    expand: str = ""  # "module:function": expand(options) -> more targets (reach profiles)
    check_here: str = ""  # "module:function": check_here(job) before a local run (mail CA)
    password: Password | None = None

    @property
    def timeout_s(self) -> float | None:
        """The default timeout (None: the kind's settings decide, as for printers)."""
        option = next((o for o in self.options if o.name == "timeout"), None)
        return option.default if option else None

    def call(self, ref: str, *args: Any) -> Any:
        module, _, name = ref.partition(":")
        return getattr(importlib.import_module(module), name)(*args)

    def parse_target(self, text: str) -> None:
        self.call(self.parse, text)

    def findings(self, job: Job, context: CheckContext, password: str | None) -> list[Finding]:
        return list(self.call(self.run, job, context, password))


def ca_file_here(job: Job) -> None:
    """``check_here`` of the kinds with ``--ca-file`` (mail, http): a CA file given for a local
    run must exist, refused before any traffic and also under --no-probe (with --host it is a
    file on that machine, checked there)."""
    from pathlib import Path

    from fieldkit.errors import InputError

    ca_file = job.options.get("ca_file")
    if ca_file and not Path(ca_file).is_file():
        raise InputError(f"--ca-file {ca_file}: no such file")


_KINDS: dict[str, TargetedKind] = {}


def all_kinds() -> list[TargetedKind]:
    """Every declared kind, in the order of the domain packages and their ``KINDS``."""
    if not _KINDS:
        from fieldkit.diagnostics import DOMAINS

        found: dict[str, TargetedKind] = {}  # filled completely or not at all
        for domain in DOMAINS:
            package = importlib.import_module(f"fieldkit.diagnostics.{domain}")
            for kind in getattr(package, "KINDS", ()):
                if kind.name in found or kind.name == "diag":
                    raise RuntimeError(f"targeted kind {kind.name!r} declared twice")
                found[kind.name] = kind
        _KINDS.update(found)
    return list(_KINDS.values())


def names() -> tuple[str, ...]:
    return tuple(k.name for k in all_kinds())


def get(name: str) -> TargetedKind | None:
    all_kinds()
    return _KINDS.get(name)


def for_input_type(input_type: str) -> TargetedKind | None:
    """The kind whose targets answers of this checklist input type are."""
    return next((k for k in all_kinds() if k.input_type == input_type), None)
