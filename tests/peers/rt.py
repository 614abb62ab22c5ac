"""A private Request Tracker 5 instance on loopback (Debian packages, SQLite), started by hand.

RT reads RT_SITE_CONFIG / RT_SITE_CONFIG_DIR instead of /etc, so each instance lives in its own
directory with its own database. The instance gets the custom fields fieldkit maps to
(FieldkitID on every queue; Category, Site, SupportLevel on General) and an API user with the
rights sync needs, granted per queue: all of them on General and Escalations, all but
ModifyCustomField on Locked (FieldkitID visible but not writable), none on Hidden. Stop it
with SIGTERM to its process group (SIGINT makes RT chown a system
directory on the way out).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from base64 import b64encode
from pathlib import Path

RT_SERVER = "/usr/share/request-tracker5/libexec/rt-server"
RT_SETUP = "/usr/sbin/rt-setup-database-5"
ROOT_PASSWORD = "password"
API_USER, API_PASSWORD = "fieldkit", "fieldkit-pass"

SITE_CONFIG = """
Set($rtname, 'fieldkit.test');
Set($Organization, 'fieldkit.test');
Set($CorrespondAddress, 'rt@localhost');
Set($CommentAddress, 'rt-comment@localhost');
Set($Timezone, 'UTC');
Set($WebDomain, '127.0.0.1');
Set($WebPort, {port});
Set($WebPath, '');
Set($WebBaseURL, 'http://127.0.0.1:{port}');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{db}');
Set($DatabaseHost, '');
Set($DatabaseUser, '');
Set($DatabasePassword, '');
Set($MasonDataDir, '{dir}/mason');
Set($MasonSessionDir, '{dir}/sessions');
Set($VarPath, '{dir}/var');
Set($MailCommand, 'mbox');
Set($HTMLFormatter, 'core');
Set($LogToSyslog, undef);
Set($LogToSTDERR, 'warning');
Set(%GnuPG, Enable => 0);
Set(%SMIME, Enable => 0);
Set($BcryptCost, {bcrypt});
1;
"""

INITIAL_DATA = """
@CustomFields = (
    { Name => 'FieldkitID', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
      Description => 'fieldkit client id', UniqueValues => 1, ApplyTo => 0 },
    { Name => 'Category', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
      ApplyTo => ['General'] },
    { Name => 'Site', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
      ApplyTo => ['General'] },
    { Name => 'SupportLevel', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
      ApplyTo => ['General'] },
);
@Queues = ( { Name => 'Escalations', Description => '2nd level' },
            { Name => 'Locked', Description => 'FieldkitID visible, not writable' },
            { Name => 'Hidden', Description => 'no rights for the API user' } );
@Users = ( { Name => $ENV{FK_API_USER}, Password => $ENV{FK_API_PASSWORD},
             EmailAddress => "$ENV{FK_API_USER}\\@localhost", Privileged => 1 } );
my @work = qw(SeeQueue ShowTicket CreateTicket ModifyTicket ReplyToTicket CommentOnTicket
              ShowTicketComments SeeCustomField OwnTicket);
@ACL = (
    { UserId => $ENV{FK_API_USER}, Right => 'ManageAuthTokens' },
    ( map { my $q = $_; map { { UserId => $ENV{FK_API_USER}, Right => $_, Queue => $q } }
            @work, ($q eq 'Locked' ? () : 'ModifyCustomField') } qw(General Escalations Locked) ),
);
@Final = ( sub {
    my $cu = RT::CurrentUser->new(RT->SystemUser);
    $cu->Load($ENV{FK_API_USER}) or die "cannot load user";
    my ($id, $msg, $auth) = RT::AuthToken->new(RT->SystemUser)->Create(
        Owner => $cu->Id, Description => 'fieldkit tests');
    die "token: $msg" unless $id;
    open my $fh, '>', $ENV{FK_TOKEN_FILE} or die $!; print $fh $auth; close $fh;
} );
1;
"""


def available() -> bool:
    return os.path.exists(RT_SERVER) and os.path.exists(RT_SETUP)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RTInstance:
    def __init__(self, bcrypt_cost: int = 4) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fk-rt-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = self.dir / "rt.db"
        self.proc: subprocess.Popen | None = None
        for sub in ("mason", "sessions", "var", "site.d"):
            (self.dir / sub).mkdir()
        (self.dir / "RT_SiteConfig.pm").write_text(SITE_CONFIG.format(
            port=self.port, db=self.db, dir=self.dir, bcrypt=bcrypt_cost))
        self.env = {**os.environ, "RT_SITE_CONFIG": str(self.dir / "RT_SiteConfig.pm"),
                    "RT_SITE_CONFIG_DIR": str(self.dir / "site.d")}
        self._init_db()
        self.token = (self.dir / "token").read_text().strip()

    def _init_db(self) -> None:
        pw = self.dir / "rootpw"
        pw.write_text(ROOT_PASSWORD + "\n")
        log = self.dir / "setup.log"
        with log.open("w") as out:
            subprocess.run([RT_SETUP, "--action", "init", "--root-password-file", str(pw)],
                           env=self.env, stdout=out, stderr=subprocess.STDOUT, check=True)
            data = self.dir / "initialdata.pl"
            data.write_text(INITIAL_DATA)
            subprocess.run([RT_SETUP, "--action", "insert", "--datafile", str(data)],
                           env={**self.env, "FK_API_USER": API_USER,
                                "FK_API_PASSWORD": API_PASSWORD,
                                "FK_TOKEN_FILE": str(self.dir / "token")},
                           stdout=out, stderr=subprocess.STDOUT, check=True)
        pw.unlink()

    def start(self, wait_s: float = 90) -> None:
        log = open(self.dir / "server.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen([RT_SERVER, "--host", "127.0.0.1", "--port",
                                      str(self.port), "--max-workers", "4"], env=self.env,
                                     cwd=self.dir, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rt-server exited: {(self.dir / 'server.log').read_text()}")
            try:
                self.request("GET", "/REST/2.0/rt", timeout=5)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("rt-server not ready")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method: str, path: str, body=None, timeout: float = 30):
        """Talk to RT as root (the test's own view of the server)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization",
                       "Basic " + b64encode(f"root:{ROOT_PASSWORD}".encode()).decode())
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
            text = resp.read().decode()
        return json.loads(text) if text else None

    def search(self, query: str) -> list[dict]:
        from urllib.parse import quote

        items, page = [], 1
        while True:
            res = self.request("GET", f"/REST/2.0/tickets?query={quote(query)}&per_page=100"
                                      f"&page={page}&fields=Subject,Status,CustomFields")
            items += res["items"]
            if page >= res.get("pages", 1):
                return items
            page += 1
