"""The package's import graph: no cycles, and the layers below the transports never reach up into them.

The graph is read from the source (every `import` statement, those inside functions included), not
from what happens to be loaded: an import moved into a function to dodge a cycle still is that
cycle, and a transport imported lazily by an operation is still a dependency of the operation.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import stateset_gateway

PACKAGE = "stateset_gateway"
# resolvers/ (the operations), auth/ and db/ are shared by GraphQL and REST: neither transport may
# become one of their dependencies.
LOWER_LAYERS = ("stateset_gateway.resolvers", "stateset_gateway.auth", "stateset_gateway.db")
TRANSPORTS = ("stateset_gateway.http", "stateset_gateway.schema", "stateset_gateway.rest_compat",
              "fastapi", "starlette", "strawberry")


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    file: str  # relative to the directory holding the package
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} ({self.file}:{self.line})"


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def find_modules(root: Path, name: str) -> dict[str, tuple[Path, bool]]:
    """Every Python file of the package at `root`: dotted name -> (file, is a package). Read from the
    file system rather than found by importing, so the Alembic scripts (which Alembic loads by path)
    count too, and nothing runs."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        found[".".join((name, *(parts[:-1] if is_package else parts)))] = (path, is_package)
    return found


def _imports(module: str, path: Path, is_package: bool, known: set[str], base_dir: Path) -> Iterator[Edge]:
    """The modules one file imports, relative imports resolved; `from package import name` counts
    as importing the submodule `package.name` when there is one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module if is_package else module.rpartition(".")[0]
    file = path.relative_to(base_dir).as_posix()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(module, alias.name, file, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield Edge(module, submodule if submodule in known else target, file, node.lineno)


@dataclass
class ImportGraph:
    edges: list[Edge]

    @classmethod
    def of(cls, root: Path, name: str) -> ImportGraph:
        modules = find_modules(root, name)
        known = set(modules)
        return cls([edge for module, (path, is_package) in sorted(modules.items())
                    for edge in _imports(module, path, is_package, known, root.parent)])

    def cycles(self, package: str) -> list[list[Edge]]:
        """One cycle through each group of modules that import one another (each strongly connected
        component of the graph restricted to `package`), as the edges that close it."""
        graph: dict[str, dict[str, Edge]] = {}
        for edge in self.edges:
            if _within(edge.imported, package) and edge.imported != edge.importer:
                graph.setdefault(edge.importer, {}).setdefault(edge.imported, edge)
        cycles = []
        for component in _strongly_connected(graph):
            if len(component) > 1:
                cycles.append(_cycle_in(graph, component))
        return cycles

    def violations(self, importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[Edge]:
        return [edge for edge in self.edges
                if any(_within(edge.importer, layer) for layer in importers)
                and any(_within(edge.imported, target) for target in forbidden)]


def _strongly_connected(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the package is deep enough to make recursion a worry)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, {})))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _cycle_in(graph: dict[str, dict[str, Edge]], component: list[str]) -> list[Edge]:
    """The shortest way from the component's first module back to itself (breadth-first)."""
    members = set(component)
    start = component[0]
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ, edge in sorted(graph.get(node, {}).items()):
                if succ not in members or succ in came_by:
                    continue
                came_by[succ] = edge
                if succ == start:
                    path = [edge]
                    while path[0].importer != start:
                        path.insert(0, came_by[path[0].importer])
                    return path
                following.append(succ)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component of two or more always has one


def _describe(cycle: list[Edge]) -> str:
    return " -> ".join([cycle[0].importer, *(edge.imported for edge in cycle)]) + "\n      " + \
        "\n      ".join(str(edge) for edge in cycle)


# ---- the package ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph.of(Path(stateset_gateway.__file__).parent, PACKAGE)


def test_no_import_cycles(graph: ImportGraph) -> None:
    cycles = graph.cycles(PACKAGE)
    assert not cycles, "import cycles (every import counts, those inside functions too):\n" + \
        "\n".join(f"  {_describe(cycle)}" for cycle in cycles)


def test_operations_auth_and_storage_do_not_import_the_transports(graph: ImportGraph) -> None:
    violations = graph.violations(LOWER_LAYERS, TRANSPORTS)
    assert not violations, "imports of a transport from below it:\n" + \
        "\n".join(f"  {edge}" for edge in violations)


# ---- the checker itself, on a package made for it ------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_finds_a_cycle_hidden_in_a_function_and_a_forbidden_import(tmp_path: Path) -> None:
    _write(tmp_path / "shop", {
        "__init__.py": "",
        "errors.py": "def wrap():\n    from shop.db.errors import translate\n    return translate\n",
        "db/__init__.py": "",
        "db/errors.py": "from shop import errors\n",
        "db/engine.py": "from . import errors\nfrom ..web import routes\n",
        "web/__init__.py": "",
        "web/routes.py": "import fastapi\nfrom shop.db import engine\n",
        "db/migrations/versions/0001_first.py": "from starlette import status\n",  # loaded by path
    })
    graph = ImportGraph.of(tmp_path / "shop", "shop")

    described = sorted(_describe(cycle).splitlines()[0] for cycle in graph.cycles("shop"))
    assert described == ["shop.db.engine -> shop.web.routes -> shop.db.engine",
                         "shop.db.errors -> shop.errors -> shop.db.errors"]
    hidden = next(c for c in graph.cycles("shop") if c[0].importer == "shop.db.errors")
    assert str(hidden[1]) == "shop.errors -> shop.db.errors (shop/errors.py:2)"

    violations = graph.violations(("shop.db",), ("shop.web", "fastapi", "starlette"))
    assert [str(edge) for edge in violations] == [
        "shop.db.engine -> shop.web.routes (shop/db/engine.py:2)",
        "shop.db.migrations.versions.0001_first -> starlette (shop/db/migrations/versions/0001_first.py:1)",
    ]
    assert [str(edge) for edge in graph.violations(("shop.web",), ("fastapi",))] == \
        ["shop.web.routes -> fastapi (shop/web/routes.py:1)"]


def test_the_checker_passes_a_clean_package(tmp_path: Path) -> None:
    _write(tmp_path / "shop", {
        "__init__.py": "",
        "db/__init__.py": "from shop.db import engine\n",  # a package importing its own module is no cycle
        "db/engine.py": "import sqlalchemy\nfrom .. import rules\n",
        "rules.py": "from decimal import Decimal\n",
    })
    graph = ImportGraph.of(tmp_path / "shop", "shop")
    assert graph.cycles("shop") == []
    assert graph.violations(("shop.db",), ("fastapi", "shop.web")) == []
