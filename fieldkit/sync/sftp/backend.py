"""The SFTP drop backend: the :class:`~fieldkit.sync.backend.Backend` verbs as bundles of files.

How each promise of the contract maps onto files is in the package docstring (``__init__.py``);
the bundle layout is ``bundle.py``, the verified file operations ``drop.py``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fieldkit.sync.backend import (
    CheckItem,
    Post,
    RemoteTicket,
    StatusConflict,
    SyncError,
    Update,
)
from fieldkit.sync.sftp import bundle
from fieldkit.sync.sftp.check import check_drop
from fieldkit.sync.sftp.drop import Drop
from fieldkit.tickets.model import STATUSES, Ticket


class SftpBackend:
    name = "sftp"
    label = "SFTP"
    grace_s = 0.0  # see the module docstring, point 5

    def __init__(self, url: str, drop: str, settings: dict[str, Any], *, known_hosts: Path,
                 trust_new_host: bool = False,
                 ask_password: Callable[[str], str | None] | None = None) -> None:
        self.url = url
        self.queue = url  # the engine remembers per "queue" that client ids stick: they do here
        self.drop_path = drop
        self.settings = settings
        self.known_hosts = known_hosts
        self.trust_new_host = trust_new_host
        self.ask_password = ask_password
        self.connection: Any = None
        self._drop: Drop | None = None
        self.saved_key = ""  # what --trust-new-host saved, for the CLI to say
        self.warning = ""  # the loud block when the host key changed, for the CLI to show

    # -- session ------------------------------------------------------------------------------

    def open(self) -> None:
        """Connect (host key, login), open SFTP, check the drop directory; failures are fatal."""
        from fieldkit.errors import FieldkitError, RemoteError
        from fieldkit.remote.ssh import SshOptions, connect
        from fieldkit.remote.target import parse_host

        parts = urlsplit(self.url)
        timeout = float(self.settings["timeout_s"])
        netloc = parts.netloc if parts.username or not self.settings.get("user") else \
            f"{self.settings['user']}@{parts.netloc}"
        options = SshOptions(known_hosts=self.known_hosts, connect_timeout_s=timeout,
                             auth_timeout_s=timeout, command_timeout_s=timeout,
                             identity=self.settings.get("identity_file") or None,
                             trust_new_host=self.trust_new_host, ask_password=self.ask_password)
        try:
            self.connection = connect(parse_host(f"ssh://{netloc}"), options)
            self.saved_key = self.connection.saved_key
            self._drop = Drop(self.connection.sftp(), self.drop_path, self.where)
        except RemoteError as exc:
            self.warning = getattr(exc, "warning", "")
            hint = " (or run 'fieldkit sync check --trust-new-host')" \
                if exc.kind == "hostkey-unknown" else ""
            raise SyncError(str(exc).replace("--trust-new-host to save it",
                                             "--trust-new-host to save it" + hint),
                            kind=exc.kind, fatal=True) from None
        except FieldkitError as exc:  # a bad identity_file: the configuration's fault
            raise SyncError(str(exc), kind="config", fatal=True) from None
        kind = self.drop.is_dir()
        if not kind:
            raise SyncError(f"the drop directory {self.drop_path} does not exist on "
                            f"{parts.hostname} (or is not a directory): create it there, or fix "
                            "[sync] url", kind="config", fatal=True)

    @property
    def drop(self) -> Drop:
        if self._drop is None:
            raise SyncError("the SFTP drop is not open", kind="internal", fatal=True)
        return self._drop

    @property
    def where(self) -> str:
        parts = urlsplit(self.url)
        return f"sftp://{parts.hostname}{f':{parts.port}' if parts.port else ''}{self.drop_path}"

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    # -- the Backend verbs --------------------------------------------------------------------

    def find_by_client_ids(self, client_ids: list[str]) -> dict[str, RemoteTicket]:
        present = set(self.drop.listdir())
        found = {}
        for cid in client_ids:
            if cid in present:
                # a bundle whose ticket.json a receiver damaged still exists: adopt it (never
                # create it twice); reading it back then fails that ticket alone
                remote = self._read(cid, damaged_ok=True)
                found[cid] = remote or RemoteTicket(cid, f"{self.where.rstrip('/')}/{cid}/", "",
                                                    client_id=cid)
        return found

    def create_many(self, tickets: list[Ticket]) -> list[RemoteTicket | SyncError]:
        return _each(tickets, self._create)

    def _create(self, ticket: Ticket) -> RemoteTicket:
        cid = ticket.id
        if not bundle.CLIENT_ID.match(cid):
            raise SyncError(f"{ticket.ref}: id {cid!r} cannot name a bundle", kind="rejected")
        part = cid + bundle.PART
        stale = self.drop.is_dir(part) is not None  # an interrupted upload
        if self.drop.is_dir(cid):  # made by an earlier run whose answer we lost
            existing = self._read(cid)
            if existing is not None:
                if stale:
                    self.drop.remove_tree(part)
                return existing
        if stale:  # start it afresh
            self.drop.remove_tree(part)
        self.drop.mkdir(part)
        self.drop.mkdir(part, "posts")
        self.drop.mkdir(part, "files")
        doc = bundle.ticket_doc(ticket, self.to_remote_status(ticket.status))
        data = bundle.encode(doc)
        self.drop.put(data, part, bundle.TICKET)
        manifest = bundle.new_manifest(cid)
        bundle.record(manifest, bundle.TICKET, data)
        self.drop.put(bundle.encode(manifest), part, bundle.MANIFEST)
        self.drop.rename(part, cid)
        return self._remote(cid, doc)

    def get_many(self, remote_ids: list[str]) -> dict[str, RemoteTicket]:
        """Bundles that are missing or damaged are left out: that fails their tickets only."""
        return {rid: remote for rid in remote_ids
                if (remote := self._read(rid, damaged_ok=True)) is not None}

    def post_many(self, posts: list[Post]) -> list[SyncError | None]:
        by_ticket: dict[str, list[int]] = {}
        for i, post in enumerate(posts):
            by_ticket.setdefault(post.remote_id, []).append(i)
        outcomes: list[SyncError | None] = [None] * len(posts)
        for remote_id, indexes in by_ticket.items():
            try:
                for i, outcome in zip(indexes, self._post_ticket(remote_id, [posts[i] for i in
                                                                             indexes]),
                                      strict=True):
                    outcomes[i] = outcome
            except SyncError as exc:
                if exc.fatal:
                    raise
                for i in indexes:
                    outcomes[i] = exc
        return outcomes

    def _post_ticket(self, remote_id: str, posts: list[Post]) -> list[SyncError | None]:
        """Place every post's files, then name them all in one manifest replace."""
        manifest = self._manifest(remote_id)
        outcomes: list[SyncError | None] = []
        placed: list[tuple[Post, dict[str, bytes]]] = []
        for post in posts:
            if post.event_id in manifest["posts"]:
                outcomes.append(None)  # there and complete: nothing to upload
                continue
            try:
                placed.append((post, self._place(remote_id, post, manifest)))
                outcomes.append(None)
            except SyncError as exc:
                if exc.fatal:
                    raise
                outcomes.append(exc)
        if not placed:
            return outcomes
        for post, files in placed:
            for name, data in files.items():
                bundle.record(manifest, name, data)
            manifest["posts"].append(post.event_id)
        try:
            self.drop.put(bundle.encode(manifest), remote_id, bundle.MANIFEST, replace=True)
        except SyncError as exc:
            if exc.fatal:
                raise
            exc.uncertain = True  # the manifest may be in place; the next run reads it first
            return [exc if any(p is post for p, _f in placed) else outcome
                    for post, outcome in zip(posts, outcomes, strict=True)]
        return outcomes

    def _place(self, remote_id: str, post: Post, manifest: dict[str, Any]) -> dict[str, bytes]:
        """Upload a post's files unless already in place with the right hash."""
        files: dict[str, bytes] = {}
        attachment = None
        if post.attachment:
            attachment = bundle.attachment_path(post.event_id, post.attachment.filename)
            files[attachment] = post.attachment.content
        files[bundle.post_path(post.event_id)] = bundle.encode(bundle.post_doc(post, attachment))
        for name, data in files.items():
            known = manifest["files"].get(name, {})
            if known.get("sha256") == bundle.sha256(data):
                continue
            if self.drop.read(remote_id, name) == data:  # placed by a run that died after
                continue
            if name.startswith("files/"):
                self.drop.mkdir(remote_id, posixpath.dirname(name))
            self.drop.put(data, remote_id, name, replace=True)
        return files

    def update_many(self, updates: list[Update]) -> list[SyncError | None]:
        return _each(updates, self._update)

    def _update(self, update: Update) -> SyncError | None:
        rid = update.remote_id
        raw = self.drop.read(rid, bundle.TICKET)
        current = self._ticket_json(rid, raw)
        if current is None:
            return SyncError(f"bundle {rid} is not in {self.where} any more", kind="denied")
        held_status = str(current.get("status") or "")
        raced = bool(update.status) and update.expect is not None and held_status != update.expect
        if raced:  # changed by the receiver while this sync ran: the fields go, theirs stays
            update = Update(update.remote_id, update.ticket, update.fields)
        status = update.status or held_status
        doc = bundle.ticket_doc(update.ticket, status)
        data = bundle.encode(doc)
        if data != raw:  # already so (a re-run after a lost answer): nothing to upload
            manifest = self._manifest(rid)
            self.drop.put(data, rid, bundle.TICKET, replace=True)
            bundle.record(manifest, bundle.TICKET, data)
            self.drop.put(bundle.encode(manifest), rid, bundle.MANIFEST, replace=True)
        held = self._ticket_json(rid) or {}
        wrong = bundle.mismatches(doc, held, update.fields, update.status)
        if wrong:
            return SyncError(f"ticket.json of {rid} does not show {', '.join(wrong)} after the "
                             "update", kind="rejected")
        if raced:
            return StatusConflict(f"ticket.json of {rid} says {held_status} now, not "
                                  "what this sync read: changed while it ran", remote=held_status)
        return None

    def posted_event_ids(self, remote_id: str) -> set[str]:
        return set(self._manifest(remote_id)["posts"])

    def to_remote_status(self, status: str) -> str:
        return status

    def to_local_status(self, remote_status: str) -> str | None:
        return remote_status if remote_status in STATUSES else None

    def check(self) -> list[CheckItem]:
        return check_drop(self)

    # -- reading bundles ---------------------------------------------------------------------

    def _read(self, cid: str, damaged_ok: bool = False) -> RemoteTicket | None:
        try:
            doc = self._ticket_json(cid)
        except SyncError:
            if not damaged_ok:
                raise
            return None
        return self._remote(cid, doc) if doc is not None else None

    def _ticket_json(self, cid: str, data: bytes | None = None) -> dict[str, Any] | None:
        data = self.drop.read(cid, bundle.TICKET) if data is None else data
        if data is None:
            return None
        try:
            return bundle.read_ticket(data)
        except ValueError as exc:
            raise SyncError(f"{cid}/{bundle.TICKET} in {self.where} is damaged ({exc})",
                            kind="protocol") from None

    def _manifest(self, cid: str) -> dict[str, Any]:
        data = self.drop.read(cid, bundle.MANIFEST)
        if data is None:
            raise SyncError(f"bundle {cid} is not in {self.where} (or has no manifest)",
                            kind="denied")
        try:
            return bundle.read_manifest(data, cid)
        except ValueError as exc:
            raise SyncError(f"{cid}/{bundle.MANIFEST} in {self.where} is damaged ({exc})",
                            kind="protocol") from None

    def _remote(self, cid: str, doc: dict[str, Any]) -> RemoteTicket:
        values = {key: doc.get(key) for key in bundle.TICKET_FIELDS}
        return RemoteTicket(cid, f"{self.where.rstrip('/')}/{cid}/", str(doc.get("status", "")),
                            client_id=str(doc.get("id", "")), queue=self.url, values=values)


Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def _each(items: list[Item], step: Callable[[Item], Outcome]) -> list[Outcome | SyncError]:
    """One item's failure is that item's outcome; only a fatal error (the drop is gone) ends all."""
    outcomes: list[Outcome | SyncError] = []
    for item in items:
        try:
            outcomes.append(step(item))
        except SyncError as exc:
            if exc.fatal:
                raise
            outcomes.append(exc)
    return outcomes
