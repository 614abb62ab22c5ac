"""The report as one format-free document: a head, facts, sections, the signature block.

md, html and pdf walk the same :class:`Document`, so a section added here appears in all three
and the words (translated once, here) cannot differ between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldkit.i18n import _, ngettext
from fieldkit.report.model import Report, local, word
from fieldkit.report.rounding import hours


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # shares of the line, summing to 1


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...] = ()
    table: Table | None = None
    notes: tuple[str, ...] = field(default=())  # small print below the table


@dataclass(frozen=True)
class Document:
    company: tuple[str, ...]  # name, then address lines
    logo: str
    title: str
    facts: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    signed: tuple[str, ...]  # what the sign-off says, or empty
    signature: tuple[str, ...]  # the labels under the signature lines
    footer: str


def document(report: Report) -> Document:
    s = report.settings
    facts = [(_("Ticket"), report.ref + (f" (#{report.remote_id})" if report.remote_id else "")),
             (_("Subject"), report.title), (_("Customer / site"), report.site),
             (_("Requester"), " / ".join(x for x in (report.requester, report.contact) if x)),
             (_("Device"), report.asset), (_("Status"), word(report.status))]
    return Document(
        company=tuple(x for x in (s.company, *s.address.splitlines()) if x.strip()),
        logo=s.logo, title=_("Service report"),
        facts=tuple((label, value) for label, value in facts if value),
        sections=tuple(x for x in (_problem(report), _findings(report), _work(report),
                                    _checklists(report), _solution(report), _open(report))
                       if x is not None),
        signed=_signed(report),
        signature=(_("Place, date") + f": {report.place}, {report.date}",
                   _("Technician") + f": {report.technician}", _("Customer's signature")),
        footer=_("{ref}, generated {date}").format(ref=report.ref, date=report.date))


def _problem(r: Report) -> Section:
    return Section(_("Problem"), tuple(r.problem.splitlines()) or (r.title,))


def _findings(r: Report) -> Section | None:
    if not r.findings and not r.checks_ok:
        return None
    tip = _("Tip")
    rows = tuple((word(f.status), f.check, f.summary + (f"\n{tip}: {f.tip}" if f.tip else ""))
                 for f in r.findings)
    notes = (ngettext("{n} further check passed.", "{n} further checks passed.",
                      r.checks_ok).format(n=r.checks_ok),) if r.checks_ok else ()
    if not rows:
        return Section(_("Findings"), notes)
    return Section(_("Findings"), (), Table((_("Result"), _("Check"), _("Finding")), rows,
                                            (0.16, 0.22, 0.62)), notes)


def _work(r: Report) -> Section | None:
    if not r.work:
        return None
    rows = tuple((w.at, _("{n} min").format(n=w.minutes), w.text) for w in r.work)
    rule = r.settings.rounding
    how = _("rounded up to {step} minutes per visit").format(step=rule.step)
    if rule.minimum:
        how += ", " + _("at least {minimum} minutes").format(minimum=rule.minimum)
    total = _("Working time: {logged} min logged, {billed} min billed ({hours} h; {how})"
              ).format(logged=r.minutes_logged, billed=r.minutes_billed,
                       hours=hours(r.minutes_billed), how=how)
    return Section(_("Work done"), (), Table((_("When"), _("Time"), _("What was done")), rows,
                                             (0.22, 0.12, 0.66)), (total,))


def _checklists(r: Report) -> Section | None:
    if not r.checklists:
        return None
    lines = []
    for run in r.checklists:
        lines.append(f"{run.title}: {word(run.status)}")
        lines += [f"  {s.n}. {s.title}: {word(s.result)}" + (f" ({s.answer})" if s.answer
                                                             else "") for s in run.steps]
    return Section(_("Checklist results"), tuple(lines))


def _solution(r: Report) -> Section | None:
    if not r.solution:
        return None
    return Section(_("Solution"), tuple(r.solution.splitlines()))


def _open(r: Report) -> Section | None:
    if not r.still_open:
        return None
    return Section(_("Still open / escalated"), r.still_open)


def _signed(r: Report) -> tuple[str, ...]:
    so = r.signoff
    if so is None:
        return ()
    if so.pending:
        lines = [_("Signature to follow") + (f" ({so.name})" if so.name else "")]
    else:
        lines = [_("Accepted by {name} on {date}. The typed name is the signature.").format(
            name=so.name, date=local(so.at))]
    if so.comment:
        lines.append(_("Comment") + f": {so.comment}")
    if so.changed_after:
        lines.append(_("Signed before changes: the ticket changed after this signature."))
    return tuple(lines)
