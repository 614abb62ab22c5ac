"""``ticket report`` and ``ticket signoff``: the service report, and the customer accepting it.

Registered on the ``ticket`` group (see the end of ticket.py). Thin: the report's content is
fieldkit.report.model, its words fieldkit.report.layout, its formats the renderers; this module
reads config, picks the output and asks for the name on a terminal.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from fieldkit.cli.ticket import KEY, app
from fieldkit.i18n import N_, _

if TYPE_CHECKING:
    from fieldkit.report.model import Report, Settings
    from fieldkit.report.signoff import SignOff

FORMATS = ("pdf", "html", "md")


@app.command("report")
def report(
    key: str = KEY,
    fmt: str = typer.Option("pdf", "--format", "-f", metavar="pdf|html|md",
                            help=N_("What to write: a PDF to print or mail, HTML, Markdown.")),
    output: str = typer.Option(None, "--output", "-o", metavar="FILE",
                               help=N_("Where to write it (- for standard output; default: "
                                       "REF-report.pdf here for a PDF, standard output "
                                       "otherwise).")),
    lang: str = typer.Option(None, "--lang", metavar="de|en",
                             help=N_("Language of the report (default: the language of the "
                                     "run).")),
) -> None:
    """Write the service report for the customer to sign.

    Company, customer, problem, findings with tips, work done with the rounded time
    ([report] rounding_minutes), checklist results, solution, what is still open, signature
    lines. The same ticket always gives the same bytes.

    \b
    Examples:
      fieldkit ticket report FK-12                      # FK-12-report.pdf
      fieldkit ticket report FK-12 --lang de -o bericht.pdf
      fieldkit ticket report FK-12 --format md | less
    """
    from fieldkit.errors import InputError
    from fieldkit.i18n import set_language

    if fmt not in FORMATS:
        raise InputError(_("--format must be pdf, html or md (got {value!r})").format(value=fmt))
    if lang is not None:
        from fieldkit.i18n import normalise

        if normalise(lang) is None:
            raise InputError(_("--lang must be de or en (got {value!r})").format(value=lang))
        set_language(lang)
    store = _store()
    ticket = store.get(key)
    settings = report_settings()
    built = build(store, ticket, settings, _moment(ticket.updated_at or ticket.created_at))
    data = render(built, fmt)
    target = output if output is not None else (f"{ticket.ref}-report.pdf" if fmt == "pdf"
                                                else "-")
    _write(data, target)
    if target != "-":
        print(_("{ref}: report written to {path}").format(ref=ticket.ref, path=target))


@app.command("signoff")
def signoff(
    key: str = KEY,
    name: str = typer.Option(None, "--name", metavar="NAME",
                             help=N_("The customer's name, typed by the customer: it is the "
                                     "signature (asked for on a terminal).")),
    comment: str = typer.Option("", "--comment", metavar="TEXT",
                                help=N_("What the customer adds (reservations, thanks).")),
    pending: bool = typer.Option(False, "--pending",
                                 help=N_("Signature to follow (remote jobs): the report is "
                                         "attached and marked so.")),
) -> None:
    """Record the customer accepting the service report.

    The report (PDF, with the signature) is attached to the ticket and reaches the central
    system with the next sync, once; its sha256 is kept in the history. A later change to the
    ticket shows the sign-off as "signed before changes".

    \b
    Examples:
      fieldkit ticket signoff FK-12                     # shows the summary, asks for the name
      fieldkit ticket signoff FK-12 --name "Anna Müller" --comment "alles bestens"
      fieldkit ticket signoff FK-12 --pending
    """
    import hashlib
    import io
    from copy import deepcopy

    from fieldkit.cli.common import section
    from fieldkit.errors import InputError
    from fieldkit.report.signoff import SignOff
    from fieldkit.tickets.vocabulary import utc_now

    store = _store()
    ticket = store.get(key)
    settings = report_settings()
    if name is None and not pending:
        if not sys.stdin.isatty():
            raise InputError(_("--name is required (no terminal to ask the customer)"))
        name = _ask_name(store, ticket, settings)
    deepcopy(ticket).sign_off(name or "", comment, "", pending)  # refuses bad input first
    now = utc_now()
    signed = SignOff(name or "", now, comment.strip(), "", pending, changed_after=False)
    data = render(build(store, ticket, settings, _moment(now), signed), "pdf")
    digest = hashlib.sha256(data).hexdigest()
    limit = int(section("tickets")["max_attachment_mib"] * (1 << 20))
    file_name = f"{ticket.ref}-report-{now[:10]}.pdf"
    store.attach_files(key, [(file_name, io.BytesIO(data))], ["application/pdf"], limit)
    store.change(key, lambda t: t.sign_off(name or "", comment, digest, pending))
    what = (_("signature to follow") if pending
            else _("signed off by {name}").format(name=name))
    print(_("{ref}: {what}; {file} attached (sha256 {sha})").format(
        ref=ticket.ref, what=what, file=file_name, sha=digest))


def _ask_name(store, ticket, settings: Settings) -> str:
    """Show the customer what they sign, then take the typed name as the signature."""
    from fieldkit.report.layout import document
    from fieldkit.tickets.vocabulary import utc_now

    doc = document(build(store, ticket, settings, _moment(utc_now())))
    print(doc.title + ": " + ticket.ref + " " + ticket.title)
    for s in doc.sections:
        if s.title in (_("Work done"), _("Solution"), _("Still open / escalated")):
            print(f"  {s.title}: " + " / ".join(s.notes or s.lines))
    return str(typer.prompt(_("Customer, please type your name (it is your signature)")))


def report_settings() -> Settings:
    """``[report]`` with its fallbacks: the technician's name, the escalation queues."""
    from fieldkit.cli.common import config, technician
    from fieldkit.errors import ConfigError
    from fieldkit.report.model import Settings
    from fieldkit.report.rounding import Rounding

    loaded = config("report")
    values = loaded.section("report")
    try:
        queues = dict(loaded.section("sync").get("escalation_queues") or {})
    except ConfigError:  # a broken [sync] must not stop a report: the queues are a nicety
        queues = {}
    return Settings(company=values.get("company") or "", address=values.get("address") or "",
                    logo=values.get("logo") or "",
                    rounding=Rounding(values["rounding_minutes"], values["minimum_minutes"]),
                    paper=values["paper"], place=values.get("place") or "",
                    technician=values.get("technician") or technician(loaded),
                    escalation_queues={str(k): str(v) for k, v in queues.items()})


