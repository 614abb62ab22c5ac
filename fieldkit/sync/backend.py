"""The strict point of cut-off between the sync engine and a ticket system.

The engine speaks only these verbs, in terms of fieldkit's own objects; a backend turns them
into its system's API calls and its system's failures into :class:`SyncError`. Every note and
attachment carries the fieldkit event id so that :meth:`Backend.posted_event_ids` can tell which
of them already arrived, whatever happened to the response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fieldkit.errors import FieldkitError
from fieldkit.tickets.model import Ticket


class SyncError(FieldkitError):
    """A failure talking to the ticket system.

    ``fatal`` failures (authentication, TLS, DNS, unknown queue, server unreachable after retries)
    stop the whole run: every other ticket would fail the same way. Others fail one ticket.
    """

    exit_code = 6

    def __init__(self, message: str, *, kind: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.fatal = fatal


@dataclass
class RemoteTicket:
    id: str
    url: str
    status: str  # fieldkit's vocabulary (new, in_progress, pending, resolved, closed)
    owner: str = ""
    client_id: str = ""
    fields: dict[str, str] = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def open(self) -> None:
        """Connect and authenticate; check what the engine relies on (client id field)."""

    def find_by_client_id(self, client_id: str) -> RemoteTicket | None:
        """The remote ticket created for this fieldkit id, if any."""

    def create(self, ticket: Ticket) -> RemoteTicket:
        """Create the remote ticket, tagged with ``ticket.id`` as its client id."""

    def get(self, remote_id: str) -> RemoteTicket:
        """Re-read one remote ticket."""

    def get_many(self, remote_ids: list[str]) -> dict[str, RemoteTicket]:
        """Re-read many remote tickets (status and owner) in as few requests as possible."""

    def add_note(self, remote_id: str, event_id: str, text: str, minutes: int = 0) -> None:
        """Add an internal note (worklog) with the time spent."""

    def attach(self, remote_id: str, event_id: str, text: str, filename: str,
               content: bytes, mime: str) -> None:
        """Add a note with a file attached."""

    def update(self, remote_id: str, ticket: Ticket, fields: set[str]) -> None:
        """Set these of the ticket's fields remotely (idempotent: setting twice is harmless)."""

    def posted_event_ids(self, remote_id: str) -> set[str]:
        """Event ids of the notes and attachments the remote ticket already has."""

    def to_remote_status(self, status: str) -> str:
        """fieldkit's status in the remote system's words (the merge compares those)."""

    def to_local_status(self, remote_status: str) -> str:
        """The remote status in fieldkit's words."""

    def close(self) -> None:
        """Release connections."""
