"""Long text from where technicians have it: ``-`` reads standard input, ``@FILE`` a file.

The curl/httpie convention. A text that really starts with ``@`` is written ``@@...`` (one ``@``
is dropped). Text must be UTF-8: a binary file belongs on the ticket as an attachment.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fieldkit.errors import InputError

READ_LIMIT = 1 << 20  # read a little past any text limit, never a whole disk image


def read_text(value: str | None, what: str) -> str | None:
    """The text ``value`` stands for (None stays None)."""
    if value is None:
        return None
    if value == "-":
        return _decode(sys.stdin.buffer.read(READ_LIMIT + 1), what, "standard input")
    if value.startswith("@@"):
        return value[1:]
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            with path.open("rb") as handle:
                return _decode(handle.read(READ_LIMIT + 1), what, str(path))
        except FileNotFoundError:
            raise InputError(f"{what} {value}: no such file (write @@ for a text starting "
                             "with @)") from None
        except IsADirectoryError:
            raise InputError(f"{what} {value}: is a directory") from None
        except OSError as exc:
            raise InputError(f"{what} {value}: cannot read it ({exc.strerror})") from None
    return value


def _decode(raw: bytes, what: str, source: str) -> str:
    if len(raw) > READ_LIMIT:
        raise InputError(f"{what} from {source} is larger than {READ_LIMIT // 1024} KiB: put "
                         "it on the ticket with 'fieldkit ticket attach'")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} from {source} is not UTF-8 text: attach binary files with "
                         "'fieldkit ticket attach'") from None
