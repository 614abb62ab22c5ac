"""What each note-like outbox entry says on the central ticket system.

The text is built when it is sent, from what the ticket holds then, so a crash between change
and sync loses nothing; the event id travels with it so the server's copy is recognised later.
"""

from __future__ import annotations

import json
from typing import Any

from fieldkit.errors import NotFoundError
from fieldkit.sync.backend import Attachment, Post
from fieldkit.tickets.model import (
    ATTACHMENT,
    CHECKLIST_RUN,
    DETAILS,
    DIAG_RUN,
    ESCALATION_NOTE,
    NOTE,
    SOLUTION,
    Ticket,
)
from fieldkit.tickets.store import TicketStore


def post_for(store: TicketStore, ticket: Ticket, remote_id: str,
             entry: dict[str, Any]) -> Post | None:
    """The post for one outbox entry; None when what it refers to no longer exists."""
    kind, payload, event_id = entry["kind"], entry.get("payload", {}), entry["event_id"]
    if kind == NOTE:
        note = _by_id(ticket.worklog, payload.get("entry_id"))
        return Post(remote_id, event_id, note["text"], note["minutes"]) if note else None
    if kind == ESCALATION_NOTE:
        esc = _by_id(ticket.escalations, payload.get("entry_id"))
        if esc is None:
            return None
        return Post(remote_id, event_id, f"Escalated from level {esc['from_level']} to level "
                                         f"{esc['to_level']}: {esc['reason']}")
    if kind == SOLUTION:
        override = f"\nOverride: {payload['override']}" if payload.get("override") else ""
        return Post(remote_id, event_id, f"Resolved: {payload.get('text', '')}{override}")
    if kind == DETAILS:
        changes = payload.get("changes", {})
        return Post(remote_id, event_id, "Details changed:\n" + "\n".join(
            f"{name}: {value}" for name, value in sorted(changes.items())))
    if kind == ATTACHMENT:
        meta = _by_id(ticket.attachments, payload.get("attachment_id"))
        if meta is None:
            return None
        try:
            content = store.file_path(meta["sha256"]).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"the attached file {meta['name']} is missing from the store "
                                f"({store.file_path(meta['sha256'])})") from None
        return Post(remote_id, event_id, f"Attached {meta['name']} ({meta['size']} bytes, "
                                         f"sha256 {meta['sha256']})",
                    attachment=Attachment(meta["name"], content, meta["mime"]))
    if kind == DIAG_RUN:
        try:
            run = store.load_run(payload["run_id"])
        except NotFoundError:
            return None
        content = json.dumps(run, indent=1, ensure_ascii=False).encode("utf-8")
        return Post(remote_id, event_id, run_text(run), attachment=Attachment(
            f"fieldkit-diag-{payload['run_id']}.json", content, "application/json"))
    if kind == CHECKLIST_RUN:
        return _checklist_post(store, ticket, remote_id, event_id, payload.get("run_id", ""))
    return None


def _checklist_post(store: TicketStore, ticket: Ticket, remote_id: str, event_id: str,
                    run_id: str) -> Post | None:
    """The run as the ticket ends it (a run ended at resolve is posted as it stood, with the
    override), as a readable note plus the whole run as JSON."""
    from fieldkit.checklists.report import run_note

    summary = _by_id(ticket.checklist_runs, run_id)
    try:
        run = store.load_checklist_run(run_id)
    except NotFoundError:
        return None
    if summary is not None:
        run = {**run, "status": summary["status"],
               "finished_at": summary.get("finished_at") or run.get("finished_at", ""),
               "override": summary.get("override") or run.get("override") or {}}
    content = json.dumps(run, indent=1, ensure_ascii=False).encode("utf-8")
    return Post(remote_id, event_id, run_note(run), attachment=Attachment(
        f"fieldkit-checklist-{run_id}.json", content, "application/json"))


def run_text(run: dict[str, Any]) -> str:
    """A diagnostic run as a readable note; the full JSON goes along as the attachment."""
    lines = [f"fieldkit diagnostics on {run.get('host')} at {run.get('started_at')}"]
    for f in sorted(run.get("findings", []), key=lambda f: f["status"] not in ("fail", "warn")):
        lines.append(f"[{f['status'].upper():5}] {f['check']} {f['subject']}: {f['summary']}")
        if f.get("hint") and f["status"] in ("fail", "warn"):
            lines.append(f"        tip: {f['hint']}")
    return "\n".join(lines)


def _by_id(items: list[dict[str, Any]], item_id: str | None) -> dict[str, Any] | None:
    return next((item for item in items if item.get("id") == item_id), None)
