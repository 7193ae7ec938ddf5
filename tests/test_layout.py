"""The tree shows the architecture: no import cycle inside ``boshpipe``, backends apart, layers kept.

The import graph is read from the source (``ast``), not from ``sys.modules``, so every import
counts: top-level, inside a function (the lazy ones that keep start-up fast) and under
``TYPE_CHECKING``. A cycle hidden inside a function is still a cycle in the design. The one edge
not drawn is the implicit one from a module to the packages above it (Python runs a package's
``__init__`` before its submodules); a package's ``__init__`` is its facade, and what it imports
is drawn like any other import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "boshpipe"

Graph = dict[str, set[str]]


def module_name(root: Path, path: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> Graph:
    """Module → the modules of the same top-level package it imports (anywhere in its source)."""
    files = {module_name(root, path): path for path in sorted(root.rglob("*.py"))}
    graph: Graph = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: Iterable[str] = ()
            if isinstance(node, ast.Import):
                targets = (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(name, is_package, node.module, node.level)
                # `from pkg import mod` imports the module pkg.mod when there is one, else a name of pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for target in targets:
                while target not in files and "." in target:
                    target = target.rsplit(".", 1)[0]  # `import a.b.c` where c is a name: the module is a.b
                if target in files and target != name:
                    graph[name].add(target)
    return graph


def _absolute(module: str, is_package: bool, target: str | None, level: int) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (level - 1)]
    return ".".join([*anchor, target] if target else anchor)


def cycles(graph: Graph) -> list[list[str]]:
    """Every strongly connected component with more than one module, each as one closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the package has a few dozen modules, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_closed_path(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _closed_path(graph: Graph, component: set[str]) -> list[str]:
    """One readable cycle through a component: a → b → ... → a (breadth-first, shortest)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for succ in sorted(graph[node] & component):
            if succ == start:
                return [*paths[node], start]
            if succ not in paths:
                paths[succ] = [*paths[node], succ]
                queue.append(succ)
    return sorted(component)


def imports_between(graph: Graph, sources: str, targets: str) -> list[str]:
    """``a imports b`` lines for modules under ``sources`` importing modules under ``targets``."""
    inside = lambda name, prefix: name == prefix or name.startswith(prefix + ".")  # noqa: E731
    return sorted(
        f"{module} imports {target}"
        for module, imported in graph.items()
        if inside(module, sources)
        for target in imported
        if inside(target, targets)
    )


def test_no_import_cycle_inside_boshpipe() -> None:
    found = cycles(import_graph(PACKAGE))
    assert not found, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in found)


@pytest.mark.parametrize(
    ("sources", "targets"),
    [
        ("boshpipe.director.local", "boshpipe.director.bosh"),
        ("boshpipe.director.bosh", "boshpipe.director.local"),
    ],
)
def test_director_backends_do_not_import_each_other(sources: str, targets: str) -> None:
    assert imports_between(import_graph(PACKAGE), sources, targets) == []


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("boshpipe.steps", "boshpipe.promotion"),
        ("boshpipe.steps", "boshpipe.chain"),
        ("boshpipe.promotion", "boshpipe.chain"),
        ("boshpipe.director", "boshpipe.steps"),
        ("boshpipe.director", "boshpipe.promotion"),
        ("boshpipe.director", "boshpipe.store"),
        ("boshpipe.director", "boshpipe.ledger"),
        ("boshpipe.spiff", "boshpipe.director"),
        ("boshpipe.store", "boshpipe.director"),
        ("boshpipe.concourse", "boshpipe.steps"),
        ("boshpipe.concourse", "boshpipe.director"),
    ],
)
def test_lower_layers_do_not_import_upper_ones(lower: str, upper: str) -> None:
    assert imports_between(import_graph(PACKAGE), lower, upper) == []


def test_the_graph_is_read_from_the_real_tree() -> None:
    graph = import_graph(PACKAGE)
    assert "boshpipe.steps" in graph["boshpipe.promotion"]
    assert {"boshpipe.promotion", "boshpipe.steps"} <= graph["boshpipe.chain"]
    assert "boshpipe.director.local" in graph["boshpipe.director"]  # the lazy import in open_director


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cycle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "steps.py": "def deploy():\n    from pkg import promotion\n",
            "promotion.py": "from pkg.steps import deploy\n",
            "leaf.py": "import os\n",
        },
    )
    assert cycles(import_graph(pkg)) == [["pkg.promotion", "pkg.steps", "pkg.promotion"]]


def test_a_relative_and_type_checking_cycle_is_found(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "sub/__init__.py": "from .a import x\n",
            "sub/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..b import y\nx = 1\n",
            "b.py": "from pkg.sub import x\ny = 2\n",
        },
    )
    assert cycles(import_graph(pkg)) == [["pkg.b", "pkg.sub", "pkg.sub.a", "pkg.b"]]


def test_backend_crossing_is_reported(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "director/__init__.py": "",
            "director/local/__init__.py": "",
            "director/local/plan.py": "from pkg.director.bosh.http import session\n",
            "director/bosh/__init__.py": "",
            "director/bosh/http.py": "session = None\n",
        },
    )
    graph = import_graph(pkg)
    assert imports_between(graph, "pkg.director.local", "pkg.director.bosh") == [
        "pkg.director.local.plan imports pkg.director.bosh.http"
    ]
    assert imports_between(graph, "pkg.director.bosh", "pkg.director.local") == []
