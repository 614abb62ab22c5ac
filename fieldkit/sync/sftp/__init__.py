"""SFTP drop backend: each ticket becomes a bundle of files (see ``bundle.py``) on an SFTP server.

``[sync] backend = "sftp"``, ``url = "sftp://user@host:port/path"``: for central systems (or a
2nd-level team) that take tickets as files. The SSH side is fieldkit's own (``fieldkit.remote``):
host keys checked as OpenSSH checks them (every known_hosts file), ``--trust-new-host`` to
accept a new one, never a changed one.

How the backend contract (``backend.py``) maps onto files:

1. **Read-your-writes by client id**: a bundle is the directory named by the ticket's id, made
   visible by one rename once complete, so ``find_by_client_ids`` is a listing.
   ``RemoteTicket.id`` is that id too; ticket.json repeats it (``client_id`` as kept).
2. **Event ids**: every post is ``posts/<event-id>.json``; ``posted_event_ids`` reads them from
   the manifest, not the listing: a post counts once the manifest names it.
3. **Per-item outcomes**: a refused file fails its post or ticket; a broken connection is fatal
   and uncertain, and the next run reads the manifest before sending again.
4. **Updates** rewrite ticket.json atomically and are confirmed by reading it back.
5. **Nothing is repeated blindly**: a post already in the manifest is skipped; a file already
   in place with the right hash is not uploaded again; an interrupted ``.part`` bundle is
   removed and uploaded afresh. ``grace_s`` is 0: when the connection dies, so does the
   server's SFTP session, and nothing keeps working on our behalf.

What a file drop can hold: the ticket's fields and status as fieldkit last wrote them, and the
posts. No owner, no queue. Statuses are fieldkit's own words (identity mapping); receivers
should treat bundles as read-only, but a receiver that rewrites ``status`` in ticket.json
(atomically) is heard like a status change on RT.

The package: ``backend`` (the verbs), ``bundle`` (the layout and its JSON, no I/O), ``drop``
(verified file operations), ``check`` (``sync check``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fieldkit.sync.sftp.backend import SftpBackend

__all__ = ["SftpBackend", "from_settings"]


def from_settings(settings: dict[str, Any], path: Path, *, insecure: bool = False,
                  transport: Any = None, trust_new_host: bool = False,
                  ask_password: Callable[[str], str | None] | None = None) -> SftpBackend:
    """The backend for a validated [sync] section (``insecure`` and ``transport`` are RT's)."""
    from fieldkit.configschema import refusal, settings_of

    url = str(settings["url"])
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    drop = unquote(parts.path)
    if parts.scheme != "sftp" or not parts.hostname or port == -1 or not drop.startswith("/") \
            or parts.password or parts.query:
        raise refusal(path, settings_of("sync")["url"], url,
                      "an sftp://user@host[:port]/absolute/path URL for backend 'sftp'")
    from fieldkit.remote.hostkeys import own_file

    return SftpBackend(url, drop.rstrip("/") or "/", settings, known_hosts=own_file(path.parent),
                       trust_new_host=trust_new_host, ask_password=ask_password)
