"""A ticket's link to its copy in the central ticket system: the sync's state, per ticket.

The sync writes it (``fieldkit.sync``), the views read it; nothing else needs its keys. It is
stored inside the ticket as the ``remote`` object, and :meth:`Link.to_dict` /
:meth:`Link.from_dict` are the one place that converts it: keys left unset are not stored, the
others in a fixed order (the order the sync has always written them in), so the stored bytes
and ``ticket show --json`` stay as they were before the link had a type. Keys this fieldkit does
not know (a newer one wrote them) are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypedDict


class Conflict(TypedDict):
    """Both sides changed the status since they last agreed (shown, and in the sync report)."""

    ref: str
    field: str  # "status"
    local: str  # the local status
    remote: str  # the server's status, in its own words
    base: str | None  # the server's status both last agreed on
    remote_local: str | None  # the server's status in fieldkit's words (None: none such)


class StatusWrite(TypedDict):
    """A status update sent but not yet checked against the server's history."""

    since: int  # the server's history mark taken before sending
    expect: str  # the server's status the update was made against
    status: str  # the status sent


@dataclass
class Link:
    status: str | None = None  # the server's status at the last agreement (its own words)
    agreed_local: str | None = None  # the local status at the last agreement
    id: str | None = None  # the remote ticket's id: set once it exists there
    url: str | None = None
    system: str | None = None  # the backend's label, for views ("RT")
    synced_at: str | None = None
    owner: str | None = None  # who owns it there ("": nobody)
    held: str | None = None  # why no more is sent: its client id does not stick there
    status_write: StatusWrite | None = None
    conflict: Conflict | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys a newer fieldkit wrote

    @property
    def linked(self) -> bool:
        return bool(self.id)

    def to_dict(self) -> dict[str, Any]:
        data = {name: value for name in _KEYS if (value := getattr(self, name)) is not None}
        return {**data, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Link:
        data = data or {}
        return cls(**{k: v for k, v in data.items() if k in _KEYS},
                   extra={k: v for k, v in data.items() if k not in _KEYS})


_KEYS = tuple(f.name for f in fields(Link) if f.name != "extra")
