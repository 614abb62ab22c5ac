"""SSH connections with the host key checked before any credential leaves this machine.

paramiko is imported here (and in ``auth``), nowhere else: it costs ~0.4 s, so only commands
that use SSH pay for it. We drive paramiko's ``Transport`` rather than ``SSHClient``: the host
key is judged by ``hostkeys`` (every known_hosts file ssh reads, plus fieldkit's own, decided
as OpenSSH decides) and never by a policy object, the known key types are asked for first,
and nothing here can save a host key except ``hostkeys.append`` to fieldkit's own file. None
of paramiko's missing-host-key policies is used anywhere in fieldkit (a test greps for them):
``--trust-new-host`` is the only way to accept a new key, and no flag accepts a changed one.

Every failure becomes a :class:`~fieldkit.errors.RemoteError` (exit 7) with a one-line message
naming what went wrong (refused, timeout, host key, authentication, command) and what to do.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko

from fieldkit.errors import RemoteError
from fieldkit.remote import hostkeys
from fieldkit.remote.auth import authenticate
from fieldkit.remote.options import SshOptions, why
from fieldkit.remote.target import Target, lookup_name

# paramiko logs transport failures with tracebacks; the user gets our one line instead
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False

@dataclass
class CommandResult:
    status: int
    stdout: bytes
    stderr: bytes

    def last_error_line(self) -> str:
        lines = self.stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1].strip() if lines else "no error message"


@dataclass
class Connection:
    target: Target
    transport: paramiko.Transport
    options: SshOptions
    saved_key: str = ""  # set when --trust-new-host saved the host key: what, and where

    def run(self, command: str, *, stdin: bytes = b"", timeout: float | None = None
            ) -> CommandResult:
        """Run ``command`` (already quoted) and wait for it, at most ``timeout`` seconds."""
        limit = timeout or self.options.command_timeout_s
        deadline = time.monotonic() + limit
        try:
            channel = self.transport.open_session(timeout=self.options.connect_timeout_s)
            channel.settimeout(limit)
            channel.exec_command(command)
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise RemoteError(f"{self.target.url}: cannot start a command there ({why(exc)})",
                              kind="command") from None
        stderr: list[bytes] = []
        reader = threading.Thread(target=_drain, args=(channel.recv_stderr, stderr), daemon=True)
        reader.start()
        stdout: list[bytes] = []
        try:
            while chunk := channel.recv(65536):
                stdout.append(chunk)
                channel.settimeout(max(0.01, deadline - time.monotonic()))
            reader.join(max(0.0, deadline - time.monotonic()))
            if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError
        except TimeoutError:
            channel.close()
            raise RemoteError(f"{self.target.url}: the remote command did not finish within "
                              f"{limit:g} s ([remote] command_timeout_s)", kind="timeout") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise RemoteError(f"{self.target.url}: the connection broke during a remote command "
                              f"({why(exc)})", kind="command") from None
        status = channel.recv_exit_status()
        channel.close()
        return CommandResult(status, b"".join(stdout), b"".join(stderr))

    def sftp(self) -> paramiko.SFTPClient:
        try:
            client = paramiko.SFTPClient.from_transport(self.transport)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise RemoteError(f"{self.target.url}: the server offers no SFTP ({why(exc)}); "
                              "its sshd_config needs a 'Subsystem sftp' line", kind="command"
                              ) from None
        if client is None:
            raise RemoteError(f"{self.target.url}: the server offers no SFTP", kind="command")
        client.get_channel().settimeout(self.options.command_timeout_s)
        return client

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(target: Target, options: SshOptions) -> Connection:
    """Connect, verify the host key, log in; any failure is a one-line RemoteError."""
    sock = _open_socket(target, options.connect_timeout_s)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = options.connect_timeout_s
        transport.handshake_timeout = options.connect_timeout_s
        transport.auth_timeout = options.auth_timeout_s
        files = [*target.known_hosts_files, options.known_hosts,
                 *target.system_known_hosts_files]
        known = hostkeys.lookup(files, target.known_hosts_name)
        security = transport.get_security_options()
        # as ssh: ordered by what the name itself holds, not the plain host tried after it
        security.key_types = hostkeys.preferred_algorithms(known, list(security.key_types))
        _handshake(transport, target, options)
        connection = Connection(target, transport, options)
        connection.saved_key = _verify_host_key(transport, target, options, known, files)
        authenticate(transport, target, options)
        return connection
    except BaseException:
        transport.close()
        raise


def _open_socket(target: Target, timeout: float) -> socket.socket:
    where = f"{target.url}"
    try:
        sock = socket.create_connection((target.hostname, target.port), timeout=timeout)
    except socket.gaierror as exc:
        raise RemoteError(f"{where}: the name {target.hostname} does not resolve "
                          f"({exc.strerror}): check the spelling or use the IP address",
                          kind="resolve") from None
    except ConnectionRefusedError:
        raise RemoteError(f"{where}: connection refused on port {target.port}: no SSH server "
                          "listens there (sshd not running, wrong port) or a firewall rejects "
                          "it", kind="refused") from None
    except TimeoutError:
        raise RemoteError(f"{where}: no answer within {timeout:g} s: the machine is off, the "
                          f"address is wrong, or a firewall drops port {target.port}",
                          kind="timeout") from None
    except OSError as exc:
        raise RemoteError(f"{where}: cannot reach {target.hostname} ({exc.strerror or exc})",
                          kind="unreachable") from None
    # SSH sends small packets back to back (channel open, then its request): without this,
    # Nagle waits for the server's delayed ACK, ~40 ms per step (as OpenSSH, we turn it off)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _handshake(transport: paramiko.Transport, target: Target, options: SshOptions) -> None:
    try:
        transport.start_client(timeout=options.connect_timeout_s)
        if not transport.is_active() or transport.session_id is None:
            # start_client just returns when its own timeout strikes first
            raise TimeoutError("the key exchange timed out")
    except (paramiko.SSHException, OSError, EOFError) as exc:
        cause = exc.__context__
        if isinstance(exc, TimeoutError) or isinstance(cause, TimeoutError) \
                or "timed out" in why(exc).lower():
            raise RemoteError(f"{target.url}: port {target.port} accepts connections, but no "
                              f"SSH server spoke within {options.connect_timeout_s:g} s",
                              kind="timeout") from None
        if isinstance(cause, EOFError | ConnectionError) or "banner" in why(exc).lower():
            raise RemoteError(f"{target.url}: port {target.port} answers, but not as an SSH "
                              "server (wrong port?)", kind="handshake") from None
        raise RemoteError(f"{target.url}: the SSH handshake failed ({why(exc)})",
                          kind="handshake") from None


def _verify_host_key(transport: paramiko.Transport, target: Target, options: SshOptions,
                     known: list[hostkeys.KnownKey], files: list[Path]) -> str:
    """Accept a known key; refuse an unknown one (unless --trust-new-host: save it) and a
    changed or revoked one (always). Returns what was saved, for the CLI to say."""
    try:
        blob = transport.get_remote_server_key().asbytes()
    except paramiko.SSHException as exc:
        raise RemoteError(f"{target.url}: the SSH handshake failed ({why(exc)})",
                          kind="handshake") from None
    key_type, print_ = hostkeys.blob_type(blob), hostkeys.fingerprint(blob)
    if target.revoked_host_keys is not None:  # ssh checks it first, before any known_hosts
        _check_revoked_list(target, target.revoked_host_keys, blob, f"{key_type} {print_}")
    decision = hostkeys.decide(known, blob, target.known_hosts_name, files,
                               target.plain_known_hosts_name)
    if decision.verdict in (hostkeys.OK, hostkeys.UNKNOWN) and target.check_host_ip:
        _check_address(transport, target, files, blob, decision)
    if decision.verdict == hostkeys.OK:
        return ""
    if decision.verdict in (hostkeys.CHANGED, hostkeys.REVOKED):
        entries = list(decision.entries)
        raise HostKeyChangedError(target, key_type, print_, decision.verdict, entries,
                                  system=entries[0].path in target.system_known_hosts_files)
    if decision.conflicts:  # not simply new: say so before anyone reaches for the flag
        old = decision.conflicts[0]
        raise RemoteError(
            f"{target.url}: unknown host key on port {target.port}: {key_type} {print_}; but "
            f"{target.plain_known_hosts_name} itself is known with another key ({old.key_type} "
            f"{old.fingerprint}, {old.where}). --trust-new-host does not save a key that "
            "contradicts a known one. If a different SSH server really listens on that port, "
            "compare the fingerprint with it (ssh-keygen -lf on its host key) and add the "
            f"line for {target.known_hosts_name} to ~/.ssh/known_hosts yourself",
            kind="hostkey-unknown")
    if not options.trust_new_host:
        raise RemoteError(
            f"{target.url}: unknown host key: {key_type} {print_}. Compare this "
            "fingerprint with the machine's own (on it: ssh-keygen -lf "
            f"/etc/ssh/ssh_host_{_short(key_type)}_key.pub), then run the same command again "
            "with --trust-new-host to save it", kind="hostkey-unknown")
    hostkeys.append(options.known_hosts, target.known_hosts_name, blob)
    return f"saved the host key of {target.known_hosts_name} ({key_type} {print_}) to " \
           f"{options.known_hosts}"


def _check_revoked_list(target: Target, path: Path, blob: bytes, key: str) -> None:
    """RevokedHostKeys: a key listed there is refused; so is every key while the file cannot
    be judged, as ssh does (a KRL ssh reads, fieldkit cannot: it says so)."""
    try:
        listed = hostkeys.revoked_in_list(path, blob)
    except hostkeys.RevokedListError as exc:
        raise RemoteError(f"{target.url}: RevokedHostKeys {path}: {exc}; nothing was sent. "
                          "fieldkit refuses every host key while it cannot tell whether this "
                          f"one ({key}) is revoked", kind="hostkey-revoked-file") from None
    if listed:
        raise RemoteError(f"{target.url}: the host offers a REVOKED key ({key}, listed in "
                          f"RevokedHostKeys {path}); nothing was sent. Do not use this machine "
                          "until an administrator has checked it", kind="hostkey-revoked")


def _check_address(transport: paramiko.Transport, target: Target, files: list[Path],
                   blob: bytes, decision: hostkeys.Decision) -> None:
    """CheckHostIP yes: the key known for the server's address must not be another one."""
    address = transport.getpeername()[0]
    via_plain = decision.name == target.plain_known_hosts_name != ""
    found = hostkeys.address_conflict(files, blob, lookup_name(target.hostname), address,
                                      target.port, via_plain)
    if found is None:
        return
    old, name = found
    if via_plain and name == address:  # ssh's second try fails quietly: the host stays new
        raise RemoteError(
            f"{target.url}: unknown host key: {target.known_hosts_name} is not known; "
            f"{target.plain_known_hosts_name} is known with this key, but its address {address} "
            f"with another ({old.key_type} {old.fingerprint}, {old.where}; CheckHostIP yes). "
            "Nothing was sent; ask the administrator which entry is right",
            kind="hostkey-unknown")
    raise RemoteError(
        f"{target.url}: the host key ({hostkeys.blob_type(blob)} {hostkeys.fingerprint(blob)}) "
        f"differs from the key known for its address {address} ({old.key_type} "
        f"{old.fingerprint}, {old.where}; CheckHostIP yes). Nothing was sent: the name may "
        "point to another machine (DNS spoofing), or the address moved to a new machine; ask "
        "the administrator which entry is right", kind="hostkey-changed")


