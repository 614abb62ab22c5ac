"""The words a ticket is made of: categories, statuses, the ITIL priority matrix, refs, limits,
the outbox event kinds, and the checks every piece of user text passes.

Kept apart from the :class:`~fieldkit.tickets.model.Ticket` methods so both stay readable; the
model re-exports every name, so ``from fieldkit.tickets.model import CATEGORIES`` keeps working.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from fieldkit.errors import InputError

CATEGORIES = (
    "hardware",
    "software",
    "network",
    "printer",
    "email",
    "phone",
    "mobile",
    "server",
    "firewall",
    "account",
    "other",
)
SEVERITIES = ("high", "medium", "low")
STATUSES = ("new", "in_progress", "pending", "resolved", "closed")
OPEN_STATUSES = ("new", "in_progress", "pending")
LEVELS = (1, 2, 3)
ESCALATION_LEVELS = LEVELS[1:]  # a ticket starts at 1st level and is handed up from there

# ITIL impact x urgency -> priority 1 (critical) .. 5 (planning)
PRIORITY_MATRIX = {
    ("high", "high"): 1,
    ("high", "medium"): 2,
    ("high", "low"): 3,
    ("medium", "high"): 2,
    ("medium", "medium"): 3,
    ("medium", "low"): 4,
    ("low", "high"): 3,
    ("low", "medium"): 4,
    ("low", "low"): 5,
}
PRIORITY_LABELS = {1: "critical", 2: "high", 3: "medium", 4: "low", 5: "planning"}

MAX_SHORT_TEXT = 200  # title, names, site, asset: a line on a screen
MAX_LONG_TEXT = 64 * 1024  # description, notes, reasons: generous, but never a pasted disk image
MAX_MINUTES = 24 * 60

REF_PREFIX = "FK-"
_REF_RE = re.compile(r"^(?:fk-?|#)?(\d{1,9})$", re.IGNORECASE)


# What the outbox records (see fieldkit.sync.engine for what each becomes remotely)
CREATED = "created"  # the remote ticket must exist
NOTE = "note"  # a worklog entry (payload: entry_id)
ESCALATION_NOTE = "escalation_note"  # the reason of an escalation (payload: entry_id)
SOLUTION = "solution"  # the solution, once per transition to resolved (payload: text)
DETAILS = "details"  # fields with no remote counterpart, sent as a note (payload: changes)
FIELDS = "fields"  # remote fields to set from the ticket's current values (payload: fields)
STATUS = "status"  # the status changed locally (payload: status)
DIAG_RUN = "diag_run"  # a diagnostic run to attach (payload: run_id)
ATTACHMENT = "attachment"  # a file to attach (payload: attachment_id)
CHECKLIST_RUN = "checklist_run"  # a checklist run, completed or ended at resolve (payload: run_id)
NOTE_KINDS = (NOTE, ESCALATION_NOTE, SOLUTION, DETAILS, DIAG_RUN, ATTACHMENT, CHECKLIST_RUN)

# edits of these reach remote fields; the others reach the central system as a note
REMOTE_FIELDS = {"title": "title", "impact": "priority", "urgency": "priority",
                 "category": "category", "site": "site"}
DETAIL_FIELDS = ("description", "requester", "contact", "asset")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc(stamp: str) -> datetime:
    """A stored time (as :func:`utc_now` writes it, ``...Z``) back as an aware datetime;
    ValueError when it is not one."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def new_event_id() -> str:
    return str(uuid.uuid4())


def format_ref(number: int) -> str:
    return f"{REF_PREFIX}{number}"


def parse_ref(text: str) -> int | None:
    """``FK-12``, ``fk12``, ``#12`` and ``12`` all mean ticket number 12; anything else is None."""
    match = _REF_RE.match(text.strip())
    return int(match.group(1)) if match else None


def clean_text(name: str, value: str | None, limit: int, *, required: bool = False) -> str:
    """Validate free text from a user: valid UTF-8, no control junk, within ``limit``
    (characters for one-line fields, UTF-8 bytes for MAX_LONG_TEXT)."""
    if value is None:
        value = ""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # argv bytes that are not UTF-8 arrive as lone surrogates (PEP 383)
        raise InputError(f"{name} is not valid UTF-8 text") from None
    if any(ch in value for ch in "\x00\x1b"):
        raise InputError(f"{name} contains control characters (NUL or ESC)")
    value = value.strip()
    if required and not value:
        raise InputError(f"{name} must not be empty")
    if limit <= MAX_SHORT_TEXT and ("\n" in value or "\r" in value):
        raise InputError(f"{name} must be one line (it is shown as one in lists and in RT)")
    if limit == MAX_LONG_TEXT:
        # long text is limited in bytes (what the store, RT and the docs' "64 KiB" count), so
        # German or pasted emoji text hits the same wall as the file it came from
        size = len(value.encode("utf-8"))
        if size > limit:
            raise InputError(f"{name} is too long ({size} bytes of UTF-8, at most "
                             f"{limit // 1024} KiB = {limit} bytes; put long logs on the "
                             "ticket with 'fieldkit ticket attach')")
    elif len(value) > limit:
        raise InputError(f"{name} is too long ({len(value)} characters, at most {limit})")
    return value


def choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    normalised = value.strip().lower().replace("-", "_")
    if normalised not in allowed:
        raise InputError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return normalised


def either(values: tuple[object, ...]) -> str:
    """``(1, 2, 3)`` -> ``1, 2 or 3``: a vocabulary in a refusal's words."""
    words = [str(v) for v in values]
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)


def priority_of(impact: str, urgency: str) -> int:
    return PRIORITY_MATRIX[(impact, urgency)]
