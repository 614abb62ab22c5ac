"""What a ticket is, how its priority is derived, and which changes the lifecycle allows.

Every mutation is a method on :class:`Ticket` that validates first and changes second, so a
refused change leaves the ticket exactly as it was. Each mutation also records the
:class:`Event` records the central ticket system must hear about, one per remote effect (a note, a
field update, a status): the store writes them to the outbox in the same atomic write as the
change, so no caller can change a ticket and forget to sync it. Worklog notes and escalations
carry their own id, which their outbox event reuses and the copy on the central system is tagged
with: that is how sync recognises what already arrived.
"""

from __future__ import annotations

import uuid
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from fieldkit.errors import InputError, TransitionError
from fieldkit.tickets.link import Link
from fieldkit.tickets.vocabulary import (
    ATTACHMENT,
    CATEGORIES,
    CHECKLIST_RUN,
    CREATED,
    DETAIL_FIELDS,
    DETAILS,
    DIAG_RUN,
    ESCALATION_LEVELS,
    ESCALATION_NOTE,
    FIELDS,
    LEVELS,
    MAX_LONG_TEXT,
    MAX_MINUTES,
    MAX_SHORT_TEXT,
    NOTE,
    NOTE_KINDS,
    OPEN_STATUSES,
    PRIORITY_LABELS,
    PRIORITY_MATRIX,
    REF_PREFIX,
    REMOTE_FIELDS,
    SEVERITIES,
    SOLUTION,
    STATUS,
    STATUSES,
    choice,
    clean_text,
    either,
    format_ref,
    new_event_id,
    parse_ref,
    priority_of,
    utc_now,
)

# the vocabulary is re-exported: `from fieldkit.tickets.model import CATEGORIES` keeps working
__all__ = [
    "Event", "Ticket", "stored_defaults", "CATEGORIES", "SEVERITIES", "STATUSES", "OPEN_STATUSES",
    "LEVELS", "ESCALATION_LEVELS", "PRIORITY_MATRIX", "PRIORITY_LABELS", "MAX_SHORT_TEXT",
    "MAX_LONG_TEXT", "MAX_MINUTES", "REF_PREFIX", "CREATED", "NOTE", "ESCALATION_NOTE", "SOLUTION",
    "DETAILS", "FIELDS", "STATUS", "DIAG_RUN", "ATTACHMENT", "CHECKLIST_RUN", "NOTE_KINDS",
    "REMOTE_FIELDS", "DETAIL_FIELDS", "utc_now", "new_event_id", "format_ref", "parse_ref",
    "clean_text", "choice", "either", "priority_of"
]


@dataclass
class Event:
    """A change that must reach the central ticket system, recorded in the ticket's outbox."""

    kind: str
    payload: dict[str, Any]
    # notes, escalations and runs reuse their own id, so the copy on the server names them
    event_id: str = ""


