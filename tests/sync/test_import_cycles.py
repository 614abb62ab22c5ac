"""No import circle inside fieldkit/sync: every import counts, at module level, inside a
function or under TYPE_CHECKING (a circle there is still two modules that need each other)."""

import ast
from pathlib import Path

import fieldkit.sync

ROOT = Path(fieldkit.sync.__file__).parent
PACKAGE = "fieldkit.sync"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def imports(path: Path, modules: set[str]) -> set[str]:
    """The fieldkit.sync modules ``path`` imports (``from pkg import sub`` names the sub)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= (subs & modules) or {node.module}
    return {name for name in found if name in modules}


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: imports(path, set(files)) - {name} for name, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_checker_sees_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_circle_inside_sync():
    edges = graph()
    assert "fieldkit.sync.rt.backend" in edges and edges["fieldkit.sync.engine"]
    assert cycles(edges) == []


def test_no_phase_imports_the_engine():
    edges = graph()
    phases = ("create", "merge", "post", "state", "run")
    assert all("fieldkit.sync.engine" not in edges[f"fieldkit.sync.{p}"] for p in phases)
