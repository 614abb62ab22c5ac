"""Make this checkout start like an installed fieldkit before a benchmark times whole processes.

``pip install .`` compiles every module to bytecode; an editable development install does not,
and where the environment sets PYTHONDONTWRITEBYTECODE no process ever writes it, so each run
would compile fieldkit's sources again (tens of milliseconds) while Typer, installed normally,
starts from bytecode. Compiling once here (``compileall`` writes whatever that variable says)
makes the comparison fair: the same as on a technician's laptop.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fieldkit"


def compile_fieldkit() -> None:
    compileall.compile_dir(str(PACKAGE), quiet=1)
