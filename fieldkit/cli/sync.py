"""``fieldkit sync``: push everything captured offline to the central ticket system."""

from __future__ import annotations

import sys
from typing import Any

import typer

from fieldkit.cli import render
from fieldkit.cli.remote import TRUST

app = typer.Typer(short_help="Sync tickets to RT or an SFTP drop, exactly once.",
                  help="Sync tickets to the central ticket system (Request Tracker, or an "
                       "SFTP drop).", invoke_without_command=True, no_args_is_help=False)

EXIT_PENDING = 1
EXIT_UNREACHABLE = 6


@app.callback()
def sync(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; no network."),
    insecure: bool = typer.Option(False, "--insecure",
                                  help="Do not verify the server's TLS certificate (this call)."),
    workers: int = typer.Option(4, "--workers", min=1, max=16, metavar="N",
                                help="Parallel requests when checking tickets one by one "
                                     "(1-16)."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    trust: bool = TRUST,
) -> None:
    """Sync now.

    Exit 0 when nothing is left pending, 1 when something is (or a ticket failed), 5 for a bad
    [sync] section, 6 when the server could not be reached or refused the login (everything
    stays pending), 75 when another sync is running on this store.

    \b
    Examples:
      FIELDKIT_SYNC_PASSWORD=... fieldkit sync
      fieldkit sync --dry-run
      fieldkit sync status --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from fieldkit.sync.configure import is_plain_http_off_host, sync_settings
    from fieldkit.sync.engine import SyncEngine
    from fieldkit.sync.state import plan

    store = _store()
    if dry_run:
        _show_plan(plan(store), json_out)
        return
    config = _config()
    sync_settings(config)
    if is_plain_http_off_host(config):
        print("fieldkit: warning: [sync] url is plain http: credentials travel unencrypted",
              file=sys.stderr)
    backend = _backend(config, insecure, trust)
    progress = _ProgressBar() if sys.stderr.isatty() and not json_out else None
    try:
        report = SyncEngine(store, backend, max_workers=workers, grace_s=backend.grace_s,
                            progress=progress.update if progress else None,
                            notice=lambda text: print(f"fieldkit: {text}", file=sys.stderr)).run()
    finally:
        backend.close()
        if progress:
            progress.finish()
        _ssh_notes(backend)
    if json_out:
        render.print_json(report.to_dict())
    else:
        _show_report(report)
    if report.fatal:
        raise typer.Exit(EXIT_UNREACHABLE)
    if report.pending or report.failed:  # a ticket that failed fails again next time
        raise typer.Exit(EXIT_PENDING)


@app.command("status")
def status(json_out: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """What is pending, held or in conflict (no network).

    Pending entries per ticket, held tickets, conflicts, the last sync and its error.
    """
    from fieldkit.sync.state import status_report

    data = status_report(_store())
    if json_out:
        render.print_json(data)
        return
    from fieldkit.cli.ticketview import local_time

    print(f"last sync:  {local_time(str(data['last_sync_at'] or '')) or 'never'}"
          f"   last success: {local_time(str(data['last_success_at'] or '')) or 'never'}")
    if data["last_error"]:
        print(f"last error: {data['last_error']}")
    _show_plan(data["tickets"], False)
    for c in data["conflicts"]:
        print(f"conflict: {c['ref']} {c['field']}: here {c['local']}, server {c['remote']} "
              f"(fieldkit sync resolve {c['ref']} --keep local|remote)")


@app.command("check")
def check(
    insecure: bool = typer.Option(False, "--insecure",
                                  help="Do not verify the server's TLS certificate (this call)."),
    json_out: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
    trust: bool = TRUST,
) -> None:
    """Is the server set up for sync? (login, queue, rights)

    RT: the login, the queue and the right to create there, the FieldkitID field (present and
    writable), the other custom fields and the escalation queues. SFTP: the login, the drop
    directory, writing and atomic replace. Exit 0 when nothing failed, 1 when a check failed,
    6 when the server could not be used at all.
    """
    backend = _backend(_config(), insecure, trust)
    try:
        items = backend.check()
    finally:
        backend.close()
        _ssh_notes(backend)
    if json_out:
        render.print_json([{"name": i.name, "status": i.status, "detail": i.detail,
                            "hint": i.hint} for i in items])
    else:
        for item in items:
            print(f"{render.symbol(item.status)} {render.paint(f'{item.status:<5}', item.status)}"
                  f" {item.name:<20} {item.detail}")
            if item.hint and item.status != "ok":
                print(render.paint(render.wrap("-> " + item.hint, 8), "dim"))
    if items and items[0].name == "login" and items[0].status == "fail":
        raise typer.Exit(EXIT_UNREACHABLE)
    if any(i.status == "fail" for i in items):
        raise typer.Exit(EXIT_PENDING)


@app.command("resolve")
def resolve(
    key: str = typer.Argument(..., metavar="REF", help="Ticket ref (FK-12, 12) or full id."),
    keep: str = typer.Option(..., "--keep", metavar="local|remote",
                             help="local (push ours) or remote (take theirs)."),
    json_out: bool = typer.Option(False, "--json", help="Print the ticket as JSON."),
) -> None:
    """Settle a sync conflict on a ticket's status."""
    from fieldkit.sync.merge import resolve_conflict
    from fieldkit.tickets.model import choice

    keep = choice("--keep", keep, ("local", "remote"))
    ticket = resolve_conflict(_store(), key, keep)
    if json_out:
        render.print_json(ticket.to_dict())
    else:
        print(f"{ticket.ref}: conflict settled, keeping the {keep} status ({ticket.status})")


def _backend(config, insecure: bool, trust: bool):
    from fieldkit.cli.remote import ask_hidden
    from fieldkit.sync.configure import build_backend

    return build_backend(config, insecure=insecure, trust_new_host=trust,
                         ask_password=ask_hidden if sys.stdin.isatty() else None)


def _ssh_notes(backend) -> None:
    """What an SSH backend has to say beyond one line: a key saved, or a key that changed."""
    if getattr(backend, "warning", ""):
        print(backend.warning, file=sys.stderr)
    if getattr(backend, "saved_key", ""):
        print(f"fieldkit: {backend.saved_key}", file=sys.stderr)


def _store():
    from fieldkit.cli.common import store

    return store()


def _config():
    from fieldkit.cli.common import config

    return config("sync")


def _show_plan(pending: list[dict[str, Any]], json_out: bool) -> None:
    if json_out:
        render.print_json({"created": sum(1 for p in pending if not p["remote_id"]),
                           "updated": sum(1 for p in pending if p["remote_id"]), "failed": 0,
                           "pending": sum(len(p["events"]) for p in pending), "dry_run": True,
                           "tickets": pending})
        return
    if not pending:
        print("nothing to sync")
        return
    rows = [(p["ref"], p["remote_id"] or "(new)", ", ".join(p["events"]),
             p["held"] or p["last_error"] or "") for p in pending]
    print(render.table(("REF", "REMOTE", "PENDING", "LAST ERROR"), rows, max_width=70,
                       shrink=("LAST ERROR",)))


def _show_report(report) -> None:
    if report.fatal and not (report.created or report.updated):
        print(f"fieldkit: error: {report.fatal}", file=sys.stderr)
        return
    print(f"{report.created} created, {report.updated} updated, {report.failed} failed, "
          f"{report.pending} pending")
    for err in report.errors:
        if err["message"] != report.fatal:
            print(f"  {err['ref']}: {err['message']}")
    for c in report.conflicts:
        print(f"  conflict {c['ref']} {c['field']}: here {c['local']}, server {c['remote']} - "
              f"run 'fieldkit sync resolve {c['ref']} --keep local|remote'")
    if report.fatal:
        print(f"fieldkit: error: sync stopped: {report.fatal}", file=sys.stderr)


class _ProgressBar:
    """One line on stderr: counts and the ticket being synced."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self.shown = False

    def update(self, done: int, total: int, ref: str) -> None:
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} {ref:<12}")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
