"""The package's import graph has no cycle.

Every module of ``builder`` is parsed (not imported) and each import of a ``builder`` module
is an edge: module-level imports, and imports inside functions too. An import inside a
function is allowed for an optional or heavy dependency (the tagger's PyTorch, spaCy's
training code), but one that closes a cycle with the others only hides the cycle until that
function runs, so it counts. Imports under ``if TYPE_CHECKING:`` never run and do not count.
Importing ``a.b.c`` first runs the packages ``a`` and ``a.b``, so it is an edge to each of
them too, except to the importer's own packages (already running when it is imported).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]


class Edge(NamedTuple):
    target: str
    line: int
    lazy: bool  # inside a function


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[tuple[ast.stmt, bool]]:
    """Every import statement with whether it sits inside a function, skipping ``if TYPE_CHECKING:`` blocks."""
    found: list[tuple[ast.stmt, bool]] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.orelse:
                    visit_stmt(stmt, lazy)
                continue
            visit_stmt(child, lazy)

    def visit_stmt(node: ast.AST, lazy: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append((node, lazy))
        visit(node, lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


def import_graph(package: Path) -> dict[str, dict[str, Edge]]:
    """Module -> {imported module of the package: the first import of it}, for every module under ``package``."""
    root = package.parent
    modules = {module_name(p, root): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, dict[str, Edge]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        own_packages = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + (2 if is_package else 1))}
        edges: dict[str, Edge] = {}

        def add(target: str, node: ast.stmt, lazy: bool) -> None:
            parts = target.split(".")
            for k in range(1, len(parts) + 1):
                candidate = ".".join(parts[:k])
                if candidate in modules and candidate not in own_packages and candidate != name:
                    previous = edges.get(candidate)
                    if previous is None or (previous.lazy and not lazy):
                        edges[candidate] = Edge(candidate, node.lineno, lazy)

        for node, lazy in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, node, lazy)
                continue
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            add(prefix, node, lazy)
            for alias in node.names:  # ``from . import lfs``: a submodule
                add(f"{prefix}.{alias.name}", node, lazy)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, Edge]]) -> Optional[list[str]]:
    """A cycle of the graph as the modules along it (the first one repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> Optional[list[str]]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def describe(graph: dict[str, dict[str, Edge]], cycle: list[str]) -> str:
    steps = []
    for a, b in zip(cycle, cycle[1:]):
        edge = graph[a][b]
        steps.append(f"{a} -> {b} (line {edge.line}{', inside a function' if edge.lazy else ''})")
    return "; ".join(steps)


def test_the_builder_package_has_no_import_cycle():
    graph = import_graph(ROOT / "builder")
    assert "builder.weak.labeller" in graph and graph["builder.weak.labeller"], "the graph must see the package's modules"
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {describe(graph, cycle)}"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "pkg"


@pytest.mark.parametrize(
    "files, cycle",
    [
        # today's label <-> lfs before issue 16: a registry that imports its plugins inside a function
        (
            {"__init__.py": "", "label.py": "def registry():\n    from . import lfs\n", "lfs.py": "from .label import register\n"},
            ["pkg.label", "pkg.lfs", "pkg.label"],
        ),
        ({"__init__.py": "", "a.py": "import pkg.b\n", "b.py": "from pkg import a\n"}, ["pkg.a", "pkg.b", "pkg.a"]),
        # a sub-package whose __init__ imports a module that imports the sub-package from outside it
        (
            {"__init__.py": "", "top.py": "from .sub.x import X\n", "sub/__init__.py": "from .x import X\n", "sub/x.py": "from ..top import T\n"},
            ["pkg.sub", "pkg.sub.x", "pkg.top", "pkg.sub"],
        ),
    ],
)
def test_a_cycle_is_found_even_through_a_function_or_a_package(tmp_path, files, cycle):
    assert find_cycle(import_graph(_package(tmp_path, files))) == cycle


@pytest.mark.parametrize(
    "files",
    [
        {"__init__.py": "", "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n", "b.py": "from .a import A\n"},
        {"__init__.py": "from .x import X\n", "x.py": "from . import y\n", "y.py": "X = 1\n"},  # its own package is already running
    ],
)
def test_type_checking_imports_and_a_modules_own_package_are_no_cycle(tmp_path, files):
    assert find_cycle(import_graph(_package(tmp_path, files))) is None
