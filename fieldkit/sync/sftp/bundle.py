"""A ticket as files in an SFTP drop: the bundle layout and its JSON documents (no I/O here).

::

    <drop>/<client-id>/              one bundle per ticket, named by fieldkit's id for it
        ticket.json                  the ticket's fields and status ("fieldkit.ticket/1")
        posts/<event-id>.json        one per note, escalation, solution, detail change, run
        files/<event-id>/<name>      a post's attachment (a diagnostic run as JSON)
        manifest.json                size and sha256 of every file above, and the posts in
                                     order ("fieldkit.bundle/1"); replaced last, atomically
    <drop>/<client-id>.part/         a bundle still being uploaded: receivers ignore it
    ....json.part                    a file still being uploaded: receivers ignore it

Rules that make it safe to read at any moment: every file is uploaded as ``NAME.part``,
checked (size, then sha256 read back) and only then renamed to ``NAME``; a new bundle becomes
visible by renaming its whole ``.part`` directory, with ticket.json and manifest.json inside;
the manifest is replaced only after every file it names is in place. A receiver reads
manifest.json and then the files it lists; a hash that does not match means a sync is
replacing ticket.json right now: read again.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fieldkit.sync.backend import Post
from fieldkit.tickets.model import Ticket, utc_now

BUNDLE_SCHEMA = "fieldkit.bundle/1"
TICKET_SCHEMA = "fieldkit.ticket/1"
POST_SCHEMA = "fieldkit.post/1"
PART = ".part"
TICKET, MANIFEST = "ticket.json", "manifest.json"
CLIENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# what ticket.json holds and update_many can confirm by reading it back
TICKET_FIELDS = ("id", "ref", "title", "description", "requester", "contact", "site", "asset",
                 "category", "impact", "urgency", "priority", "level", "status", "created_at",
                 "updated_at")
FIELD_KEYS = {"title": ("title",), "priority": ("priority", "impact", "urgency"),
              "category": ("category",), "site": ("site",), "level": ("level",),
              "client_id": ("id",)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def ticket_doc(ticket: Ticket, status: str) -> dict[str, Any]:
    """The ticket's fields as the drop holds them; ``status`` as decided by the sync."""
    data = ticket.to_dict()
    doc = {key: data.get(key) for key in TICKET_FIELDS}
    doc.update(schema=TICKET_SCHEMA, status=status)
    return doc


def post_doc(post: Post, attachment: str | None) -> dict[str, Any]:
    """A post, the same bytes however often it is built (no sync time in it)."""
    doc: dict[str, Any] = {"schema": POST_SCHEMA, "event_id": post.event_id,
                           "ticket": post.remote_id, "text": post.text,
                           "minutes": post.minutes, "attachment": None}
    if post.attachment and attachment:
        doc["attachment"] = {"file": attachment, "filename": post.attachment.filename,
                             "mime": post.attachment.mime,
                             "size": len(post.attachment.content),
                             "sha256": sha256(post.attachment.content)}
    return doc


def post_path(event_id: str) -> str:
    return f"posts/{event_id}.json"


def attachment_path(event_id: str, filename: str) -> str:
    """``files/<event-id>/<name>``, the name reduced to characters safe on any file system."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "attachment"
    return f"files/{event_id}/{safe[:100]}"


def new_manifest(client_id: str) -> dict[str, Any]:
    return {"schema": BUNDLE_SCHEMA, "ticket": client_id, "updated_at": utc_now(),
            "files": {}, "posts": []}


def record(manifest: dict[str, Any], name: str, data: bytes) -> None:
    """Note a file (now in place) in the manifest."""
    manifest["files"][name] = {"size": len(data), "sha256": sha256(data)}
    manifest["updated_at"] = utc_now()


def read_manifest(data: bytes, client_id: str) -> dict[str, Any]:
    """The manifest as read; ValueError when it is not one of ours."""
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("schema") != BUNDLE_SCHEMA \
            or not isinstance(doc.get("files"), dict) or not isinstance(doc.get("posts"), list):
        raise ValueError(f"{MANIFEST} of {client_id} is not a {BUNDLE_SCHEMA} manifest")
    return doc


def read_ticket(data: bytes) -> dict[str, Any]:
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("schema") != TICKET_SCHEMA:
        raise ValueError(f"not a {TICKET_SCHEMA} document")
    return doc


def mismatches(wanted: dict[str, Any], held: dict[str, Any], fields: frozenset[str],
               status: str | None) -> list[str]:
    """What a re-read ticket.json does not show of an update."""
    keys = {key for field in fields for key in FIELD_KEYS.get(field, ())}
    if status:
        keys.add("status")
    return sorted(key for key in keys if held.get(key) != wanted.get(key))
