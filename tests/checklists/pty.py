"""Drive fieldkit on a real pseudo-terminal, the way a technician's keystrokes reach it."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import sys
import time

from tests.conftest import fieldkit_cmd


class Terminal:
    """``fieldkit ARGS`` with a pty as its controlling terminal (Ctrl-C sends SIGINT)."""

    def __init__(self, home, *args: str) -> None:
        env = {**os.environ, "FIELDKIT_HOME": str(home), "NO_COLOR": "1", "TERM": "xterm",
               "PYTHONUNBUFFERED": "1"}
        cmd = [*fieldkit_cmd(), *args]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes fieldkit
            try:
                os.execvpe(cmd[0], cmd, env)
            finally:
                os._exit(127)
        self.output = ""
        self.seen = 0  # expect() looks only at output after the last match

    def expect(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.output, self.seen)
            if match:
                self.seen = match.end()
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(remaining):
                raise AssertionError(f"{pattern!r} not seen; output after the last match:\n"
                                     f"{self.output[self.seen:]}")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.output += data.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def line(self, text: str) -> None:
        self.send(text + "\r")

    def wait(self, timeout: float = 30) -> int:
        """Read everything left and return the exit code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self._read(0.1):
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.05):
                    pass
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"fieldkit did not exit; output:\n{self.output}")


assert sys.platform != "win32"
