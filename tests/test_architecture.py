"""The layers of docs/architecture.md hold: no module imports upward, no circle crosses folders.

The layer table lives once, in docs/architecture.md between the ``layers`` markers; this test
parses it. Imports are read with ``ast`` from every module under ``fieldkit/``: module-level,
function-level and ``if TYPE_CHECKING:`` ones alike. A run-time import may point down or
within its own part; a TYPE_CHECKING-only one may also point sideways (another part on the
same level), never up. Dynamic imports (``importlib.import_module`` with a name from data,
as sync's BACKENDS) are not seen.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "architecture.md"

# Accepted exceptions, each with its reason: none since issue 18 landed (configschema -> sync,
# the sync phases <-> engine, rt <-> rtcheck and sftp <-> sftpcheck circles are gone). An entry
# that no longer occurs fails the test, so an exception cannot outlive its reason.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}
KNOWN_CIRCLES: dict[frozenset[str], str] = {}


@dataclass(frozen=True)
class Layer:
    level: int
    part: str  # "cli/" (a folder under fieldkit/) or "errors.py" (a top-level module)


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str
    path: Path
    line: int
    typing_only: bool  # inside ``if TYPE_CHECKING:``


def read_layers(text: str) -> list[Layer]:
    """The rows of the table between ``<!-- layers -->`` and ``<!-- /layers -->``: the level
    in the first column, the parts (each in backticks) in the second."""
    block = text.split("<!-- layers -->", 1)[1].split("<!-- /layers -->", 1)[0]
    layers = []
    for row in block.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            layers += [Layer(int(cells[0]), part) for part in re.findall(r"`([^`]+)`", cells[1])]
    return layers


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(path: Path, base: Path, layers: list[Layer]) -> Layer | None:
    """The longest matching entry: ``sync/`` holds every module below fieldkit/sync."""
    relative = path.relative_to(base).as_posix()
    found = [layer for layer in layers if relative == layer.part
             or (layer.part.endswith("/") and relative.startswith(layer.part))]
    return max(found, key=lambda layer: len(layer.part), default=None)


def imports(base: Path) -> list[Import]:
    """Every import of a module of the package at ``base`` by a module of it."""
    files = sorted(base.rglob("*.py"))
    known = {module_name(f, base): f for f in files}
    found = []
    for path in files:
        name = module_name(path, base)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node, typing_only in _walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, package, known):
                found.append(Import(name, target, path, node.lineno, typing_only))
    return found


def _walk(tree: ast.AST, typing_only: bool = False):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, typing_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from _walk(ast.Module(body=[child], type_ignores=[]), True)
            for child in node.orelse:
                yield from _walk(ast.Module(body=[child], type_ignores=[]), typing_only)
        else:
            yield from _walk(node, typing_only)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(node: ast.Import | ast.ImportFrom, package: str, known: dict[str, Path]):
    if isinstance(node, ast.Import):
        return [_nearest(alias.name, known) for alias in node.names]
    module = node.module or ""
    if node.level:  # relative: from . import x, from ..y import z
        anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
        module = ".".join(anchor + ([module] if module else []))
    # from fieldkit import fastjson: the module fieldkit.fastjson; from x import name: x
    return [_nearest(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module,
                     known) for alias in node.names]


def _nearest(name: str, known: dict[str, Path]) -> str:
    """The module itself, or its closest package we hold; "" for anything outside."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


@dataclass(frozen=True)
class Violation:
    where: str  # file:line
    importer: str
    target: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.importer} imports {self.target} ({self.why})"


def upward(base: Path, layers: list[Layer]) -> list[Violation]:
    """Imports that point up, or sideways at run time, across the parts of ``layers``."""
    known = {module_name(f, base): f for f in base.rglob("*.py")}
    found = []
    for imp in imports(base):
        if not imp.target:
            continue
        here = part_of(imp.path, base, layers)
        there = part_of(known[imp.target], base, layers)
        assert here and there, f"{imp.path} or {imp.target}: no part in the layer table"
        if here.part == there.part or there.level < here.level:
            continue
        if there.level == here.level and imp.typing_only:
            continue
        why = (f"level {here.level} {here.part} -> level {there.level} {there.part}: "
               + ("upward" if there.level > here.level else "sideways"))
        where = f"{imp.path.relative_to(base.parent).as_posix()}:{imp.line}"
        found.append(Violation(where, imp.importer, imp.target, why))
    return found


