"""``fieldkit ticket``: record, classify, prioritise, escalate and resolve tickets offline."""

from __future__ import annotations

import sys

import typer

from fieldkit.cli import complete, render
from fieldkit.cli.remote import HOST, IDENTITY, TRUST
from fieldkit.cli.ticketview import brief, format_ticket
from fieldkit.tickets import vocabulary as words

app = typer.Typer(
    help="Record and work tickets (offline: no network needed).", no_args_is_help=True
)



def _alternatives(values: tuple[object, ...]) -> str:
    """A vocabulary of the core as a metavar (``a|b|c``), which ``complete.of`` also offers."""
    return "|".join(str(v) for v in values)


# the help, the completion and the checks all read the ticket vocabulary (tickets/vocabulary.py)
CATEGORY_CHOICES = _alternatives(words.CATEGORIES)
SEVERITY_CHOICES = _alternatives(words.SEVERITIES)
STATUS_CHOICES = _alternatives(words.STATUSES)
OPEN_STATUS_CHOICES = _alternatives(words.OPEN_STATUSES)
LEVEL_CHOICES = _alternatives(words.LEVELS)
ESCALATION_CHOICES = _alternatives(words.ESCALATION_LEVELS)
JSON = typer.Option(False, "--json", help="Print the ticket as JSON.")
KEY = typer.Argument(..., metavar="REF", help="Ticket ref (FK-12, 12) or full id.",
                     autocompletion=complete.refs)
TEXT_HELP = "Text, or - to read standard input, or @FILE to read a file (@@ for a literal @)."


def _store():
    from fieldkit.cli.common import store

    return store()


def _emit(ticket, json_out: bool, verb: str = "") -> None:
    if json_out:
        render.print_json(ticket.to_dict())
    else:
        print(brief(ticket, verb) if verb else format_ticket(ticket))


@app.command("new")
def new(
    title: str = typer.Option(None, "--title", "-t", metavar="TEXT",
                              help="Short summary of the problem (one line)."),
    description: str = typer.Option(None, "--description", "-d", metavar="TEXT|-|@FILE",
                                    help="What the user reports. " + TEXT_HELP),
    site: str = typer.Option(None, "--site", metavar="SITE", help="Customer or site."),
    requester: str = typer.Option(None, "--requester", metavar="NAME", help="Who reported it."),
    contact: str = typer.Option(None, "--contact", metavar="PHONE|EMAIL",
                                help="How to reach the requester."),
    category: str = typer.Option("other", "--category", metavar=CATEGORY_CHOICES,
                                 autocompletion=complete.of(CATEGORY_CHOICES),
                                 help="What kind of problem."),
    impact: str = typer.Option("medium", "--impact", metavar=SEVERITY_CHOICES,
                               autocompletion=complete.of(SEVERITY_CHOICES),
                               help="How many people or how much business it affects."),
    urgency: str = typer.Option("medium", "--urgency", metavar=SEVERITY_CHOICES,
                                autocompletion=complete.of(SEVERITY_CHOICES),
                                help="How soon it must work again."),
    asset: str = typer.Option(None, "--asset", metavar="TAG", help="Hostname or inventory tag."),
    diag: bool = typer.Option(False, "--diag", help="Run diagnostics (here, or on --host) and "
                                                    "attach the run."),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
    json_out: bool = JSON,
) -> None:
    """Record a new ticket (asks for the title on a terminal).

    Priority follows the ITIL matrix of impact and urgency (P1 critical .. P5 planning).

    \b
    Examples:
      fieldkit ticket new -t "Outlook cannot send" --impact high --urgency medium
      fieldkit ticket new -t "Printer jams" --category printer -d @printer.log --diag
    """
    from fieldkit.cli.common import technician
    from fieldkit.cli.textinput import read_text
    from fieldkit.errors import InputError
    from fieldkit.tickets.model import Ticket

    if title is None:
        if not sys.stdin.isatty():
            raise InputError("--title is required (no terminal to ask for it)")
        title = typer.prompt("Title")
    ticket = Ticket.create(title, actor=technician(), category=category, impact=impact,
                           urgency=urgency, site=site, requester=requester, contact=contact,
                           asset=asset, description=read_text(description, "--description"))
    if host and not diag:
        raise InputError("--host runs the diagnostics of --diag elsewhere: give --diag too")
    run = None
    if diag:
        from fieldkit.cli.diag import run_diag

        run = run_diag(host=host, trust=trust, identity=identity).to_dict()
    _emit(_store().create(ticket, run), json_out, "created")


