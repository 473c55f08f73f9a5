"""mesaopt's modules import each other without circles, and only downward through the layers of DESIGN.md §3.

The graph is read from the source with ``ast`` (nothing is imported): every ``import`` / ``from ... import``
anywhere in a file counts, including those inside functions and ``if TYPE_CHECKING:`` blocks (a deferred import
hides a circle, it does not remove it). ``pkg/__init__.py`` is the module ``pkg``. An import names one module:
``from pkg import name`` is an edge to ``pkg.name`` when that is a module and to ``pkg`` otherwise;
``import a.b.c`` is an edge to ``a.b.c``. The parent packages Python runs on the way (``a``, ``a.b``) are not
edges: they are already initialising when one of their submodules runs, so they cannot close a circle unless the
submodule names the package itself (``from a.b import X`` inside ``a/b/x.py`` while ``a/b/__init__.py`` imports
``x``), and that *is* reported as a circle: it works only while ``__init__`` happens to bind ``X`` before it
imports ``x``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "mesaopt"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("", "errors", "_xla_flags"),  # "": the root package mesaopt/__init__.py (it applies the XLA flags)
    ("envs", "tasks"),
    ("models",),
    ("optimizers",),
    ("detectors",),
    ("theory",),
    ("runs",),
    ("reports",),
    ("experiments",),
    ("sweeps",),
    ("shell", "cli", "__main__"),
)
"""DESIGN.md §3, lowest first: a module may import its own layer or a lower one."""


def module_files(src: Path, package: str) -> dict[str, Path]:
    """``{dotted module name: file}`` of every ``.py`` under ``src/package`` (``__init__`` names the package)."""
    out = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name ``from <level dots><name> import ...`` means inside ``module``."""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    if level - 1 > len(base) - 1:
        raise ValueError(f"{module}: relative import beyond the top-level package")
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _deepest_module(name: str, modules) -> str | None:
    """``name`` or its longest prefix that is a known module (``import a.b.C`` where C is not a module)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, path: Path, modules) -> set[str]:
    """The known ``modules`` that ``module`` (source at ``path``) imports anywhere in its file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    targets: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(_deepest_module(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(module, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in modules else _deepest_module(base, modules))
    targets.discard(None)
    targets.discard(module)
    return targets  # type: ignore[return-value]


def import_graph(src: Path, package: str) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}`` for every module of ``package`` under ``src``."""
    files = module_files(src, package)
    return {module: imports_of(module, path, files) for module, path in files.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One concrete circle ``[a, b, ..., a]`` per strongly connected component with more than one module
    (Tarjan's algorithm, iterative), sorted; ``[]`` when the graph is acyclic."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(_circle_through(graph, set(c), c[0]) for c in components)


def _circle_through(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """A shortest circle ``[start, ..., start]`` inside one strongly connected ``component`` (breadth first)."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if child not in parent:
                    parent[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in no circle of its component")  # Tarjan guarantees one


def layer_of(module: str, package: str = PACKAGE) -> int:
    """The index into :data:`LAYERS` of ``module``'s top-level part (``mesaopt.envs.maze`` -> ``envs``)."""
    top = module.split(".")[1] if "." in module else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise KeyError(f"{module}: {package}.{top} is in no layer of DESIGN.md §3; add it to LAYERS")


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """``'a -> b'`` for every import of a higher layer, sorted."""
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a))


def _write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# --- the checker itself, on planted packages ------------------------------------------------------------------


def test_planted_circle_is_found(tmp_path):
    src = _write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import g\n",
        "pkg/b.py": "def g():\n    from pkg import a  # deferred: still a circle\n",
        "pkg/c.py": "import pkg.a\n",
    })
    graph = import_graph(src, "pkg")
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}, "pkg.c": {"pkg.a"}}
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_planted_circles_through_type_checking_relative_imports_and_a_parent_package(tmp_path):
    src = _write_package(tmp_path, {
        "pkg/__init__.py": "from pkg.sub import thing\nfrom pkg.bad_leaf import Z\n",
        "pkg/sub/__init__.py": "from .thing import X\n",
        "pkg/sub/thing.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..other import Y\n",
        "pkg/other.py": "from . import sub\n",
        "pkg/low.py": "",
        "pkg/leaf.py": "from pkg import low\n",
        "pkg/bad_leaf.py": "from pkg import X\n",  # X is a name in pkg/__init__, which imports bad_leaf
    })
    graph = import_graph(src, "pkg")
    assert graph["pkg.sub.thing"] == {"pkg.other"} and graph["pkg.other"] == {"pkg.sub"}
    assert graph["pkg.leaf"] == {"pkg.low"}  # `from pkg import low`: the module, not the package
    assert find_cycles(graph) == [["pkg", "pkg.bad_leaf", "pkg"],
                                  ["pkg.other", "pkg.sub", "pkg.sub.thing", "pkg.other"]]


def test_acyclic_package_passes(tmp_path):
    src = _write_package(tmp_path, {
        "pkg/__init__.py": "from pkg.a import f\nfrom pkg.b import g\n",
        "pkg/a.py": "from pkg.base import T\ndef f():\n    from pkg import base\n",
        "pkg/b.py": "from . import a\nfrom .base import T\nimport numpy\n",
        "pkg/base.py": "import os\n",
    })
    graph = import_graph(src, "pkg")
    assert graph["pkg.b"] == {"pkg.a", "pkg.base"}  # other packages (numpy) are not in the graph
    assert find_cycles(graph) == []


def test_layer_violations_are_listed():
    graph = {"mesaopt.envs.maze": {"mesaopt.errors", "mesaopt.models.mlp"}, "mesaopt.cli": {"mesaopt.envs"},
             "mesaopt.models.mlp": {"mesaopt.models"}}
    assert layer_violations(graph) == ["mesaopt.envs.maze -> mesaopt.models.mlp"]
    with pytest.raises(KeyError, match="no layer"):
        layer_of("mesaopt.unheard_of")


# --- mesaopt ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph():
    return import_graph(SRC, PACKAGE)


def test_mesaopt_has_no_import_circles(graph):
    assert len(graph) > 50  # the real source tree was read
    cycles = find_cycles(graph)
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_mesaopt_imports_only_go_down_the_layers(graph):
    violations = layer_violations(graph)
    assert not violations, "imports of a higher layer (DESIGN.md §3):\n" + "\n".join(violations)
