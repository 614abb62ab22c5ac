"""``fieldkit report``: reports across tickets; ``report time`` is the time sheet for billing."""

from __future__ import annotations

import typer

from fieldkit.i18n import N_, _

app = typer.Typer(help=N_("Reports across tickets (time for billing)."), no_args_is_help=True)


@app.command("time")
def time_(
    since: str = typer.Option(None, "--since", metavar="DATE",
                              help=N_("Work on or after DATE (YYYY-MM-DD, local).")),
    until: str = typer.Option(None, "--until", metavar="DATE",
                              help=N_("Work on or before DATE (YYYY-MM-DD, local).")),
    site: str = typer.Option(None, "--site", metavar="SITE", help=N_("Only this site.")),
    json_out: bool = typer.Option(False, "--json", help=N_("Print the rows and totals as "
                                                           "JSON.")),
    csv_out: bool = typer.Option(False, "--csv", help=N_("Print the rows as CSV.")),
) -> None:
    """Time per ticket, site and day, as billed.

    Rounded as the service report rounds it: each visit (a ticket's work on one day)
    is rounded up to [report] rounding_minutes and billed at least [report]
    minimum_minutes. Archived tickets count too.

    \b
    Examples:
      fieldkit report time --since 2026-11-01 --until 2026-11-30
      fieldkit report time --site "ACME Berlin" --csv > acme-november.csv
    """
    from fieldkit.cli import render
    from fieldkit.cli.common import store
    from fieldkit.cli.ticketreport import report_settings
    from fieldkit.errors import InputError
    from fieldkit.report import timesheet
    from fieldkit.report.rounding import hours
    from fieldkit.tickets import query

    if json_out and csv_out:
        raise InputError(_("--json and --csv exclude each other: give one"))
    first, last = _day("--since", since), _day("--until", until)
    if first and last and first > last:
        raise InputError(_("--since {since} is after --until {until}").format(
            since=since, until=until))
    rounding = report_settings().rounding
    tickets = store()
    wanted = query.Filter(site=site, archived=True,
                          since=_utc_midnight(first) if first else None)
    found = timesheet.rows(tickets.select(wanted) if tickets.exists() else [], rounding,
                           first, last, site)
    if json_out:
        render.print_json(timesheet.document(found, rounding))
    elif csv_out:
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(timesheet.CSV_FIELDS)
        writer.writerows([[getattr(r, f) for f in timesheet.CSV_FIELDS] for r in found])
    elif not found:
        print(_("no work logged in that time"))
    else:
        headers = (_("DAY"), _("REF"), _("SITE"), _("MINUTES"), _("BILLED"), _("TITLE"))
        print(render.table(headers, [(r.day, r.ref, r.site, str(r.minutes), str(r.billed),
                                      r.title) for r in found],
                           shrink=(headers[5], headers[2])))
        total = timesheet.document(found, rounding)["total"]
        print(_("total: {minutes} min worked, {billed} min billed ({hours} h)").format(
            minutes=total["minutes"], billed=total["billed"], hours=hours(total["billed"])))


def _day(flag: str, text: str | None):
    from datetime import date

    from fieldkit.errors import InputError

    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(_("{flag} {value!r}: write a date as YYYY-MM-DD").format(
            flag=flag, value=text)) from None


def _utc_midnight(day) -> str:
    from datetime import UTC, datetime, time

    moment = datetime.combine(day, time()).astimezone()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