@app.command("list")
def list_(
    status: str = typer.Option(None, "--status", metavar=STATUS_CHOICES,
                               help="Only tickets with this status."),
    site: str = typer.Option(None, "--site", metavar="SITE", help="Only tickets of this site."),
    category: str = typer.Option(None, "--category", metavar=CATEGORY_CHOICES,
                                 autocompletion=complete.of(CATEGORY_CHOICES),
                                 help="Only tickets of this category."),
    level: int = typer.Option(None, "--level", metavar=LEVEL_CHOICES,
                              help="Only tickets at this support level."),
    since: str = typer.Option(None, "--since", metavar="DATE",
                              help="Only tickets changed since DATE (YYYY-MM-DD, local)."),
    pending: bool = typer.Option(False, "--pending", help="Only tickets not synced yet."),
    archived: bool = typer.Option(False, "--archived", help="Include archived tickets."),
    limit: int = typer.Option(None, "--limit", min=1, metavar="N",
                              help="At most N tickets (the table shows 50 by default)."),
    all_: bool = typer.Option(False, "--all", help="Every matching ticket."),
    json_out: bool = typer.Option(False, "--json", help="Print the tickets as a JSON array."),
) -> None:
    """List tickets, newest first (times in your zone).

    --json writes every matching ticket (or --limit N), one at a time.

    \b
    Examples:
      fieldkit ticket list --status new
      fieldkit ticket list --site "ACME Berlin" --since 2026-11-01
      fieldkit ticket list --pending --json
    """
    from itertools import islice

    from fieldkit.cli.ticketview import LIST_HEADERS, row_cells
    from fieldkit.tickets import query

    wanted = _filter(status, site, category, level, since, pending, archived)
    store = _store()
    found = query.rows(store, wanted) if store.exists() else iter(())
    if json_out:
        shown = found if limit is None or all_ else islice(found, limit)
        render.stream_json_array(query.documents(shown))
        return
    cap = None if all_ else (limit or 50)
    rows = [row for _shards, row in (found if cap is None else islice(found, cap))]
    if not rows:
        print("no tickets")
        return
    print(render.table(LIST_HEADERS, [row_cells(row) for row in rows],
                       shrink=("TITLE", "SITE")))
    more = sum(1 for _ in found) if cap is not None else 0
    if more:
        print(f"... {more} more (use --limit N or --all)")


@app.command("search")
def search(
    text: list[str] = typer.Argument(..., metavar="TEXT...",
                                     help="Words to find (all of them; the start of a word "
                                          "is enough, case and umlauts do not matter)."),
    site: str = typer.Option(None, "--site", metavar="SITE", help="Only tickets of this site."),
    since: str = typer.Option(None, "--since", metavar="DATE",
                              help="Only tickets changed since DATE (YYYY-MM-DD, local)."),
    limit: int = typer.Option(20, "--limit", min=1, metavar="N", help="At most N tickets."),
    json_out: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
) -> None:
    """Find tickets by words, archived ones too.

    Looks in titles, descriptions, notes, solutions, escalation reasons, diagnostic findings
    and file names; newest first, with the matching text.

    \b
    Examples:
      fieldkit ticket search "0x800CCC0F"
      fieldkit ticket search toner --site "ACME Berlin"
      fieldkit ticket search Druck Kassette 2
    """
    from fieldkit.cli.ticketview import local_time
    from fieldkit.tickets import query

    store = _store()
    wanted = _filter(None, site, None, None, since, False, True)
    hits, total = query.search(store, text, wanted, limit) if store.exists() else ([], 0)
    if json_out:
        render.print_json([{"ref": h.row.ref, "title": h.row.title, "status": h.row.status,
                            "site": h.row.site, "updated_at": h.row.updated_at,
                            "where": h.where, "snippet": h.snippet} for h in hits])
        return
    if not hits:
        print("nothing found")
        return
    print(render.table(("REF", "UPDATED", "STATUS", "SITE", "TITLE", "WHERE", "MATCH"),
                       [(h.row.ref, local_time(h.row.updated_at), h.row.status, h.row.site,
                         h.row.title, h.where, h.snippet) for h in hits], max_width=50,
                       shrink=("MATCH", "TITLE", "SITE")))
    if total > len(hits):
        print(f"... {total - len(hits)} more (use --limit N)")