@dataclass
class Ticket:
    """A support ticket as captured on site. ``id`` never changes; ``ref`` is what people type."""

    title: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ref: str = ""
    description: str = ""
    requester: str = ""
    contact: str = ""
    site: str = ""
    asset: str = ""
    category: str = "other"
    impact: str = "medium"
    urgency: str = "medium"
    status: str = "new"
    level: int = 1
    solution: str = ""
    escalations: list[dict[str, Any]] = field(default_factory=list)
    worklog: list[dict[str, Any]] = field(default_factory=list)
    diag_runs: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # every change, oldest first
    checklist_runs: list[dict[str, Any]] = field(default_factory=list)  # summaries, see below
    remote: Link = field(default_factory=Link)  # the copy in the central ticket system
    created_at: str = field(default_factory=utc_now)
    updated_at: str = ""
    # not stored: the outbox events of the mutations since the ticket was loaded (the store
    # drains them), and who is making them (the technician, for the history)
    events: list[Event] = field(default_factory=list, repr=False, compare=False)
    actor: str = field(default="", repr=False, compare=False)

    @classmethod
    def create(cls, title: str, *, actor: str = "", **values: Any) -> Ticket:
        """Build a validated new ticket from user input (unknown field names are a bug)."""
        ticket = cls(title=clean_text("title", title, MAX_SHORT_TEXT, required=True),
                     actor=actor)
        ticket.edit(**values)
        ticket.updated_at = ticket.created_at
        ticket.events = [Event(CREATED, {})]  # the first message carries every field
        ticket.history = []
        ticket.log("created", f"created: {ticket.title} (P{ticket.priority} "
                              f"{ticket.priority_label}, {ticket.category})")
        return ticket

    @property
    def priority(self) -> int:
        return priority_of(self.impact, self.urgency)

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]

    @property
    def number(self) -> int:
        number = parse_ref(self.ref)
        if number is None:
            raise ValueError(f"ticket {self.id} has no valid ref: {self.ref!r}")
        return number

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # -- changes ------------------------------------------------------------------------------

    def edit(self, **values: Any) -> dict[str, Any]:
        """Change descriptive fields; returns the changed values (empty when nothing changed)."""
        if self.status == "closed":
            raise TransitionError(f"{self.ref or 'ticket'} is closed; reopen it before editing")
        changes: dict[str, Any] = {}
        for name, value in values.items():
            if value is None:
                continue
            if name == "title":
                value = clean_text(name, value, MAX_SHORT_TEXT, required=True)
            elif name == "description":
                value = clean_text(name, value, MAX_LONG_TEXT)
            elif name in ("requester", "contact", "site", "asset"):
                value = clean_text(name, value, MAX_SHORT_TEXT)
            elif name == "category":
                value = choice(name, value, CATEGORIES)
            elif name in ("impact", "urgency"):
                value = choice(name, value, SEVERITIES)
            elif name == "status":
                value = choice(name, value, STATUSES)
                if value not in OPEN_STATUSES:
                    raise TransitionError(
                        f"use 'ticket resolve' or 'ticket close' to set status {value}"
                    )
                if not self.is_open():
                    raise TransitionError(f"{self.ref} is {self.status}; use 'ticket reopen'")
            else:
                raise TypeError(f"unknown ticket field {name!r}")
            if getattr(self, name) != value:
                changes[name] = value
        status = changes.pop("status", None)
        if changes:
            self.log("edited", "; ".join(f"{name}: {_short(getattr(self, name))} -> "
                                         f"{_short(value)}" for name, value in changes.items()),
                     changes={name: [getattr(self, name), value]
                              for name, value in changes.items()})
        for name, value in changes.items():
            setattr(self, name, value)
        remote = sorted({REMOTE_FIELDS[name] for name in changes if name in REMOTE_FIELDS})
        if remote:
            self.events.append(Event(FIELDS, {"fields": remote}))
        details = {name: changes[name] for name in DETAIL_FIELDS if name in changes}
        if details:
            self.events.append(Event(DETAILS, {"changes": details}))
        if status is not None:
            self._set_status(status)
            changes["status"] = status
        if changes:
            self.touch()
        return changes

    def add_note(self, text: str, minutes: int = 0) -> dict[str, Any]:
        text = clean_text("note", text, MAX_LONG_TEXT, required=True)
        if not 0 <= minutes <= MAX_MINUTES:
            raise InputError(f"minutes must be between 0 and {MAX_MINUTES} (got {minutes})")
        if self.status == "closed":
            raise TransitionError(f"{self.ref} is closed; reopen it before adding notes")
        entry_id = new_event_id()
        entry = {"id": entry_id, "at": utc_now(), "minutes": minutes, "text": text}
        self.worklog.append(entry)
        self.events.append(Event(NOTE, {"entry_id": entry_id}, entry_id))
        self.log("note", f"note ({minutes} min): {_short(text)}")
        if self.status == "new":
            self._set_status("in_progress")  # someone is working on it now
        self.touch()
        return entry

    def escalate(self, level: int, reason: str) -> dict[str, Any]:
        reason = clean_text("reason", reason, MAX_LONG_TEXT, required=True)
        if level not in ESCALATION_LEVELS:
            raise InputError(f"escalation level must be {either(ESCALATION_LEVELS)} "
                             f"(got {level})")
        if not self.is_open():
            raise TransitionError(f"{self.ref} is {self.status}; reopen it before escalating")
        if level <= self.level:
            raise TransitionError(
                f"{self.ref} is already at level {self.level}; escalation only goes up"
            )
        entry_id = new_event_id()
        entry = {"id": entry_id, "at": utc_now(), "from_level": self.level, "to_level": level,
                 "reason": reason}
        self.escalations.append(entry)
        self.log("escalated", f"escalated from level {self.level} to level {level}: "
                              f"{_short(reason)}")
        self.level = level
        # two remote effects, tracked and confirmed on their own: the note and the level/queue
        self.events.append(Event(ESCALATION_NOTE, {"entry_id": entry_id}, entry_id))
        self.events.append(Event(FIELDS, {"fields": ["level"]}))
        self.touch()
        return entry

    def resolve(self, solution: str, force: bool = False, by: str = "") -> None:
        solution = clean_text("solution", solution, MAX_LONG_TEXT, required=True)
        if not self.is_open():
            raise TransitionError(f"{self.ref} is already {self.status}")
        override = self._end_checklist_runs(force, by or self.actor)  # refuses, or ends them
        self.solution = solution
        self.events.append(Event(SOLUTION, {"text": solution, **override}))
        self.log("resolved", f"solution: {solution}", solution=solution, **override)
        self._set_status("resolved")
        self.touch()

    def close(self) -> None:
        if self.status != "resolved":
            raise TransitionError(
                f"{self.ref} is {self.status}; only a resolved ticket can be closed "
                "(use 'ticket resolve --solution ...' first)"
            )
        self._set_status("closed")
        self.touch()

    def reopen(self) -> None:
        if self.is_open():
            raise TransitionError(f"{self.ref} is {self.status}, not resolved or closed")
        self._set_status("in_progress")
        self.touch()

    def attach_run(self, summary: dict[str, Any]) -> None:
        self.refuse_run_if_closed()
        self.diag_runs.append(summary)
        self.events.append(Event(DIAG_RUN, {"run_id": summary["id"]}, summary["id"]))
        counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.get("counts", {}).items()))
        self.log("diagnostics", f"diagnostic run on {summary.get('host', '?')}: {counts}",
                 run_id=summary["id"])
        self.touch()

    def add_attachment(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Record a stored file (see the store's attach_files); it reaches the central system
        as an attachment, once."""
        self._refuse_if_closed("attaching files")
        entry = {"id": new_event_id(), "at": utc_now(), "by": self.actor, **meta}
        self.attachments.append(entry)
        self.events.append(Event(ATTACHMENT, {"attachment_id": entry["id"]}, entry["id"]))
        self.log("attachment", f"attached {entry['name']} ({entry['size']} bytes, sha256 "
                               f"{entry['sha256'][:12]}...)", attachment_id=entry["id"])
        self.touch()
        return entry

    def sign_off(self, name: str, comment: str, sha256: str, pending: bool) -> None:
        """The customer accepts the report with this sha256 (or will sign later: ``pending``);
        history only, as fieldkit.report.signoff reads it: the signed PDF itself is the
        attachment that reaches the central system."""
        self._refuse_if_closed("signing it off")
        name = clean_text("--name", name, MAX_SHORT_TEXT, required=not pending)
        comment = clean_text("--comment", comment, MAX_LONG_TEXT)
        self.log("signoff", f"signature to follow{' (' + name + ')' if name else ''}" if pending
                 else f"signed off by {name}", name=name, comment=comment, sha256=sha256,
                 pending=pending)
        self.touch()

    def log(self, what: str, text: str, **details: Any) -> None:
        """Add to the history: when, who, what happened (never sent as an outbox event)."""
        self.history.append({"at": utc_now(), "by": self.actor, "what": what, "text": text,
                             **details})

    def refuse_run_if_closed(self) -> None:
        """The refusal :meth:`attach_run` would raise, asked for up front: ``ticket diag``
        must not spend seconds on checks whose run the ticket will not take."""
        self._refuse_if_closed("attaching diagnostics")

    def _refuse_if_closed(self, doing: str) -> None:
        if self.status == "closed":
            raise TransitionError(f"{self.ref} is closed; reopen it before {doing}")

    # -- checklist runs (fieldkit.checklists) -------------------------------------------------
    # The ticket keeps a summary of each run (status, every step's answer/result/who/when); the
    # whole run lives in the store's checklist-runs/<id>.json. A run is posted once, when it
    # completes or when resolving the ticket ends it unfinished.

    def record_checklist_run(self, summary: dict[str, Any]) -> None:
        """Add or update the summary of a checklist run on this ticket."""
        known = next((r for r in self.checklist_runs if r["id"] == summary["id"]), None)
        if known is None and not self.is_open():
            raise TransitionError(f"{self.ref} is {self.status}; reopen it before running a "
                                  "checklist on it")
        if known is not None and known["status"] != "in_progress":
            raise TransitionError(f"the checklist run {summary['id'][:8]} on {self.ref} is "
                                  f"{known['status']}; start a new run instead")
        name = summary.get("checklist", "?")
        if known is None:
            self.checklist_runs.append(summary)
            self.log("checklist", f"checklist {name} started", run_id=summary["id"])
        else:
            self.checklist_runs[self.checklist_runs.index(known)] = summary
        if summary["status"] == "completed":
            self.events.append(Event(CHECKLIST_RUN, {"run_id": summary["id"]}, summary["id"]))
            self.log("checklist", f"checklist {name} completed", run_id=summary["id"])
        if self.status == "new":
            self._set_status("in_progress")  # working through a checklist is working on it
        self.touch()

    def checklist_blockers(self) -> dict[str, list[str]]:
        """Unfinished runs with mandatory steps not done: run id -> those step ids."""
        return {r["id"]: list(r.get("pending_mandatory", [])) for r in self.checklist_runs
                if r["status"] == "in_progress" and r.get("pending_mandatory")}

    def _end_checklist_runs(self, force: bool, by: str) -> dict[str, Any]:
        """Resolving ends every unfinished run (posted as it stands). Mandatory steps not done
        refuse the resolve unless forced; a forced one records the override on the run and
        returns it for the solution's outbox event, so it reaches sync with the resolution."""
        blockers = self.checklist_blockers()
        titles = {r["id"]: r.get("checklist", "?") for r in self.checklist_runs}
        what = "; ".join(f"{titles[run_id]}: {', '.join(steps)}"
                         for run_id, steps in blockers.items())
        if blockers and not force:
            raise TransitionError(
                f"{self.ref} has an unfinished checklist with mandatory steps not done ({what}); "
                f"finish it with 'fieldkit checklist resume {self.ref}' or resolve with --force")
        now = utc_now()
        for run in self.checklist_runs:
            if run["status"] != "in_progress":
                continue
            run["status"], run["finished_at"] = "abandoned", now
            if run["id"] in blockers:
                run["override"] = {"at": now, "by": by, "pending": blockers[run["id"]]}
            self.events.append(Event(CHECKLIST_RUN, {"run_id": run["id"]}, run["id"]))
        if not blockers:
            return {}
        return {"override": f"resolved with --force{' by ' + by if by else ''}: mandatory "
                            f"checklist steps not done ({what})"}

    def _set_status(self, status: str) -> None:
        self.log("status", f"status {self.status} -> {status}", old=self.status, new=status)
        self.status = status
        self.events.append(Event(STATUS, {"status": status}))

    def touch(self) -> None:
        now = utc_now()
        # keep updated_at monotonic even when two changes land within one second
        self.updated_at = max(now, self.updated_at or now)

    # -- JSON ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The stored and --json form. Shallow: lists are shared with the ticket, not copied
        (deep copies of every worklog made listing years of tickets slow)."""
        data = {name: getattr(self, name) for name in _STORED_FIELDS}
        data["remote"] = self.remote.to_dict()
        data["priority"] = self.priority
        data["priority_label"] = self.priority_label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ticket:
        values = {k: v for k, v in data.items() if k in _STORED_FIELDS}
        values["remote"] = Link.from_dict(values.get("remote"))
        return cls(**values)


_STORED_FIELDS = tuple(f.name for f in fields(Ticket) if f.name not in ("events", "actor"))


def stored_defaults() -> dict[str, Any]:
    """Every stored key with its default (for documents written by an older fieldkit)."""
    defaults = {f.name: (f.default_factory() if f.default_factory is not MISSING else f.default)
                for f in fields(Ticket) if f.name in _STORED_FIELDS and
                (f.default is not MISSING or f.default_factory is not MISSING)}
    return {**defaults, "remote": Link().to_dict()}


def _short(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
