"""File operations on the SFTP drop, each verified, each failure a :class:`SyncError`.

A file is written as ``NAME.part``, its size checked (stat), its content read back and
compared by sha256, and only then renamed to ``NAME``: a receiver never sees a partial file
under its real name, and a file we report as written has the bytes we meant. Replacing an
existing file uses OpenSSH's ``posix-rename@openssh.com`` (an atomic replace; plain SFTP rename
refuses to overwrite). One lock around every request: paramiko's SFTP client is not meant to be
shared by the engine's worker threads.

Errors: a refusal by the server (no such file, permission denied, disk full) fails one item;
a broken connection is ``fatal`` (everything else would fail alike) and ``uncertain`` (the
last request may have been carried out).
"""

from __future__ import annotations

import errno
import posixpath
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import paramiko

from fieldkit.sync.backend import SyncError
from fieldkit.sync.sftp.bundle import PART, sha256

T = TypeVar("T")
# bundles hold customer data: never readable by everyone on the server; the group may read
# (the receiving system's account)
FILE_MODE, DIR_MODE = 0o640, 0o750


class Drop:
    def __init__(self, sftp: paramiko.SFTPClient, root: str, where: str) -> None:
        self.sftp = sftp
        self.root = root.rstrip("/") or "/"
        self.where = where  # the drop as the user wrote it, for messages
        self.lock = threading.Lock()

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    # -- reading -----------------------------------------------------------------------------

    def listdir(self, *parts: str) -> list[str]:
        return self._call(lambda: self.sftp.listdir(self.path(*parts)), "listing", parts)

    def is_dir(self, *parts: str) -> bool | None:
        """True for a directory, False for something else, None when nothing is there."""
        def probe() -> bool | None:
            try:
                mode = self.sftp.stat(self.path(*parts)).st_mode or 0
            except FileNotFoundError:
                return None
            return stat.S_ISDIR(mode)

        return self._call(probe, "looking at", parts)

    def read(self, *parts: str) -> bytes | None:
        """The file's bytes; None when it does not exist."""
        def fetch() -> bytes | None:
            try:
                with self.sftp.open(self.path(*parts), "rb") as f:
                    f.prefetch()
                    return f.read()
            except FileNotFoundError:
                return None

        return self._call(fetch, "reading", parts)

    # -- writing -----------------------------------------------------------------------------

    def put(self, data: bytes, *parts: str, replace: bool = False) -> None:
        """Write ``NAME.part``, verify size and sha256, rename to ``NAME``."""
        final = self.path(*parts)
        part = final + PART

        def upload() -> None:
            with self.sftp.open(part, "wb") as out:
                out.chmod(FILE_MODE)  # before any byte of customer data is in it
                out.set_pipelined(True)
                out.write(data)
            with self.sftp.open(part, "rb") as f:
                f.prefetch()
                back = f.read()
            if len(back) != len(data) or sha256(back) != sha256(data):
                self.sftp.remove(part)
                raise OSError(errno.EIO, f"{final}: the copy read back differs from what was "
                                         "sent (size or sha256)")
            if replace:
                self.sftp.posix_rename(part, final)
            else:
                self.sftp.rename(part, final)

        self._call(upload, "uploading", parts)

    def mkdir(self, *parts: str) -> None:
        def make() -> None:
            try:
                self.sftp.mkdir(self.path(*parts), mode=DIR_MODE)
            except OSError:
                if not stat.S_ISDIR(self.sftp.stat(self.path(*parts)).st_mode or 0):
                    raise

        self._call(make, "creating", parts)

    def rename(self, old: str, new: str) -> None:
        self._call(lambda: self.sftp.rename(self.path(old), self.path(new)), "renaming",
                   (old,))

    def remove_tree(self, *parts: str) -> None:
        """Delete a directory and everything in it (an interrupted ``.part`` bundle)."""
        def walk(path: str) -> None:
            for entry in self.sftp.listdir_attr(path):
                child = posixpath.join(path, entry.filename)
                if stat.S_ISDIR(entry.st_mode or 0):
                    walk(child)
                else:
                    self.sftp.remove(child)
            self.sftp.rmdir(path)

        self._call(lambda: walk(self.path(*parts)), "removing", parts)

    def remove(self, *parts: str) -> None:
        self._call(lambda: self.sftp.remove(self.path(*parts)), "removing", parts)

    # -- errors ------------------------------------------------------------------------------

    def _call(self, func: Callable[[], T], doing: str, parts: tuple[str, ...]) -> T:
        with self.lock, self._errors(doing, parts):
            return func()
        raise AssertionError("unreachable")  # pragma: no cover - for mypy's flow analysis

    @contextmanager
    def _errors(self, doing: str, parts: tuple[str, ...]) -> Iterator[None]:
        what = "/".join(parts) or "the drop directory"
        try:
            yield
        except (EOFError, paramiko.SSHException, TimeoutError) as exc:
            raise SyncError(f"the SFTP connection to {self.where} broke while {doing} {what} "
                            f"({str(exc) or exc.__class__.__name__})", kind="connection",
                            fatal=True, uncertain=True) from None
        except OSError as exc:
            if not self.sftp.get_channel().get_transport().is_active():
                raise SyncError(f"the SFTP connection to {self.where} broke while {doing} "
                                f"{what}", kind="connection", fatal=True, uncertain=True
                                ) from None
            kind = {errno.ENOENT: "missing", errno.EACCES: "denied",
                    errno.EPERM: "denied"}.get(exc.errno or 0, "rejected")
            reason = exc.strerror or str(exc) or "refused"
            raise SyncError(f"SFTP {doing} {what} in {self.where} failed: {reason}",
                            kind=kind) from None
