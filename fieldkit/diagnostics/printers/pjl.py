"""Raw JetDirect (port 9100): ask the printer ``@PJL INFO ID`` and ``@PJL INFO STATUS``.

The query is the one HP's own tools send, wrapped in Universal Exit Language so a PJL printer
treats it as a command and not as a page. Many raw ports never answer PJL: silence within the
timeout is reported as "no PJL answer", not as a fault. A printer that does not speak PJL at all
could, rarely, print the query as text; ``[diag] printer_pjl = false`` turns the query off.

Status codes (HP PJL Technical Reference, "Status codes"): 10xxx informational, 11xxx a tray
empty while printing goes on from others, 30xxx/35xxx auto-continuable or possible operator
attention, 40xxx operator intervention needed, 41xxx paper out, 42xxx/44xxx paper jam,
50xxx hardware errors.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from fieldkit.diagnostics.model import Status

UEL = b"\x1b%-12345X"
QUERY = UEL + b"@PJL\r\n@PJL INFO ID\r\n@PJL INFO STATUS\r\n" + UEL
MAX_ANSWER = 64 * 1024

_JAM = ("Clear the paper jam: open the covers the display points to, pull the stuck sheet out "
        "slowly, then close every cover.")
_PAPER = "Load paper into the tray the display names ('{display}') and press OK/Continue."
_ATTEND = ("The printer needs someone at it: its display says '{display}'. Do what it says "
           "(paper, toner, cover), then press OK/Continue.")
_HARDWARE = ("The printer reports a hardware fault ('{display}'): switch it off, wait a minute, "
             "switch it on; if the message returns, call the printer's service (escalate).")
_OFFLINE = ("The printer is offline: press its Online/Ready button (or wake it) and check its "
            "display ('{display}').")
_TONER_LOW = "Toner is low: make sure a spare cartridge is on site (order one)."
_TRAY = "A paper tray is empty ('{display}'): printing goes on from another tray; refill it."
_CAUTION = "The printer shows a warning ('{display}'): check its display."
_COVER = ("Close every cover and door of the printer until it clicks ('{display}'); it then "
          "carries on.")
SPECIFIC = {10006: (Status.WARN, "toner low", _TONER_LOW),
            40021: (Status.FAIL, "a cover is open", _COVER),
            40022: (Status.FAIL, "paper jam", _JAM),
            40038: (Status.WARN, "toner low", _TONER_LOW)}
CLASSES = [(10, Status.OK, "ready", ""), (11, Status.WARN, "a tray is empty", _TRAY),
           (12, Status.WARN, "a tray needs attention", _CAUTION),
           (15, Status.WARN, "output bin needs attention", _CAUTION),
           (30, Status.WARN, "warning", _CAUTION), (35, Status.WARN, "needs attention soon",
                                                    _CAUTION),
           (40, Status.FAIL, "needs someone at the printer", _ATTEND),
           (41, Status.FAIL, "out of paper", _PAPER), (42, Status.FAIL, "paper jam", _JAM),
           (43, Status.FAIL, "paper handling fault", _ATTEND), (44, Status.FAIL, "paper jam",
                                                               _JAM),
           (50, Status.FAIL, "hardware fault", _HARDWARE)]


def query(address: str, port: int, timeout: float) -> dict[str, Any] | None:
    """Send the query; the parsed answer, or None when the printer stayed silent."""
    deadline = time.monotonic() + timeout
    buffer = b""
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.sendall(QUERY)
        while buffer.count(b"\x0c") < 2 and len(buffer) < MAX_ANSWER:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            buffer += chunk
    return parse(buffer) if buffer.strip(b"\x00\r\n\x0c") else None


def parse(answer: bytes) -> dict[str, Any]:
    """Blocks end with a form feed; each starts with the echoed command."""
    result: dict[str, Any] = {}
    for block in answer.decode("latin-1").split("\x0c"):
        lines = [line.strip() for line in block.replace(UEL.decode(), "").splitlines()
                 if line.strip()]
        if not lines:
            continue
        head = lines[0].upper()
        if head == "@PJL INFO ID" and len(lines) > 1:
            result["id"] = lines[1].strip('"')
        elif head == "@PJL INFO STATUS":
            for line in lines[1:]:
                key, _, value = line.partition("=")
                result[key.strip().lower()] = value.strip().strip('"')
    if "code" in result:
        try:
            result["code"] = int(result["code"])
        except ValueError:
            pass
    if "online" in result:
        result["online"] = result["online"].upper() == "TRUE"
    return result


def assess(answer: dict[str, Any]) -> tuple[Status, str, str]:
    """(status, words, tip) from a parsed INFO STATUS answer."""
    code, display = answer.get("code"), answer.get("display", "")
    status, words, tip = Status.OK, "answers PJL", ""
    if isinstance(code, int):
        if code in SPECIFIC:
            status, words, tip = SPECIFIC[code]
        else:
            for prefix, level, what, hint in CLASSES:
                if code // 1000 == prefix:
                    status, words, tip = level, what, hint
                    break
            else:
                status, words, tip = Status.WARN, f"status code {code}", _CAUTION
    if answer.get("online") is False and status != Status.FAIL:
        status, words, tip = Status.FAIL, "offline", _OFFLINE
    return status, words, tip.format(display=display or "no message")
