"""The strict point of cut-off between the sync engine and a ticket system.

The engine (``engine.py``) speaks only the verbs of :class:`Backend`, in fieldkit's own terms;
a backend turns them into its system's API calls and its system's failures into
:class:`SyncError`. Verbs take and return batches, because on a real server each request costs
far more than each item (Request Tracker spends ~250 ms of bcrypt on every authenticated
request): a backend sends a batch in as few requests as its API allows and answers per item.

What exactly-once relies on -- the contract every backend must keep:

1. **Read-your-writes search by client id.** A ticket created with client id X is found by
   :meth:`~Backend.find_by_client_ids` as soon as the create returned, and ``get_many`` reports
   the client id the server *kept* (``RemoteTicket.client_id``), so the engine can tell a create
   whose id did not stick (rights, field not applied) and never create that ticket again.
2. **Event ids on everything posted.** Every :class:`Post` carries its fieldkit event id where
   :meth:`~Backend.posted_event_ids` will find it again (RT: the comment's subject), whatever
   happened to the answer. A post is reported done only when the server confirmed it.
3. **Per-item outcomes.** ``None`` means confirmed; a :class:`SyncError` fails that item (or its
   ticket) only. ``uncertain=True`` says the server may have processed it anyway: the engine then
   asks ``posted_event_ids`` before sending it again. A whole-request failure raises; ``fatal``
   errors (login, TLS, DNS, server down) stop the run because every item would fail alike.
4. **Updates are idempotent and confirmed by a re-read**, not by the server's "200 OK": some
   servers (RT) answer 200 and put a refusal in the message text. A status is set by
   compare-and-set (``Update.expect``): a change made on the server while the update was on its
   way is a :class:`StatusConflict`, never overwritten.
5. **No retries of non-idempotent requests** that may have reached the server; the engine's
   intent marks (``attempted``) and the checks above settle them on the next run.

Backends are found by name (``[sync] backend = "rt"``) in :data:`fieldkit.sync.BACKENDS`; each
package offers ``from_settings(settings, path, *, insecure, transport, trust_new_host,
ask_password)`` (the last two matter to SSH-based backends: accept a new host key, and a hidden
prompt for a password when on a terminal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from fieldkit.errors import FieldkitError
from fieldkit.tickets.model import Ticket


class SyncError(FieldkitError):
    """A failure talking to the ticket system.

    ``fatal`` failures (authentication, TLS, DNS, server unreachable after retries) stop the
    whole run: every other ticket would fail the same way. Others fail one item or ticket.
    ``uncertain`` failures may have been processed by the server. ``unanswered`` ones got no
    answer at all (a timeout, a broken connection): the server may *still* be working on them,
    so the next run waits before it checks (see ``Work.attempt_age``).
    """

    exit_code = 6

    def __init__(self, message: str, *, kind: str, fatal: bool = False,
                 uncertain: bool = False, unanswered: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.fatal = fatal
        self.uncertain = uncertain or unanswered
        self.unanswered = unanswered


class StatusConflict(SyncError):
    """The server's status changed while an update of it was on its way (compare-and-set
    failed): ``remote`` is the status the server holds now, in its own words. The engine turns
    it into a conflict, never into an overwrite."""

    def __init__(self, message: str, *, remote: str) -> None:
        super().__init__(message, kind="conflict")
        self.remote = remote


class SyncBusyError(FieldkitError):
    """Another ``fieldkit sync`` holds this store; two at once would post things twice."""

    exit_code = 75  # EX_TEMPFAIL: try again later


@dataclass
class RemoteTicket:
    """A ticket as the server holds it; ``status`` in the server's own words."""

    id: str
    url: str
    status: str
    owner: str = ""
    client_id: str = ""
    queue: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # what update_many can set, as read


@dataclass
class Attachment:
    filename: str
    content: bytes
    mime: str


@dataclass
class Post:
    """A note on a remote ticket (with minutes worked and an optional file), tagged by event."""

    remote_id: str
    event_id: str
    text: str
    minutes: int = 0
    attachment: Attachment | None = None


@dataclass
class Update:
    """Set ``fields`` of the remote ticket from the ticket's current values, and/or a status.

    ``fields`` are fieldkit names: title, priority, category, site, level (the backend maps
    level to its own field and queue) and client_id (re-tag a ticket whose id did not stick).
    ``status`` is in the server's words, as decided by the engine's merge; ``expect`` is the
    status the server had when the merge decided: a backend that finds another one in its place
    (or in its history, between that read and its write) answers :class:`StatusConflict` and
    leaves the other side's value on the server.
    """

    remote_id: str
    ticket: Ticket
    fields: frozenset[str] = frozenset()
    status: str | None = None
    expect: str | None = None
    since: int | None = None  # RT: the history mark stored before this write (``rt/status.py``)


Outcome = SyncError | None


@dataclass
class CheckItem:
    """One line of ``fieldkit sync check``: what was verified on the server, and how it went."""

    name: str
    status: str  # ok, warn, fail (the diagnostics vocabulary)
    detail: str
    hint: str = ""


class Backend(Protocol):
    name: str
    label: str  # how people call the system ("RT"), shown next to a remote status
    queue: str  # where new tickets are created (the engine remembers which keep client ids)
    # how long the server may still act on a request after the client gave up on it: an
    # interrupted create is repeated only after this (RT: a bulk create keeps running)
    grace_s: float

    def open(self) -> None:
        """Connect and authenticate; check what the engine relies on (the client id field)."""

    def find_by_client_ids(self, client_ids: list[str]) -> dict[str, RemoteTicket]:
        """The remote tickets created for these fieldkit ids (the oldest one per id)."""

    def create_many(self, tickets: list[Ticket]) -> list[RemoteTicket | SyncError]:
        """Create remote tickets tagged with ``ticket.id`` as client id, per item in order."""

    def get_many(self, remote_ids: list[str]) -> dict[str, RemoteTicket]:
        """Re-read remote tickets; an id missing from the answer is not visible to us (now)."""

    def post_many(self, posts: list[Post]) -> list[Outcome]:
        """Add notes (and files), per item in order; see the contract for the outcomes."""

    def update_many(self, updates: list[Update]) -> list[Outcome]:
        """Apply updates and confirm them by a re-read, per item in order."""

    def posted_event_ids(self, remote_id: str) -> set[str]:
        """Event ids of the posts the remote ticket already has."""

    def to_remote_status(self, status: str) -> str:
        """fieldkit's status in the server's words."""

    def to_local_status(self, remote_status: str) -> str | None:
        """The server's status in fieldkit's words; None when fieldkit has no equivalent."""

    def check(self) -> list[CheckItem]:
        """Verify the server is set up for sync (``fieldkit sync check``); needs ``open``."""

    def close(self) -> None:
        """Release connections."""
