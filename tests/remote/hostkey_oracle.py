"""Run inside a private mount namespace (``unshare -m``): for each case directory, put its files
where ssh and fieldkit look for them, and ask both whether they get past the host key.

Per case: ``CASE/etc`` is bind-mounted over ``/etc/ssh`` (ssh_config, ssh_known_hosts, ...),
and ``CASE/home`` becomes the user's home: ssh takes ``~`` from the password database, not from
``$HOME``, so a copy of ``/etc/passwd`` naming it is bind-mounted over the real one (and
``$HOME`` set to it for fieldkit). One hosts file over ``/etc/hosts`` for all cases.
Then fieldkit connects (``fieldkit.remote.ssh.connect``, with its own known_hosts empty) and the
real ``ssh -o StrictHostKeyChecking=yes -o BatchMode=yes`` runs ``true``; both log in with the
authorized key, so "accept" means logged in and "refuse" means a host-key refusal. Anything else
is reported as an error with its output. Usage: ``hostkey_oracle.py JOB.json``; prints JSON.

``hostkey_oracle.py --etc DIR HOSTS COMMAND...`` only bind-mounts DIR over ``/etc/ssh`` and HOSTS
over ``/etc/hosts`` and runs the command there (the ``--trust-new-host`` tests run the CLI so).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

SSH_REASONS = (("REMOTE HOST IDENTIFICATION HAS CHANGED", "changed"),
               ("REVOKED HOST KEY", "revoked"), ("host key is known for", "unknown"),
               ("differs from the key for the IP address", "changed"),
               ("revoked by file", "revoked"), ("in revoked keys file", "revoked-file"))


def main() -> None:
    if sys.argv[1] == "--etc":  # --etc DIR HOSTS COMMAND...
        subprocess.run(["mount", "--make-rprivate", "/"], check=True)
        subprocess.run(["mount", "--bind", sys.argv[2], "/etc/ssh"], check=True)
        subprocess.run(["mount", "--bind", sys.argv[3], "/etc/hosts"], check=True)
        os.execvp(sys.argv[4], sys.argv[4:])
    job = json.loads(Path(sys.argv[1]).read_text())
    me = pwd.getpwuid(os.getuid())
    passwd = Path(job["hosts"]).with_name("passwd")
    lines = Path("/etc/passwd").read_text().splitlines()
    os.environ.pop("SSH_AUTH_SOCK", None)
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "--bind", job["hosts"], "/etc/hosts"], check=True)
    passwd.write_text("\n".join(lines) + "\n")
    subprocess.run(["mount", "--bind", str(passwd), "/etc/passwd"], check=True)
    results = {}
    for name, case in job["cases"].items():
        home = f"{case}/home"
        with open(passwd, "w") as f:  # in place: the bind mount shows this very inode
            f.write("".join(_home(line, me.pw_name, home) + "\n" for line in lines))
        os.environ["HOME"] = home
        subprocess.run(["mount", "--bind", f"{case}/etc", "/etc/ssh"], check=True)
        try:
            results[name] = {"fieldkit": fieldkit(job, case), "ssh": openssh(job, case)}
        finally:
            subprocess.run(["umount", "/etc/ssh"], check=True)
    print(json.dumps(results))


def _home(line: str, user: str, home: str) -> str:
    fields = line.split(":")
    if len(fields) == 7 and fields[0] == user:
        fields[5] = home
    return ":".join(fields)


def openssh(job: dict, case: str) -> dict:
    url = Path(case, "url").read_text()
    proc = subprocess.run(
        ["ssh", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
         "-o", "UpdateHostKeys=no", "-o", "ConnectTimeout=5", "-o", "IdentitiesOnly=yes",
         "-i", job["key"], url, "true"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    if proc.returncode == 0:
        return {"answer": "accept", "why": ""}
    if "Host key verification failed." in proc.stderr:
        why = next((word for text, word in SSH_REASONS if text in proc.stderr), "other")
        return {"answer": "refuse", "why": why}
    return {"answer": "error", "why": proc.stderr.strip()[-600:]}


def fieldkit(job: dict, case: str) -> dict:
    from fieldkit.errors import RemoteError
    from fieldkit.remote.ssh import SshOptions, connect
    from fieldkit.remote.target import parse_host

    url = Path(case, "url").read_text()
    options = SshOptions(known_hosts=Path(case, "fieldkit", "known_hosts"),
                         connect_timeout_s=5, auth_timeout_s=5, identity=job["key"],
                         use_agent=False)
    try:
        connect(parse_host(url), options).close()
    except RemoteError as exc:
        if exc.kind.startswith("hostkey-"):
            return {"answer": "refuse", "why": exc.kind.removeprefix("hostkey-"),
                    "message": str(exc)}
        return {"answer": "error", "why": f"{exc.kind}: {exc}"}
    return {"answer": "accept", "why": ""}


if __name__ == "__main__":
    main()