class HostKeyChangedError(RemoteError):
    """A known host offers a different key: a hard error, and no flag accepts it."""

    def __init__(self, target: Target, key_type: str, print_: str, verdict: str,
                 entries: list[hostkeys.KnownKey], *, system: bool = False) -> None:
        old = entries[0]
        if verdict == hostkeys.REVOKED:
            message = (f"{target.url}: the host offers a REVOKED key ({key_type} {print_}, "
                       f"marked @revoked in {old.where}); nothing was sent. Do not use this "
                       "machine until an administrator has checked it")
        else:
            message = (f"{target.url}: the host key has CHANGED: {old.where} has "
                       f"{old.key_type} {old.fingerprint}, the host now offers {key_type} "
                       f"{print_}. Nothing was sent. Someone may be intercepting the connection, "
                       "or the machine was reinstalled: ask its administrator. Only if the "
                       f"change is confirmed, delete line {old.line} of {old.path}"
                       f"{' (a system file: an administrator of this PC)' if system else ''} "
                       "and connect again")
        super().__init__(message, kind=f"hostkey-{verdict}")
        self.warning = "\n".join([
            "@" * 59,
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
            "@" * 59,
            f"The SSH host key of {target.known_hosts_name} is not the one fieldkit knows.",
            "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY (a man-in-the-middle attack).",
            f"Offered: {key_type} {print_}",
            f"Known:   {old.key_type} {old.fingerprint} ({old.where})",
            "fieldkit refuses to connect; no option overrides this.",
        ])


def _short(key_type: str) -> str:
    return {"ssh-ed25519": "ed25519", "ssh-rsa": "rsa"}.get(
        key_type, "ecdsa" if key_type.startswith("ecdsa") else "*")


def _drain(read: Callable[[int], bytes], into: list[bytes]) -> None:
    try:
        while chunk := read(65536):
            into.append(chunk)
    except (TimeoutError, OSError, EOFError):
        pass
