"""Every arrow between two modules of rcauth, and between two of ringcentral_emulator, points one way: no
module imports, however indirectly, a module that imports it.

Every import counts, wherever it stands: at the top, inside a function (a lazy import saves start-up
time, not the dependency: the two modules still cannot be read, tested or moved apart), and under
`if TYPE_CHECKING:` (a type is a dependency too, and the type checker follows it). A circle is untangled
by moving what both modules need to where it belongs, or by typing against a small Protocol the lower
module defines, never by hiding an import from this test.

A package's `__init__` is a module like the others: rcauth's (the public API, which names what
`library` defines) is at the top, so no module of rcauth imports it.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("rcauth", "ringcentral_emulator")

# importer -> {imported: the line of its first import there}
Graph = dict[str, dict[str, int]]


def module_files(package: str, root: Path = REPO) -> dict[str, Path]:
    """Every module of `package` (subpackages included) by dotted name; a package is its `__init__`."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterable[str]:
    """What one import statement names, as dotted module paths (or a module's attributes)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: from the module's own package, up `level - 1` packages
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    return [f"{source}.{alias.name}" for alias in node.names]


def import_graph(package: str, root: Path = REPO) -> Graph:
    """The package's own imports, every statement in every module: ast.walk reaches function bodies,
    `if TYPE_CHECKING:` blocks and `try:` blocks alike. `from p import name` imports `p.name` when that
    is a module, else `p` (as import-linter's grimp reads it)."""
    files = module_files(package, root)
    graph: Graph = {name: {} for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _imported_names(node, name, path.name == "__init__.py"):
                imported = target
                while imported and imported not in files:  # a module's attribute: the module
                    imported = imported.rpartition(".")[0]
                if imported and imported != name:
                    graph[name].setdefault(imported, node.lineno)
    return graph


def _tangles(graph: Graph) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _shortest_path(graph: Graph, start: str, end: str, within: set[str]) -> list[str]:
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        if module == end:
            break
        for imported in sorted(graph[module]):
            if imported in within and imported not in came_from:
                came_from[imported] = module
                queue.append(imported)
    path = [end]
    while (previous := came_from[path[-1]]) is not None:
        path.append(previous)
    return path[::-1]


def cycles(graph: Graph) -> list[list[str]]:
    """Each circle as the modules it goes through, back to the first: for every arrow that lies on a
    circle, the shortest circle through it, so every arrow to turn round is named at least once."""
    found = set()
    for tangle in _tangles(graph):
        for importer in tangle:
            for imported in graph[importer]:
                if imported in tangle:
                    circle = [importer, *_shortest_path(graph, imported, importer, tangle)]
                    start = circle.index(min(circle[:-1]))  # one spelling for each circle
                    found.add(tuple(circle[start:-1] + circle[:start] + [circle[start]]))
    return sorted(list(circle) for circle in found)


def _describe(circle: list[str], graph: Graph, root: Path) -> str:
    files = module_files(circle[0].split(".")[0], root)
    steps = [
        f"    {files[a].relative_to(root)}:{graph[a][b]} imports {b}"
        for a, b in zip(circle, circle[1:], strict=False)
    ]
    return " -> ".join(circle) + "\n" + "\n".join(steps)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_a_module_that_imports_it(package: str) -> None:
    graph = import_graph(package)
    found = cycles(graph)
    if found:
        pytest.fail(
            f"{len(found)} import circle(s) in {package}:\n"
            + "\n".join(_describe(circle, graph, REPO) for circle in found),
            pytrace=False,
        )


def test_circles_through_lazy_type_only_and_relative_imports_are_found(tmp_path: Path) -> None:
    """The checker itself: a circle closed by an import inside a function, under TYPE_CHECKING, or spelled
    relatively is a circle; importing a package's attribute imports the package, its submodule the
    submodule; one-way arrows are no circle."""
    files = {
        "__init__.py": "from pkg.top import Thing\n",
        "top.py": "from pkg import low\nThing = 1\n",
        # The package's attribute, in a function: pkg -> top -> low -> pkg.
        "low.py": "def f():\n    from pkg import Thing\n",
        "a.py": "from pkg.b import B\nA = 1\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\nB = 1\n",
        "sub/__init__.py": "",
        "sub/c.py": "from . import d\n",
        "sub/d.py": "from ..sub import c\nimport pkg.a\n",
    }
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")

    graph = import_graph("pkg", tmp_path)

    assert cycles(graph) == [
        ["pkg", "pkg.top", "pkg.low", "pkg"],
        ["pkg.a", "pkg.b", "pkg.a"],
        ["pkg.sub.c", "pkg.sub.d", "pkg.sub.c"],
    ]
    message = _describe(["pkg.a", "pkg.b", "pkg.a"], graph, tmp_path)
    assert f"{Path('pkg', 'b.py')}:3 imports pkg.a" in message


def test_the_graph_is_the_one_import_linter_checks() -> None:
    """`lint-imports` checks the contracts on grimp's graph: the same arrows as this file's, those inside
    functions and under TYPE_CHECKING included, so a contract and this test never disagree on what
    imports what."""
    grimp_graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    for package in PACKAGES:
        ours = {(a, b) for a, imported in import_graph(package).items() for b in imported}
        theirs = {
            (a, b)
            for a in grimp_graph.find_descendants(package) | {package}
            for b in grimp_graph.find_modules_directly_imported_by(a)
            if b == package or b.startswith(package + ".")
        }
        assert ours == theirs, (
            f"{package}: only ours {sorted(ours - theirs)}, only grimp's {sorted(theirs - ours)}"
        )
