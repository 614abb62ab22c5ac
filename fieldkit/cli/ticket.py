"""``fieldkit ticket``: record, classify, prioritise, escalate and resolve tickets offline."""

from __future__ import annotations

import sys

import typer

from fieldkit.cli import render
from fieldkit.cli.remote import HOST, IDENTITY, TRUST

app = typer.Typer(
    help="Record and work tickets in the local store (no network needed).", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Print the ticket as JSON.")
KEY = typer.Argument(..., metavar="ID|REF", help="Ticket ref (FK-12, 12) or full id.")


def _store():
    from fieldkit.cli.common import store

    return store()


def _emit(ticket, json_out: bool, verb: str = "") -> None:
    if json_out:
        render.print_json(ticket.to_dict())
    elif verb:
        print(
            f"{ticket.ref} {verb}: {ticket.title} "
            f"[P{ticket.priority} {ticket.priority_label}, {ticket.status}, L{ticket.level}]"
        )
    else:
        print(format_ticket(ticket))


@app.command("new")
def new(
    title: str = typer.Option(None, "--title", "-t", help="Short summary of the problem."),
    description: str = typer.Option(None, "--description", "-d"),
    site: str = typer.Option(None, "--site", help="Customer / site."),
    requester: str = typer.Option(None, "--requester", help="Who reported it."),
    contact: str = typer.Option(None, "--contact", help="Phone or e-mail of the requester."),
    category: str = typer.Option(
        "other",
        "--category",
        help="hardware, software, network, printer, email, phone, "
        "mobile, server, firewall, account, other",
    ),
    impact: str = typer.Option("medium", "--impact", help="high, medium or low"),
    urgency: str = typer.Option("medium", "--urgency", help="high, medium or low"),
    asset: str = typer.Option(None, "--asset", help="Hostname or inventory tag."),
    diag: bool = typer.Option(False, "--diag", help="Run diagnostics (here, or on --host) and "
                                                    "attach the run."),
    host: str = HOST,
    trust: bool = TRUST,
    identity: str = IDENTITY,
    json_out: bool = JSON,
) -> None:
    """Record a new ticket (prompts for the title on a terminal)."""
    from fieldkit.errors import InputError
    from fieldkit.tickets.model import Ticket

    if title is None:
        if not sys.stdin.isatty():
            raise InputError("--title is required (no terminal to ask for it)")
        title = typer.prompt("Title")
    ticket = Ticket.create(
        title,
        description=description,
        site=site,
        requester=requester,
        contact=contact,
        category=category,
        impact=impact,
        urgency=urgency,
        asset=asset,
    )
    if host and not diag:
        raise InputError("--host runs the diagnostics of --diag elsewhere: give --diag too")
    run = None
    if diag:
        from fieldkit.cli.diag import run_diag

        run = run_diag(host=host, trust=trust, identity=identity).to_dict()
    ticket = _store().create(ticket, run)
    _emit(ticket, json_out, "created")


@app.command("list")
def list_(
    status: str = typer.Option(
        None, "--status", help="new, in_progress, pending, resolved, closed"
    ),
    site: str = typer.Option(None, "--site"),
    archived: bool = typer.Option(False, "--archived", help="Include archived tickets."),
    json_out: bool = typer.Option(False, "--json", help="Print the tickets as a JSON array."),
) -> None:
    """List tickets, oldest first."""
    if status is not None:
        from fieldkit.tickets.model import STATUSES, choice

        status = choice("status", status, STATUSES)
    tickets = _store().list(status=status, site=site, archived=archived)
    if json_out:
        render.print_json([t.to_dict() for t in tickets])
        return
    if not tickets:
        print("no tickets")
        return
    rows = [
        (
            t.ref,
            f"P{t.priority}",
            t.status,
            f"L{t.level}",
            t.site,
            t.title,
            t.updated_at[:16].replace("T", " "),
        )
        for t in tickets
    ]
    print(render.table(("REF", "PRI", "STATUS", "LVL", "SITE", "TITLE", "UPDATED"), rows))


@app.command("show")
def show(key: str = KEY, json_out: bool = JSON) -> None:
    """Show one ticket with its worklog, escalations and diagnostic runs."""
    _emit(_store().get(key), json_out)


@app.command("edit")
def edit(
    key: str = KEY,
    title: str = typer.Option(None, "--title", "-t"),
    description: str = typer.Option(None, "--description", "-d"),
    site: str = typer.Option(None, "--site"),
    requester: str = typer.Option(None, "--requester"),
    contact: str = typer.Option(None, "--contact"),
    category: str = typer.Option(None, "--category"),
    impact: str = typer.Option(None, "--impact"),
    urgency: str = typer.Option(None, "--urgency"),
    asset: str = typer.Option(None, "--asset"),
    status: str = typer.Option(None, "--status", help="new, in_progress or pending"),
    json_out: bool = JSON,
) -> None:
    """Change fields of a ticket; priority follows impact and urgency."""
    fields = dict(
        title=title,
        description=description,
        site=site,
        requester=requester,
        contact=contact,
        category=category,
        impact=impact,
        urgency=urgency,
        asset=asset,
        status=status,
    )

    _emit(_store().change(key, lambda ticket: ticket.edit(**fields)), json_out, "updated")


@app.command("note")
def note(
    key: str = KEY,
    text: str = typer.Argument(..., help="What was done or found."),
    minutes: int = typer.Option(0, "--minutes", "-m", help="Time spent, in minutes."),
    json_out: bool = JSON,
) -> None:
    """Add a worklog entry (time spent counts towards the ticket)."""
    _emit(_store().change(key, lambda ticket: ticket.add_note(text, minutes)), json_out, "noted")


@app.command("escalate")
def escalate(
    key: str = KEY,
    level: int = typer.Option(..., "--level", "-l", help="2 (specialists) or 3 (vendor)."),
    reason: str = typer.Option(..., "--reason", "-r", help="Why 1st level cannot fix it."),
    json_out: bool = JSON,
) -> None:
    """Hand the ticket to 2nd or 3rd level support."""
    _emit(_store().change(key, lambda ticket: ticket.escalate(level, reason)), json_out,
          "escalated")


@app.command("resolve")
def resolve(
    key: str = KEY,
    solution: str = typer.Option(..., "--solution", "-s", help="What fixed it."),
    json_out: bool = JSON,
) -> None:
    """Mark the ticket resolved with the solution."""
    _emit(_store().change(key, lambda t: t.resolve(solution)), json_out, "resolved")


@app.command("close")
def close(key: str = KEY, json_out: bool = JSON) -> None:
    """Close a resolved ticket."""
    _emit(_store().change(key, lambda t: t.close()), json_out, "closed")


@app.command("reopen")
def reopen(key: str = KEY, json_out: bool = JSON) -> None:
    """Reopen a resolved or closed ticket."""
    _emit(_store().change(key, lambda t: t.reopen()), json_out, "reopened")


@app.command("diag")
def diag(key: str = KEY, host: str = HOST, trust: bool = TRUST, identity: str = IDENTITY,
         json_out: bool = JSON) -> None:
    """Run the diagnostics now (here, or on --host over SSH) and attach the run to the ticket."""
    from fieldkit.cli.diag import run_diag

    store = _store()
    store.get(key)  # fail fast on a typo, before spending seconds on diagnostics
    run = run_diag(host=host, trust=trust, identity=identity)
    _emit(store.attach_run(key, run.to_dict()), json_out, "diagnostics attached")


@app.command("archive")
def archive(
    older_than: int = typer.Option(30, "--older-than", min=0,
                                   help="Only tickets closed at least this many days ago."),
    json_out: bool = typer.Option(False, "--json", help="Print the archived tickets as JSON."),
) -> None:
    """Move closed, fully synced tickets out of the daily lists (still shown by ref)."""
    from datetime import UTC, datetime, timedelta

    cutoff = datetime.now(UTC) - timedelta(days=older_than)
    moved = _store().archive(cutoff.isoformat(timespec="seconds").replace("+00:00", "Z"))
    if json_out:
        render.print_json([t.to_dict() for t in moved])
    else:
        print(f"{len(moved)} ticket(s) archived" + (": " + ", ".join(t.ref for t in moved)
                                                    if moved else ""))


def format_ticket(t) -> str:
    lines = [
        render.paint(f"{t.ref}  {t.title}", "bold"),
        f"  id        {t.id}",
        f"  status    {t.status}   level {t.level}   priority P{t.priority} ({t.priority_label}: "
        f"impact {t.impact}, urgency {t.urgency})",
        f"  category  {t.category}",
    ]
    for label, value in (
        ("site", t.site),
        ("requester", t.requester),
        ("contact", t.contact),
        ("asset", t.asset),
    ):
        if value:
            lines.append(f"  {label:<9} {value}")
    if t.remote.get("id"):
        owner = f" (owner {t.remote['owner']})" if t.remote.get("owner") else ""
        lines.append(f"  remote    #{t.remote.get('id')} {t.remote.get('url', '')}{owner}")
        if t.remote.get("status"):
            lines.append(f"  {t.remote.get('system', 'server')}: {t.remote['status']}")
        if t.remote.get("held"):
            lines.append(f"  HELD      {t.remote['held']}")
        if t.remote.get("conflict"):
            c = t.remote["conflict"]
            lines.append(f"  CONFLICT  {c['field']}: here {c['local']}, server {c['remote']} "
                         f"(fieldkit sync resolve {t.ref} --keep local|remote)")
    lines.append(f"  created   {t.created_at}   updated {t.updated_at}")
    if t.description:
        lines += ["", *("  " + line for line in t.description.splitlines())]
    if t.solution:
        lines += ["", f"  solution: {t.solution}"]
    if t.escalations:
        lines += ["", "  escalations:"]
        lines += [
            f"    {e['at']}  L{e['from_level']} -> L{e['to_level']}: {e['reason']}"
            for e in t.escalations
        ]
    if t.worklog:
        total = sum(e["minutes"] for e in t.worklog)
        lines += ["", f"  worklog ({total} min):"]
        lines += [f"    {e['at']}  {e['minutes']:>4} min  {e['text']}" for e in t.worklog]
    for run in t.diag_runs:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(run["counts"].items()))
        lines += ["", f"  diagnostics {run['started_at']} on {run['host']}: {counts}"]
        lines += [f"    - {p}" for p in run.get("problems", [])]
    return "\n".join(lines)