def _filter(status, site, category, level, since, pending, archived):
    from fieldkit.cli.ticketview import parse_since
    from fieldkit.errors import InputError
    from fieldkit.tickets import query
    from fieldkit.tickets.vocabulary import CATEGORIES, LEVELS, STATUSES, choice, either

    if level is not None and level not in LEVELS:
        raise InputError(f"--level must be {either(LEVELS)} (got {level})")
    return query.Filter(status=choice("--status", status, STATUSES) if status else None,
                        site=site, category=choice("--category", category, CATEGORIES)
                        if category else None, level=level,
                        since=parse_since(since) if since else None, pending=pending,
                        archived=archived)


@app.command("show")
def show(key: str = KEY, json_out: bool = JSON) -> None:
    """Show one ticket: worklog, runs, files and history."""
    _emit(_store().get(key), json_out)


@app.command("edit")
def edit(
    key: str = KEY,
    title: str = typer.Option(None, "--title", "-t", metavar="TEXT", help="New summary."),
    description: str = typer.Option(None, "--description", "-d", metavar="TEXT|-|@FILE",
                                    help="New description. " + TEXT_HELP),
    site: str = typer.Option(None, "--site", metavar="SITE", help="Customer or site."),
    requester: str = typer.Option(None, "--requester", metavar="NAME", help="Who reported it."),
    contact: str = typer.Option(None, "--contact", metavar="PHONE|EMAIL",
                                help="How to reach the requester."),
    category: str = typer.Option(None, "--category", metavar=CATEGORY_CHOICES,
                                 autocompletion=complete.of(CATEGORY_CHOICES),
                                 help="What kind of problem."),
    impact: str = typer.Option(None, "--impact", metavar=SEVERITY_CHOICES,
                               autocompletion=complete.of(SEVERITY_CHOICES), help="New impact."),
    urgency: str = typer.Option(None, "--urgency", metavar=SEVERITY_CHOICES,
                                autocompletion=complete.of(SEVERITY_CHOICES),
                                help="New urgency."),
    asset: str = typer.Option(None, "--asset", metavar="TAG", help="Hostname or inventory tag."),
    status: str = typer.Option(None, "--status", metavar=OPEN_STATUS_CHOICES,
                               help="Move between the open statuses."),
    json_out: bool = JSON,
) -> None:
    """Change fields of a ticket; priority follows impact and urgency."""
    from fieldkit.cli.textinput import read_text
    from fieldkit.errors import InputError

    fields: dict[str, str | None] = dict(
        title=title, description=description, site=site, requester=requester, contact=contact,
        category=category, impact=impact, urgency=urgency, asset=asset, status=status)
    if all(value is None for value in fields.values()):
        raise InputError("nothing to change: give at least one option (see 'fieldkit ticket "
                         "edit --help')")
    fields["description"] = read_text(description, "--description")
    changed: dict = {}
    ticket = _store().change(key, lambda t: changed.update(t.edit(**fields)))
    _emit(ticket, json_out, "updated" if changed else "unchanged")


@app.command("note")
def note(
    key: str = KEY,
    text: str = typer.Argument(..., metavar="TEXT|-|@FILE",
                               help="What was done or found. " + TEXT_HELP),
    minutes: int = typer.Option(0, "--minutes", "-m", metavar="MINUTES",
                                help="Time spent, in minutes."),
    json_out: bool = JSON,
) -> None:
    """Add a worklog entry (time spent counts towards the ticket)."""
    from fieldkit.cli.textinput import read_text

    body = read_text(text, "the note") or ""
    _emit(_store().change(key, lambda ticket: ticket.add_note(body, minutes)), json_out,
          "noted")