def build(store, ticket, settings: Settings, created: datetime,
          signed: SignOff | None = None) -> Report:
    from fieldkit.report.model import build as build_report

    return build_report(ticket, settings, created, store.load_run, signed)


def render(built: Report, fmt: str) -> bytes:
    from fieldkit.i18n import language
    from fieldkit.report.layout import document

    doc = document(built)
    if fmt == "pdf":
        from fieldkit.report import pdf

        return pdf.render(doc, built.created, built.settings.paper, language())
    if fmt == "html":
        from fieldkit.report import html

        return html.render(doc, language()).encode("utf-8")
    from fieldkit.report import markdown

    return markdown.render(doc).encode("utf-8")


def _write(data: bytes, target: str) -> None:
    from pathlib import Path

    from fieldkit.errors import InputError

    if target == "-":
        if data.startswith(b"%PDF") and sys.stdout.isatty():
            raise InputError(_("a PDF is not for the terminal: give --output FILE"))
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from fieldkit.tickets.storage import atomic_write

    path = Path(target).expanduser()
    try:  # the project's one writer: whole or not at all, readable by the user only (0600)
        atomic_write(path, data, path.parent)
    except OSError as exc:
        raise InputError(_("cannot write {path}: {reason}").format(
            path=target, reason=exc.strerror or exc.__class__.__name__)) from None


def _moment(utc: str) -> datetime:
    from fieldkit.tickets.vocabulary import parse_utc

    return parse_utc(utc)


def _store() -> Any:
    from fieldkit.cli.common import store

    return store()
