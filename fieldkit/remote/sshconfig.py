"""The OpenSSH client configuration for one host: ``~/.ssh/config``, then ``/etc/ssh/ssh_config``.

As ``ssh`` reads them: the user's file first, the system's after it, and for each option the
first value obtained wins (``IdentityFile`` adds up). ``Host`` and ``Match`` blocks are
paramiko's ``SSHConfig``: ``Match host``, ``originalhost``, ``user``, ``localuser``, ``exec``,
``canonical``, ``final``, ``all``. paramiko would take any other criterion as matching;
fieldkit refuses such a file in words instead (``Match localnetwork``, ``tagged`` ...).
``Include`` is followed (globs, relative paths under ``~/.ssh`` or ``/etc/ssh``, as ssh does) by
putting the included text in its place; inside a ``Host``/``Match`` block that works only if the
included file has no blocks of its own, and fieldkit says so rather than guess otherwise.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from pathlib import Path

from fieldkit.errors import RemoteError

# where ssh keeps ssh_config and ssh_known_hosts; Win32-OpenSSH's is %ProgramData%\ssh
SYSTEM_DIR = Path(os.environ.get("PROGRAMDATA", "C:/ProgramData")) / "ssh" if os.name == "nt" \
    else Path("/etc/ssh")
_INCLUDE = re.compile(r"\s*include(?:\s*=\s*|\s+)(.*)$", re.IGNORECASE)
_BLOCK = re.compile(r"\s*(host|match)(?:\s*=\s*|\s+)", re.IGNORECASE)
_MATCH = re.compile(r"\s*match(?:\s*=\s*|\s+)(.*)$", re.IGNORECASE)
_CRITERIA = {"host", "originalhost", "user", "localuser", "exec"}  # each takes an argument
_FLAGS = {"all", "canonical", "final"}


def lookup(alias: str, ssh_dir: Path) -> dict:
    """The options for ``alias`` (keys lowercased, as paramiko gives them)."""
    texts = []
    for path, user in ((ssh_dir / "config", True), (SYSTEM_DIR / "ssh_config", False)):
        if path.is_file() and os.access(path, os.R_OK):  # ssh skips one it cannot open
            # each file starts with every option open again, as a fresh read does in ssh
            texts.append("Host *\n" + _text(path, user, ssh_dir, 0))
    if not texts:
        return {}
    import paramiko

    try:
        return dict(paramiko.SSHConfig.from_text("\n".join(texts)).lookup(alias))
    except (paramiko.SSHException, ValueError) as exc:
        raise RemoteError(f"{ssh_dir / 'config'} or {SYSTEM_DIR / 'ssh_config'} cannot be "
                          f"read: {exc}", kind="config") from None


def _text(path: Path, user: bool, ssh_dir: Path, depth: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise RemoteError(f"{path} cannot be read: {exc.strerror or exc}", kind="config") \
            from None
    out: list[str] = []
    header = ""  # the Host/Match line of the block we are in ("" before the first)
    for line in lines:
        include = _INCLUDE.match(line)
        if not include:
            if _BLOCK.match(line):
                line = _match_line(path, line)
                header = line.strip()
            out.append(line)
            continue
        if depth >= 16:
            raise RemoteError(f"{path}: Include nested too deeply", kind="config")
        for pattern in include.group(1).split():
            included = _included(pattern.strip('"'), user, ssh_dir)
            for name in included:
                text = _text(Path(name), user, ssh_dir, depth + 1)
                has_blocks = any(_BLOCK.match(x) for x in text.splitlines())
                everyone = " ".join(header.lower().split()) in ("", "host *", "match all")
                if has_blocks and not everyone:
                    raise RemoteError(
                        f"{path}: '{line.strip()}' inside '{header}' includes {name}, which "
                        "has Host/Match blocks of its own; fieldkit cannot follow that: move "
                        "the Include out of the block", kind="config")
                out.append(text)
                if has_blocks:  # back to the block the Include stood in
                    out.append(header or "Host *")
    return "\n".join(out)


def _included(pattern: str, user: bool, ssh_dir: Path) -> list[str]:
    if pattern.startswith("~"):
        if not user:  # as ssh: a system file may not include from a home directory
            raise RemoteError(f"{SYSTEM_DIR / 'ssh_config'}: bad include path {pattern}",
                              kind="config")
        pattern = str(Path(pattern).expanduser())
    elif not pattern.startswith("/"):
        pattern = str((ssh_dir if user else SYSTEM_DIR) / pattern)
    return sorted(glob.glob(pattern))


def _match_line(path: Path, line: str) -> str:
    """A ``Match`` line paramiko evaluates as ssh does, or a refusal in words. ``Match final
    all`` (Fedora's stock ssh_config.d) is ``Match final`` to ssh; paramiko rejects the
    former, so it gets the latter."""
    match = _MATCH.match(line)
    if not match:
        return line
    try:
        words = shlex.split(match.group(1))
    except ValueError:
        words = ["?"]
    flags = [w.lower() for w in words if w.lower() in _FLAGS]
    if "all" in flags and "final" in flags:
        return "Match " + " ".join(w for w in words if w.lower() != "all")
    rest = list(words)
    while rest:
        word = rest.pop(0).lower().removeprefix("!")
        if word in _CRITERIA and rest:
            rest.pop(0)
        elif word not in _FLAGS:
            raise RemoteError(f"{path}: '{line.strip()}': fieldkit cannot evaluate Match "
                              f"{word}; it reads host, originalhost, user, localuser, exec, "
                              "canonical, final and all", kind="config")
    return line


def expand(value: str, tokens: dict[str, str], what: str) -> str:
    """One path word as ssh's ``percent_dollar_expand`` makes it: ``${VAR}`` from the
    environment first, then ``%x`` tokens left to right (``%%`` is one ``%``, so ``%%h`` is a
    literal ``%h``). A token ssh does not know, a lone ``%`` at the end or an unset variable
    makes ssh stop; fieldkit refuses in words rather than read some other file."""
    def env(match: re.Match[str]) -> str:
        if match.group(1) not in os.environ:
            raise RemoteError(f"{what} {value}: the environment variable {match.group(1)} is "
                              "not set", kind="config")
        return os.environ[match.group(1)]

    text = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", env, value)
    out, pos = [], 0
    while (cut := text.find("%", pos)) >= 0:
        out.append(text[pos:cut])
        token = text[cut:cut + 2]
        if token == "%%":
            out.append("%")
        elif token in tokens:
            out.append(tokens[token])
        else:
            raise RemoteError(f"{what} {value}: fieldkit cannot expand {token or '%'!r} (it "
                              f"knows {' '.join(['%%', *tokens])})", kind="config")
        pos = cut + 2
    return "".join(out) + text[pos:]
