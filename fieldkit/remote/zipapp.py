"""The probe: fieldkit's own diagnostics in one file that a bare ``python3`` can run.

Built from the installed package each time it is needed, in memory (~30 ms), so it is always
exactly this fieldkit's checks and never a second implementation. It holds the diagnostics
package, ``errors``, ``trust``, the config schema its checks read their settings through, and
``remote/probe.py`` as its entry point; not the CLI (typer), the store or sync. The build is
deterministic (sorted names, fixed timestamps): the same code gives the same bytes, so
``bench/remote.py`` can copy the identical file with scp.

Python 3.11+ is needed on the remote; ``__main__`` is written so that an older python3 can at
least read it and say so.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import fieldkit

NAME = "fieldkit-probe.pyz"
# the checks read their settings through the config schema (which imports only errors)
PARTS = ("__init__.py", "errors.py", "trust.py", "configschema.py", "diagnostics",
         "remote/__init__.py", "remote/probe.py")
STAMP = (2026, 1, 1, 0, 0, 0)
MAIN = b'''import sys
if sys.version_info < (3, 11):
    sys.stdout.write('{"probe_error": "python", "message": "python3 there is %d.%d; '
                     'fieldkit\\'s checks need 3.11 or newer"}\\n' % tuple(sys.version_info[:2]))
    sys.exit(3)
from fieldkit.remote.probe import main
main()
'''


def sources() -> list[tuple[str, Path]]:
    """(name inside the zip, file) for every module the probe carries."""
    root = Path(fieldkit.__file__).parent
    found: list[tuple[str, Path]] = []
    for part in PARTS:
        path = root / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        found += [(f"fieldkit/{f.relative_to(root).as_posix()}", f) for f in files
                  if "__pycache__" not in f.parts]
    return found


def build() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "__main__.py", MAIN)
        for name, path in sources():
            _add(archive, name, path.read_bytes())
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    archive.writestr(info, data)