@app.command("attach")
def attach(
    key: str = KEY,
    files: list[str] = typer.Argument(..., metavar="FILE...",
                                      help="Files to attach; - reads standard input."),
    name: str = typer.Option(None, "--name", metavar="NAME",
                             help="File name for what comes from standard input."),
    json_out: bool = typer.Option(False, "--json", help="Print the attached files as JSON."),
) -> None:
    """Attach logs, screenshots or exported configs to a ticket.

    Each file is stored once next to the ticket (0600) with its name, size, type and SHA-256,
    and reaches the central system with the next sync. Limit per file: [tickets]
    max_attachment_mib (default 20).

    \b
    Examples:
      fieldkit ticket attach FK-12 outlook.log screenshot.png
      journalctl -b | fieldkit ticket attach FK-12 - --name journal.txt
    """
    from fieldkit.cli.attach import attach_files

    ref, added = attach_files(_store(), key, files, name)
    if json_out:
        render.print_json(added)
    else:
        for meta in added:
            print(f"{ref}: attached {meta['name']} ({meta['size']} bytes, sha256 "
                  f"{meta['sha256']})")


@app.command("escalate")
def escalate(
    key: str = KEY,
    level: int = typer.Option(..., "--level", "-l", metavar=ESCALATION_CHOICES,
                              help="2 (specialists) or 3 (vendor)."),
    reason: str = typer.Option(..., "--reason", "-r", metavar="TEXT",
                               help="Why 1st level cannot fix it."),
    json_out: bool = JSON,
) -> None:
    """Hand the ticket to 2nd or 3rd level support."""
    _emit(_store().change(key, lambda ticket: ticket.escalate(level, reason)), json_out,
          "escalated")


@app.command("resolve")
def resolve(
    key: str = KEY,
    solution: str = typer.Option(..., "--solution", "-s", metavar="TEXT|-|@FILE",
                                 help="What fixed it. " + TEXT_HELP),
    force: bool = typer.Option(False, "--force",
                               help="Resolve although a checklist run has mandatory steps not "
                                    "done (the override is recorded and synced)."),
    json_out: bool = JSON,
) -> None:
    """Mark the ticket resolved with the solution."""
    from fieldkit.cli.textinput import read_text

    text = read_text(solution, "--solution") or ""
    _emit(_store().change(key, lambda t: t.resolve(text, force=force)), json_out, "resolved")


@app.command("close")
def close(key: str = KEY, json_out: bool = JSON) -> None:
    """Close a resolved ticket."""
    _emit(_store().change(key, lambda t: t.close()), json_out, "closed")


@app.command("reopen")
def reopen(key: str = KEY, json_out: bool = JSON) -> None:
    """Reopen a resolved or closed ticket.

    The earlier solution stays in the ticket's history.
    """
    _emit(_store().change(key, lambda t: t.reopen()), json_out, "reopened")


@app.command("diag")
def diag(key: str = KEY, host: str = HOST, trust: bool = TRUST, identity: str = IDENTITY,
         json_out: bool = JSON) -> None:
    """Run the diagnostics (here, or on --host) and attach the run."""
    from fieldkit.cli.diag import run_diag

    store = _store()
    # fail fast on a typo or a closed ticket, before seconds of checks
    store.get(key).refuse_run_if_closed()
    run = run_diag(host=host, trust=trust, identity=identity)
    _emit(store.attach_run(key, run.to_dict()), json_out, "diagnostics attached")


@app.command("archive")
def archive(
    older_than: int = typer.Option(30, "--older-than", min=0, metavar="DAYS",
                                   help="Only tickets closed at least this many days ago."),
    json_out: bool = typer.Option(False, "--json", help="Print what was archived and kept."),
) -> None:
    """Move closed, synced tickets out of the daily lists."""
    from datetime import UTC, datetime, timedelta

    cutoff = datetime.now(UTC) - timedelta(days=older_than)
    moved, kept = _store().archive(cutoff.isoformat(timespec="seconds").replace("+00:00", "Z"))
    if json_out:
        render.print_json({"archived": [t.to_dict() for t in moved], "kept": kept})
        return
    print(f"{len(moved)} ticket(s) archived" + (": " + ", ".join(t.ref for t in moved)
                                                if moved else ""))
    reasons: dict[str, list[str]] = {}
    for item in kept:
        reasons.setdefault(item["reason"], []).append(item["ref"])
    for reason, refs in reasons.items():
        print(f"kept {len(refs)} closed ticket(s) {reason}: {', '.join(refs[:10])}"
              + (" ..." if len(refs) > 10 else ""))
