"""How a ticket looks on a terminal: one screen with everything, times in the local zone.

The JSON form (``--json``) is the stored form and stays UTC; people read local time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fieldkit.cli import render


def local_time(utc: str, seconds: bool = False) -> str:
    """``2026-12-01T10:00:00Z`` as the local time with its zone, e.g. ``2026-12-01 11:00 CET``."""
    if not utc:
        return ""
    try:
        moment = datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return utc
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def brief(ticket: Any, verb: str) -> str:
    return (f"{ticket.ref} {verb}: {ticket.title} "
            f"[P{ticket.priority} {ticket.priority_label}, {ticket.status}, L{ticket.level}]")


def row_cells(row: Any) -> tuple[str, ...]:
    """A ticket (or its index row) as a line of ``ticket list``."""
    return (row.ref, f"P{row.priority}", row.status, f"L{row.level}", row.site, row.title,
            local_time(row.updated_at))


def parse_since(text: str) -> str:
    """``2026-11-01`` (local midnight) or an ISO date-time -> the UTC form the store keeps."""
    from fieldkit.errors import InputError

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--since {text!r}: write a date as YYYY-MM-DD (or YYYY-MM-DDTHH:MM)"
                         ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a date without a zone means the technician's own
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


LIST_HEADERS = ("REF", "PRI", "STATUS", "LVL", "SITE", "TITLE", "UPDATED")


def format_ticket(t: Any) -> str:
    lines = [
        render.paint(f"{t.ref}  {t.title}", "bold"),
        f"  id        {t.id}",
        f"  status    {t.status}   level {t.level}   priority P{t.priority} ({t.priority_label}: "
        f"impact {t.impact}, urgency {t.urgency})",
        f"  category  {t.category}",
    ]
    for label, value in (("site", t.site), ("requester", t.requester), ("contact", t.contact),
                         ("asset", t.asset)):
        if value:
            lines.append(f"  {label:<9} {value}")
    lines += _remote(t)
    lines.append(f"  created   {local_time(t.created_at)}   updated {local_time(t.updated_at)}")
    if t.description:
        lines += ["", *("  " + line for line in t.description.splitlines())]
    if t.solution:
        lines += ["", f"  solution: {t.solution}"]
    if t.escalations:
        lines += ["", "  escalations:"]
        lines += [f"    {local_time(e['at'])}  L{e['from_level']} -> L{e['to_level']}: "
                  f"{e['reason']}" for e in t.escalations]
    if t.worklog:
        total = sum(e["minutes"] for e in t.worklog)
        lines += ["", f"  worklog ({total} min):"]
        lines += [f"    {local_time(e['at'])}  {e['minutes']:>4} min  {e['text']}"
                  for e in t.worklog]
    for run in t.diag_runs:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(run["counts"].items()))
        lines += ["", f"  diagnostics {local_time(run['started_at'])} on {run['host']}: "
                      f"{counts}"]
        lines += [f"    - {p}" for p in run.get("problems", [])]
    from fieldkit.cli.checklistview import ticket_lines  # checklist runs

    lines += ticket_lines(t)
    lines += _signoff(t)
    if t.attachments:
        lines += ["", "  attachments:"]
        lines += [f"    {a['name']}  {_size(a['size'])}  {a['mime']}  sha256 {a['sha256']}"
                  for a in t.attachments]
    if t.history:
        lines += ["", "  history:"]
        lines += [f"    {local_time(h['at'])}  {h.get('by') or '-':<12} {h['text']}"
                  for h in t.history]
    return "\n".join(lines)


def _signoff(t: Any) -> list[str]:
    from fieldkit.i18n import _
    from fieldkit.report.signoff import latest

    signed = latest(t)
    if signed is None:
        return []
    who = (_("signature to follow") + (f" ({signed.name})" if signed.name else "")
           if signed.pending else _("signed off by {name}").format(name=signed.name)
           + f" {local_time(signed.at)}")
    stale = render.paint("  " + _("SIGNED BEFORE CHANGES"), "warn") if signed.changed_after \
        else ""
    return ["", "  " + _("sign-off: {who}, report sha256 {sha}...").format(
        who=who, sha=signed.sha256[:12]) + stale]


def _remote(t: Any) -> list[str]:
    if not t.remote.id:
        return []
    owner = f" (owner {t.remote.owner})" if t.remote.owner else ""
    lines = [f"  remote    #{t.remote.id} {t.remote.url or ''}{owner}"]
    conflict = t.remote.conflict
    # in a conflict: what the server holds
    shown = (conflict["remote"] if conflict else None) or t.remote.status
    if shown:
        lines.append(f"  {t.remote.system or 'server'}: {shown}")
    if t.remote.held:
        lines.append(f"  HELD      {t.remote.held}")
    if t.remote.conflict:
        c = t.remote.conflict
        lines.append(f"  CONFLICT  {c['field']}: here {c['local']}, server {c['remote']} "
                     f"(fieldkit sync resolve {t.ref} --keep local|remote)")
    return lines


def _size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)
