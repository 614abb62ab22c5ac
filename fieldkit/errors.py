"""Errors a user can cause, in words a technician understands.

The CLI turns every ``FieldkitError`` into one line on stderr and the exit code it carries, so the
core raises these instead of printing. Anything else reaching the CLI is a bug and is reported as
such (exit 70), with the traceback only under ``--debug``.
"""

from __future__ import annotations


class FieldkitError(Exception):
    """Base class: ``str(err)`` is the one line shown to the user."""

    exit_code = 2


class InputError(FieldkitError):
    """A value given on the command line or in a file is not acceptable."""

    exit_code = 2


class NotFoundError(FieldkitError):
    """The ticket (or run, or profile) asked for does not exist."""

    exit_code = 3


class TransitionError(FieldkitError):
    """The ticket cannot move that way (closing a ticket that was never resolved, ...)."""

    exit_code = 2


class StoreError(FieldkitError):
    """The local store cannot be used as it is; it is left untouched."""

    exit_code = 4


class StoreCorruptError(StoreError):
    pass


class StoreVersionError(StoreError):
    pass


class StoreLockedError(StoreError):
    pass


class ConfigError(FieldkitError):
    """config.toml is missing something the command needs, or is malformed."""

    exit_code = 5


class RemoteError(FieldkitError):
    """The remote host could not be used (``--host``): refused, timed out, authentication failed,
    host key unknown or changed, no python3 there, or the remote command failed.

    ``kind`` names the failure for tests and JSON (refused, timeout, unreachable, resolve,
    handshake, hostkey-unknown, hostkey-changed, auth, no-python, command, config).
    """

    exit_code = 7

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind
