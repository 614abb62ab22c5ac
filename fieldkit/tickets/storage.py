"""The low-level guarantees the ticket store is built on: atomic replace and one writer at a time.

A ticket file is only ever replaced whole: the new content goes to a temp file in the store's own
``tmp/`` directory (same filesystem), is fsynced, renamed over the old file, and the directory is
fsynced. A process killed at any instant therefore leaves either the old or the new file, never a
torn one. Readers never see partial data; writers serialise on an ``flock`` so two terminals never
lose each other's update. Files are created 0600: they hold customer data.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from fieldkit import fastjson
from fieldkit.errors import FieldkitError, StoreCorruptError, StoreLockedError

FILE_MODE = 0o600
LOCK_TIMEOUT_S = 30.0


def fsync_dir(path: Path) -> None:
    """Make a rename durable: POSIX only persists it once the directory itself is synced."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, tmp_dir: Path) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, whole."""
    with staged_file(tmp_dir, path.name) as (fd, tmp):
        write_all(fd, data)
    publish(tmp, path)


@contextmanager
def staged_file(tmp_dir: Path, stem: str) -> Iterator[tuple[int, Path]]:
    """A fresh 0600 temp file for the caller to fill; fsynced and closed when the block ends.

    On any error (a full disk, Ctrl-C, a refused size) the temp file is removed, so nothing
    half-written is ever left for ``publish`` or a later reader to find.
    """
    tmp = tmp_dir / f"{stem}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        yield fd, tmp
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)


def publish(tmp: Path, path: Path) -> None:
    """Rename a finished temp file onto ``path`` and make the rename durable."""
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_all(fd: int, data: bytes) -> None:
    """os.write may write less than asked (signals, pipes): loop until all of it is out."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_json(path: Path) -> Any | None:
    """Parse a store file: None when missing, StoreCorruptError when unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return parse_json(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreCorruptError(
            f"store file {path} is damaged ({exc.__class__.__name__}); it was left untouched - "
            "restore it from a backup or move it aside"
        ) from None


def parse_json(raw: bytes | str) -> Any:
    """Shards, indexes and meta files: json for a few, orjson for years of them (fastjson)."""
    return fastjson.loads(raw)


def dump_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class AtomicJSONStorage(Storage):
    """TinyDB storage that reads strictly and writes atomically (see module docstring).

    TinyDB's own JSONStorage truncates and rewrites the file in place, and silently treats some
    damage as an empty database; neither is acceptable for tickets nobody else has a copy of.
    """

    def __init__(self, path: str, tmp_dir: str) -> None:
        self.path = Path(path)
        self.tmp_dir = Path(tmp_dir)

    def read(self) -> dict[str, dict[str, Any]] | None:
        data = read_json(self.path)
        if data is not None and not isinstance(data, dict):
            raise StoreCorruptError(
                f"store file {self.path} has an unexpected layout; left untouched"
            )
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, dump_json(data), self.tmp_dir)

    def close(self) -> None:
        pass


# Set by the CLI: how to tell the technician that we wait for another fieldkit (stderr).
WaitNotice = Callable[[str], None]
wait_notice: WaitNotice | None = None
WAIT_NOTICE_AFTER_S = 1.0


@contextmanager
def exclusive_lock(lock_path: Path, timeout_s: float = LOCK_TIMEOUT_S,
                   busy: Callable[[], FieldkitError] | None = None) -> Iterator[None]:
    """Hold an inter-process lock; waits up to ``timeout_s`` for another fieldkit to finish.

    ``busy`` makes the error raised when the wait runs out (default: the store is busy). The
    holder writes its pid into the lock file, so a waiting fieldkit can say whom it waits for.
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        try:
            _wait_for(fd, lock_path, timeout_s)
        except StoreLockedError:
            if busy is None:
                raise
            raise busy() from None
        _write_pid(fd)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def lock_if_free(lock_path: Path) -> Iterator[bool]:
    """Take the lock only if nobody holds it (readers repairing an index must never wait)."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError:
        yield False
        return
    try:
        yield _try_lock(fd)
    finally:
        os.close(fd)


def _wait_for(fd: int, lock_path: Path, timeout_s: float) -> None:
    start = time.monotonic()
    told = False
    while not _try_lock(fd):
        waited = time.monotonic() - start
        if waited >= timeout_s:
            raise StoreLockedError(f"the store is busy ({lock_path} is held by another fieldkit "
                                   f"process{holder_text(lock_path)} for more than "
                                   f"{timeout_s:g} s)")
        if not told and waited >= WAIT_NOTICE_AFTER_S and wait_notice is not None:
            wait_notice(f"waiting for another fieldkit{holder_text(lock_path)} to finish with "
                        f"{lock_path.parent} ...")
            told = True
        time.sleep(0.01)


def holder_text(lock_path: Path) -> str:
    """`` (pid N)`` for the fieldkit holding ``lock_path``, or nothing when unknown."""
    try:
        pid = lock_path.read_text().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


if sys.platform != "win32":
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _write_pid(fd: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)

else:  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _write_pid(fd: int) -> None:
        pass  # the locked byte range cannot be rewritten while held on Windows
