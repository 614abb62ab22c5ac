"""``--host``: the options the diagnostics commands share, and the terminal side of SSH.

Hidden prompts for a password or passphrase (only on a terminal), the note when
``--trust-new-host`` saved a key, and the loud warning when a host key changed. Everything else
is in ``fieldkit.remote``, which is imported only when ``--host`` is given.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from fieldkit.diagnostics.jobs import Job
    from fieldkit.diagnostics.model import DiagRun
    from fieldkit.remote.ssh import SshOptions

HOST = typer.Option(None, "--host", metavar="ssh://[user@]host[:port]",
                    help="Run on that machine over SSH (its fieldkit, or this fieldkit's checks "
                         "uploaded for the run).")
TRUST = typer.Option(False, "--trust-new-host",
                     help="Save the SSH host key of a machine not seen before (compare its "
                          "fingerprint first). Never accepts a changed key.")
IDENTITY = typer.Option(None, "-i", "--identity", metavar="KEY",
                        help="SSH private key to log in with (else the SSH agent, ~/.ssh keys, "
                             "a password prompt).")


def ask_hidden(prompt: str) -> str | None:
    """A hidden prompt; the answer is never echoed, stored or logged."""
    answer = typer.prompt(prompt, hide_input=True, default="", show_default=False)
    return answer or None


def ssh_options(settings: dict, *, trust: bool, identity: str | None) -> SshOptions:
    """SSH options from the validated ``[remote]`` section and the flags."""
    from fieldkit.config import home
    from fieldkit.errors import InputError
    from fieldkit.remote.hostkeys import own_file
    from fieldkit.remote.ssh import SshOptions

    key = identity or settings.get("identity_file") or None
    if identity and not Path(identity).expanduser().is_file():
        raise InputError(f"-i {identity}: no such file")
    return SshOptions(
        known_hosts=own_file(home()),
        connect_timeout_s=settings["connect_timeout_s"],
        auth_timeout_s=settings["auth_timeout_s"],
        command_timeout_s=settings["command_timeout_s"],
        identity=key, trust_new_host=trust,
        ask_password=ask_hidden if sys.stdin.isatty() else None)


def run_on_host(job: Job, host: str, *, trust: bool, identity: str | None,
                password: str | None = None) -> DiagRun:
    """Run ``job`` on ``host``; every failure to use the host is exit 7 (RemoteError)."""
    from fieldkit.cli.common import section
    from fieldkit.remote.run import run_remote
    from fieldkit.remote.ssh import HostKeyChangedError, connect
    from fieldkit.remote.target import parse_host

    settings = section("remote")
    job.validate()
    target = parse_host(host)
    options = ssh_options(settings, trust=trust, identity=identity)
    try:
        with connect(target, options) as connection:
            if connection.saved_key:
                print(f"fieldkit: {connection.saved_key}", file=sys.stderr)
            return run_remote(connection, job, password=password,
                              use_installed=settings["use_installed"])
    except HostKeyChangedError as exc:
        print(exc.warning, file=sys.stderr)
        raise
