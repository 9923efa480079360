"""The package's shape: no import circles (between modules or packages), the CLI only on top, functions
and modules of a readable size. Read from the source with ``ast``, so lazy imports inside functions count
too (they hide a circle, they do not remove it); imports under ``if TYPE_CHECKING:`` do not run and are
left out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "gameday"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_pkg: bool) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")
                parent = parent if is_pkg else parent[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        raw = _imports(ast.parse(path.read_text()), name, path.name == "__init__.py")
        graph[name] = {m for m in raw if m in files and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])  # gameday.drill, gameday.config, ...


def test_no_import_circle_between_modules():
    assert _cycles(_graph()) == []


def test_no_import_circle_between_packages():
    graph: dict[str, set[str]] = {}
    for mod, deps in _graph().items():
        p = _package_of(mod)
        graph.setdefault(p, set()).update(_package_of(d) for d in deps if _package_of(d) != p)
    graph.pop("gameday", None)  # the root package's __init__ only names the version
    assert _cycles({k: v - {"gameday"} for k, v in graph.items()}) == []


def test_no_domain_module_imports_the_cli():
    offenders = {m: sorted(d for d in deps if d.startswith("gameday.cli"))
                 for m, deps in _graph().items() if not m.startswith("gameday.cli")}
    assert {m: d for m, d in offenders.items() if d} == {}


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_functions_and_modules_stay_small(path: Path):
    text = path.read_text()
    assert text.count("\n") <= MAX_MODULE_LINES, f"{path.name} has {text.count(chr(10))} lines"
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(ast.parse(text))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno
            and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def test_nothing_outside_the_lab_knows_the_labs_api_or_tables():
    """The data plane is a description (``service:``); only gameday.lab knows its own ingest API."""
    pattern = re.compile(r"/v1/trips|\b(?:FROM|INTO|TABLE|UPDATE)\s+(?:trips|heartbeats)\b", re.I)
    offenders = [f"{p.relative_to(SRC)}:{n}" for p in PKG.rglob("*.py") if "lab" not in p.relative_to(PKG).parts[:1]
                 for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