def circles(base: Path) -> list[set[str]]:
    """Groups of modules that import each other, directly or around a loop. Every import
    counts: one inside a function is still a loop in the design, and a phase that names the
    engine's type under TYPE_CHECKING still depends on the engine."""
    graph: dict[str, set[str]] = {module_name(f, base): set() for f in base.rglob("*.py")}
    for imp in imports(base):
        if imp.target and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    return [group for group in _strongly_connected(graph) if len(group) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (a deep package must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups


def forbidden(group: set[str], base: Path) -> bool:
    """A circle is refused when it spans folders, or lies anywhere inside sync."""
    folders = {name if (base.parent / name.replace(".", "/")).is_dir()
               else name.rpartition(".")[0] for name in group}
    return len(folders) > 1 or any(f.split(".")[:2] == ["fieldkit", "sync"] for f in folders)


# -- the real tree -----------------------------------------------------------------------


def test_every_module_has_a_part():
    layers = read_layers(DOC.read_text(encoding="utf-8"))
    base = ROOT / "fieldkit"
    missing = [f.relative_to(ROOT).as_posix() for f in sorted(base.rglob("*.py"))
               if part_of(f, base, layers) is None]
    assert missing == [], "add these to the layer table of docs/architecture.md"


def test_no_module_imports_upward():
    layers = read_layers(DOC.read_text(encoding="utf-8"))
    found = upward(ROOT / "fieldkit", layers)
    new = [str(v) for v in found if (v.importer, v.target) not in KNOWN_UPWARD]
    assert new == [], "\n".join(["imports against docs/architecture.md:", *new])
    stale = set(KNOWN_UPWARD) - {(v.importer, v.target) for v in found}
    assert not stale, f"fixed, remove from KNOWN_UPWARD: {sorted(stale)}"


def test_no_circle_between_folders_nor_inside_sync():
    base = ROOT / "fieldkit"
    found = [group for group in circles(base) if forbidden(group, base)]
    new = [sorted(g) for g in found if not any(g <= known for known in KNOWN_CIRCLES)]
    assert new == [], f"import circles: {new}"
    stale = [sorted(k) for k in KNOWN_CIRCLES if not any(g & k for g in found)]
    assert stale == [], f"fixed, remove from KNOWN_CIRCLES: {stale}"


def test_only_the_cli_imports_the_terminal_libraries():
    base = ROOT / "fieldkit"
    found = []
    for path in sorted(base.rglob("*.py")):
        if path.relative_to(base).parts[0] == "cli":
            continue
        for node, _typing_only in _walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            found += [f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: {name}"
                      for name in names if name.split(".")[0] in ("typer", "click", "rich")]
    assert found == [], "the core must work without a terminal (docs/architecture.md)"


# -- the checker itself, on a tiny fake package -------------------------------------------

TABLE = """<!-- layers -->
| level | parts | what |
|---|---|---|
| 1 | `__init__.py`, `errors.py` | base |
| 2 | `core/`, `other/` | the core |
| 3 | `cli/` | the terminal |
<!-- /layers -->
"""


def fake_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    base = tmp_path / "fieldkit"
    for name, text in {"__init__.py": "", "errors.py": "", "core/__init__.py": "",
                       "other/__init__.py": "", "cli/__init__.py": "", **files}.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    return base


def test_the_checker_reports_an_upward_import_with_file_and_line(tmp_path):
    base = fake_tree(tmp_path, {
        "core/model.py": "import os\nfrom fieldkit import errors\n\n\ndef f():\n"
                         "    from fieldkit.cli import main\n",
        "cli/main.py": "from fieldkit.core.model import f\n"})
    found = upward(base, read_layers(TABLE))
    assert [str(v) for v in found] == [
        "fieldkit/core/model.py:6: fieldkit.core.model imports fieldkit.cli.main "
        "(level 2 core/ -> level 3 cli/: upward)"]


def test_the_checker_allows_type_checking_sideways_but_never_upward(tmp_path):
    base = fake_tree(tmp_path, {
        "core/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from fieldkit.other.b import B\n    from fieldkit.cli import main\n",
        "other/b.py": "from fieldkit.core import a\n",
        "cli/main.py": ""})
    found = sorted(str(v) for v in upward(base, read_layers(TABLE)))
    assert found == [
        "fieldkit/core/a.py:4: fieldkit.core.a imports fieldkit.cli.main "
        "(level 2 core/ -> level 3 cli/: upward)",
        "fieldkit/other/b.py:1: fieldkit.other.b imports fieldkit.core.a "
        "(level 2 other/ -> level 2 core/: sideways)"]


def test_the_checker_resolves_relative_imports(tmp_path):
    base = fake_tree(tmp_path, {"core/a.py": "from ..cli import main\n", "cli/main.py": ""})
    assert [v.target for v in upward(base, read_layers(TABLE))] == ["fieldkit.cli.main"]


@pytest.mark.parametrize(("files", "refused"), [
    ({"core/a.py": "from fieldkit.core import b\n", "core/b.py": "import fieldkit.core.a\n"},
     False),  # inside one folder (not sync): allowed
    ({"core/a.py": "from fieldkit.other import b\n",
      "other/b.py": "def f():\n    from fieldkit.core import a\n"}, True),  # across folders
    ({"sync/a.py": "from fieldkit.sync import b\n", "sync/b.py": "from fieldkit.sync import a\n"},
     True),  # inside sync
    ({"core/a.py": "from fieldkit.other import b\n",
      "other/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                    "    from fieldkit.core import a\n"}, True),  # a type-only way back too
])
def test_the_checker_finds_circles(tmp_path, files, refused):
    base = fake_tree(tmp_path, {"sync/__init__.py": "", **files})
    found = [group for group in circles(base) if forbidden(group, base)]
    assert bool(found) == refused, found
