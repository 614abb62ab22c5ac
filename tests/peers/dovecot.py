"""A private dovecot (IMAP/POP3, STARTTLS and implicit TLS) started as `dovecot -F -c CONF`.

Needs root: dovecot's login processes drop to dovenull. 127.0.0.1 counts as a secure network to
dovecot (plaintext login allowed there); clients in another namespace see LOGINDISABLED.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONF = """
instance_name = fk-dovecot-{port_imap}
base_dir = {d}/base
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap pop3
listen = {listen}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
login_greeting = FieldKit test dovecot ready.
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port_imap}
  }}
  inet_listener imaps {{
    port = {port_imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {port_pop3}
  }}
  inet_listener pop3s {{
    port = {port_pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    def __init__(self, listen: str, cert: Path, key: Path, ports: dict[str, int]):
        # dovecot's auth and mail processes run as other users: they need a world-traversable
        # path, which pytest's 0700 temp dirs are not
        directory = Path(tempfile.mkdtemp(prefix="fk-dovecot-"))
        directory.chmod(0o755)
        self.dir, self.ports, self.listen = directory, ports, listen
        (directory / "base").mkdir(parents=True)
        (directory / "state").mkdir()
        (directory / "home" / "fieldkit" / "Maildir").mkdir(parents=True)
        shutil.chown(directory / "home" / "fieldkit", "nobody", "nogroup")
        (directory / "users").write_text("fieldkit:{PLAIN}s3cret::::::\n")
        conf = directory / "dovecot.conf"
        conf.write_text(CONF.format(d=directory, listen=listen, cert=cert, key=key,
                                    **{f"port_{k}": v for k, v in ports.items()}))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, wait_s: float = 10) -> None:
        host = self.listen.split(",")[0].strip()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.dir / "dovecot.log")
                raise RuntimeError(f"dovecot exited: {self.proc.stdout.read()!r} "
                                   f"{log.read_text() if log.exists() else ''}")
            try:
                socket.create_connection((host, self.ports["pop3s"]), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot not ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)
