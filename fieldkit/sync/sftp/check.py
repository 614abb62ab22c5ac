"""``fieldkit sync check`` for the SFTP drop: can fieldkit log in, write, and replace atomically?

Each line is verified by doing it, with a throwaway ``.part`` file that receivers ignore: a
login (host key included), the drop directory, writing and reading back a file, and OpenSSH's
``posix-rename@openssh.com`` (the atomic replace updates rely on). Interrupted uploads left
behind (``.part`` bundles) are counted: the next sync restarts them.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from fieldkit.sync.backend import CheckItem, SyncError
from fieldkit.sync.sftp import bundle
from fieldkit.sync.sftp.drop import Drop


class SftpSide(Protocol):
    """What the check uses of the SFTP backend (``backend.SftpBackend``)."""

    connection: Any
    drop_path: str

    @property
    def drop(self) -> Drop: ...

    def open(self) -> None: ...


def check_drop(backend: SftpSide) -> list[CheckItem]:
    try:
        backend.open()
    except SyncError as exc:
        hint = "run 'fieldkit sync check --trust-new-host' once the fingerprint is confirmed" \
            if exc.kind == "hostkey-unknown" else ""
        return [CheckItem("login", "fail", str(exc), hint)]
    target = backend.connection.target
    items = [CheckItem("login", "ok", f"logged in to {target.hostname}:{target.port} as "
                                      f"{target.user}, host key verified")]
    names = backend.drop.listdir()
    bundles = [n for n in names if bundle.CLIENT_ID.match(n)]
    parts = [n for n in names if n.endswith(bundle.PART)]
    items.append(CheckItem("drop-directory", "ok", f"{backend.drop_path} holds {len(bundles)} "
                                                   "bundle(s)"))
    probe = f".fieldkit-check-{uuid.uuid4()}"
    data = f"fieldkit sync check {probe}\n".encode()
    try:
        backend.drop.put(data, probe + bundle.PART)
    except SyncError as exc:
        items.append(CheckItem("writable", "fail", str(exc), "the SFTP user needs write "
                               "access to the drop directory"))
        return items
    items.append(CheckItem("writable", "ok", "a file was written, read back and renamed"))
    try:
        backend.drop.put(data, probe + bundle.PART, replace=True)
        items.append(CheckItem("atomic-replace", "ok", "posix-rename@openssh.com works"))
    except SyncError as exc:
        items.append(CheckItem("atomic-replace", "fail", str(exc), "updates need OpenSSH's "
                               "posix-rename extension: the server must be OpenSSH's sftp"))
    finally:
        backend.drop.remove(probe + bundle.PART)
    if parts:
        items.append(CheckItem("interrupted", "warn", f"{len(parts)} interrupted upload(s) "
                               f"({', '.join(sorted(parts)[:3])}...)", "the next 'fieldkit "
                               "sync' removes them and uploads those tickets afresh"))
    return items
