"""The customer's acceptance of a report, kept in the ticket's history.

A sign-off is a history entry (``what`` = ``signoff``) with the name typed, the UTC time, a
comment, the sha256 of the report as signed and whether the signature is still to follow
(``pending``, for remote jobs). The typed name is the signature. Any later change to the ticket
(a note, an edit, a status...) makes it "signed before changes": what the customer signed is no
longer the whole story. Sync's own entries and the attachment of the signed report itself do
not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SIGNOFF = "signoff"
# history entries that do not change what was signed
_NEUTRAL = ("sync", SIGNOFF)


@dataclass(frozen=True)
class SignOff:
    name: str
    at: str  # UTC
    comment: str
    sha256: str
    pending: bool
    changed_after: bool  # "signed before changes"

    @classmethod
    def from_entry(cls, entry: dict[str, Any], changed_after: bool) -> SignOff:
        return cls(name=entry.get("name", ""), at=entry.get("at", ""),
                   comment=entry.get("comment", ""), sha256=entry.get("sha256", ""),
                   pending=bool(entry.get("pending")), changed_after=changed_after)


def entry(name: str, comment: str, sha256: str, pending: bool, at: str) -> dict[str, Any]:
    """The details of the history entry ``Ticket.sign_off`` records."""
    return {"name": name, "comment": comment, "sha256": sha256, "pending": pending,
            "signed_at": at}


def latest(ticket: Any) -> SignOff | None:
    """The last sign-off of ``ticket`` and whether the ticket changed after it."""
    history = ticket.history
    for index in range(len(history) - 1, -1, -1):
        if history[index].get("what") == SIGNOFF:
            signed = history[index]
            later = history[index + 1:]
            changed = any(h.get("what") not in _NEUTRAL and not _is_signed_file(h, ticket,
                                                                                 signed)
                          for h in later)
            return SignOff.from_entry(signed, changed)
    return None


def _is_signed_file(item: dict[str, Any], ticket: Any, signed: dict[str, Any]) -> bool:
    if item.get("what") != "attachment":
        return False
    meta = next((a for a in ticket.attachments if a["id"] == item.get("attachment_id")), None)
    return meta is not None and meta.get("sha256") == signed.get("sha256")
