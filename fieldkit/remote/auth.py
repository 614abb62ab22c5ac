"""Logging in over SSH, the way OpenSSH would: keys first, a password only when asked for.

Order: the key given with ``-i``, the config's ``IdentityFile`` keys, the keys ssh-agent holds
(not with ``IdentitiesOnly yes``), the usual ``~/.ssh/id_*`` files (when no key was named), then
a password, only from a hidden prompt on a terminal. Passwords and passphrases are never
stored, logged or put in a message. Each attempt waits at most ``auth_timeout_s``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import paramiko

from fieldkit.errors import InputError, RemoteError
from fieldkit.remote.options import SshOptions, why
from fieldkit.remote.target import Target

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


def authenticate(transport: paramiko.Transport, target: Target, options: SshOptions) -> None:
    tried: list[str] = []
    allowed: list[str] | None = None
    for label, key in _keys(target, options, tried):
        try:
            transport.auth_publickey(target.user, key)
            return
        except paramiko.BadAuthenticationType as exc:
            allowed = list(exc.allowed_types)
            if "publickey" not in allowed:
                break
        except paramiko.AuthenticationException:
            tried.append(label)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise _broken(target, options, exc) from None
    if _password(transport, target, options, allowed, tried):
        return
    raise RemoteError(f"{target.url}: authentication failed for user {target.user} (tried: "
                      f"{', '.join(tried) or 'no key found, and no terminal to ask for a password'}"
                      "): name the right key with -i KEY, load it into ssh-agent, or check the "
                      "user name", kind="auth")


def _password(transport: paramiko.Transport, target: Target, options: SshOptions,
              allowed: list[str] | None, tried: list[str]) -> bool:
    if allowed is not None and not {"password", "keyboard-interactive"} & set(allowed):
        tried.append(f"the server accepts only {', '.join(allowed)}")
        return False
    if options.ask_password is None:
        return False
    secret = options.ask_password(f"Password for {target.user}@{target.hostname}")
    if not secret:
        return False
    try:
        transport.auth_password(target.user, secret)
        return True
    except paramiko.AuthenticationException:
        tried.append("a password")
        return False
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise _broken(target, options, exc) from None


def _keys(target: Target, options: SshOptions,
          tried: list[str]) -> Iterator[tuple[str, paramiko.PKey]]:
    """Keys to offer, loaded one at a time (a passphrase is asked only when one is reached)."""
    named = [options.identity] if options.identity else []
    for path in [*named, *target.identity_files]:
        key = _load(Path(path).expanduser(), options, tried, explicit=path in named)
        if key is not None:
            yield f"key {path}", key
    if options.use_agent and not target.identities_only:
        agent = paramiko.Agent()
        try:
            for agent_key in agent.get_keys():
                yield f"ssh-agent key {agent_key.fingerprint}", agent_key
        finally:
            agent.close()
    if not named and not target.identity_files:
        for name in DEFAULT_KEYS:
            default = options.ssh_dir / name
            if default.is_file():
                key = _load(default, options, tried, explicit=False)
                if key is not None:
                    yield f"key {default}", key


def _load(path: Path, options: SshOptions, tried: list[str],
          explicit: bool) -> paramiko.PKey | None:
    try:
        return paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException:
        if options.ask_password is None:
            tried.append(f"{path} (encrypted: no terminal to ask for its passphrase)")
            return None
        phrase = options.ask_password(f"Passphrase for {path}")
        try:
            return paramiko.PKey.from_path(path, phrase) if phrase else None
        except paramiko.SSHException:
            tried.append(f"{path} (wrong passphrase)")
            return None
    except FileNotFoundError:
        if explicit:
            raise InputError(f"-i {path}: no such file") from None
        return None
    except (OSError, paramiko.SSHException, ValueError) as exc:
        if explicit:
            raise InputError(f"-i {path}: not a private key fieldkit can use ({why(exc)})"
                             ) from None
        tried.append(f"{path} (unreadable: {why(exc)})")
        return None


def _broken(target: Target, options: SshOptions, exc: BaseException) -> RemoteError:
    text = why(exc)
    if "timeout" in text.lower():
        return RemoteError(f"{target.url}: the server did not answer a login attempt within "
                           f"{options.auth_timeout_s:g} s", kind="timeout")
    return RemoteError(f"{target.url}: the connection broke while logging in ({text})",
                       kind="auth")
