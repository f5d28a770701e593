"""The layering of docs/architecture.md, read from the source: no import cycles, no import from a lower
part to a higher one, and nothing below the CLI imports the CLI.

The import graph is built from each module's syntax tree (``ast``), so imports inside functions count
as much as those at the top. ``from dlstudy.x import y`` is an import of ``dlstudy.x.y`` when ``y`` is
a module; relative imports are resolved against the importing module's package; a call
``importlib.import_module("dlstudy....")`` with a literal name counts too (a computed name, such as
the oracle registry's ``f"dlstudy.engine.oracles.{module}"``, cannot be seen). The checks are small
functions, tested below on made-up graphs so they are known to be able to fail.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "dlstudy"

# The parts of docs/architecture.md, lowest first. A module may import from its own part and any part below it.
PARTS = ("base", "mathtext", "engine", "cards", "output", "cli")
# Every module directly under dlstudy/ must be listed here; everything in a subpackage belongs to that
# subpackage's part. A new module in no part fails test_every_module_is_in_a_part.
TOP_LEVEL_PART = {
    "dlstudy": "base",  # dlstudy/__init__.py: the version
    "dlstudy.errors": "base",
    "dlstudy.suggest": "base",
    "dlstudy.paths": "base",
    "dlstudy.clock": "base",
    "dlstudy.config": "base",
    "dlstudy.yamlfile": "base",
    "dlstudy.filecache": "base",
    "dlstudy.files": "base",
    "dlstudy.limits": "base",
    "dlstudy.spreadsheet": "base",
    "dlstudy.registry": "base",
    "dlstudy.__main__": "cli",  # `python -m dlstudy` runs the CLI
}
SUBPACKAGE_PART = {
    "dlstudy.mathtext": "mathtext",
    "dlstudy.engine": "engine",
    "dlstudy.cards": "cards",
    "dlstudy.output": "output",
    "dlstudy.cli": "cli",
}


@dataclass(frozen=True)
class Import:
    """One import of a dlstudy module by another, and where it is written."""

    importer: str
    imported: str
    path: str  # the importing file, relative to the repository
    line: int
    statement: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported} (`{self.statement}`)"


# ---------------------------------------------------------------------------
# The graph


def module_files(package_dir: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file of the package (``pkg/__init__.py`` is ``pkg``)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if "__pycache__" in parts or "_content" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def resolve(name: str, modules: set[str]) -> str | None:
    """The module a dotted name refers to: itself, or the longest enclosing module; None if not ours."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_in(module: str, source: str, is_package: bool, modules: set[str], path: str = "<source>") -> list[Import]:
    """Every import of one of ``modules`` written anywhere in ``source`` (the text of ``module``)."""
    found: list[Import] = []
    package = module if is_package else module.rpartition(".")[0]

    def add(node: ast.AST, target: str | None) -> None:
        if target is not None and target != module:
            found.append(Import(module, target, path, node.lineno, ast.unparse(node)))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, resolve(alias.name, modules))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: one level is the package itself, each further level its parent
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                add(node, submodule if submodule in modules else resolve(origin, modules))
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            add(node, resolve(node.args[0].value, modules))
    return found


def import_graph(package_dir: Path) -> dict[str, list[Import]]:
    """Module -> the imports written in it, for every module of the package."""
    files = module_files(package_dir)
    names = set(files)
    root = package_dir.parent
    return {
        module: imports_in(module, path.read_text(encoding="utf-8"), path.name == "__init__.py", names,
                           str(path.relative_to(root)))
        for module, path in files.items()
    }


# ---------------------------------------------------------------------------
# The checks


def part_of(module: str) -> str | None:
    if module in TOP_LEVEL_PART:
        return TOP_LEVEL_PART[module]
    for package, part in SUBPACKAGE_PART.items():
        if module == package or module.startswith(package + "."):
            return part
    return None


def unplaced_modules(graph: dict[str, list[Import]], part_of=part_of) -> list[str]:
    return sorted(module for module in graph if part_of(module) is None)


def upward_imports(graph: dict[str, list[Import]], part_of=part_of, parts=PARTS) -> list[Import]:
    """Imports of a module in a higher part than the importer's."""
    rank = {part: i for i, part in enumerate(parts)}
    return [
        imp
        for imports in graph.values()
        for imp in imports
        if part_of(imp.importer) in rank and part_of(imp.imported) in rank
        and rank[part_of(imp.imported)] > rank[part_of(imp.importer)]
    ]


def import_cycles(graph: dict[str, list[Import]]) -> list[list[Import]]:
    """One cycle (as its imports, in order) for each group of modules that import each other."""
    edges = {module: sorted({imp.imported for imp in imports if imp.imported in graph}) for module, imports in graph.items()}
    cycles = []
    for group in strongly_connected(edges):
        if len(group) < 2:
            continue
        start = min(group)
        path = _path_back(start, edges, set(group))
        cycles.append([next(imp for imp in graph[a] if imp.imported == b) for a, b in zip(path, path[1:])])
    return cycles


def strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative, so deep graphs do not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(edges.get(successor, ()))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(sorted(group))
    return groups


def _path_back(start: str, edges: dict[str, list[str]], group: set[str]) -> list[str]:
    """The shortest import path start -> ... -> start inside one strongly connected group (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in edges[node]:
                if successor not in group:
                    continue
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if successor not in came_from:
                    came_from[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError(f"{start} is in a strongly connected group but has no way back")


def describe_cycle(cycle: list[Import]) -> str:
    modules = " -> ".join([cycle[0].importer, *(imp.imported for imp in cycle)])
    return modules + "\n" + "\n".join(f"    {imp}" for imp in cycle)


# ---------------------------------------------------------------------------
# The real tree


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    return import_graph(PACKAGE_DIR)


def test_the_graph_sees_the_package(graph):
    # a sanity check on the walk: known modules and known imports (one inside a function) are found
    assert {"dlstudy", "dlstudy.cli.app", "dlstudy.engine.templates", "dlstudy.engine.oracles.cnn_sizes"} <= set(graph)
    imported = {imp.imported for imp in graph["dlstudy.cli.problem_commands"]}
    assert {"dlstudy.errors", "dlstudy.engine.templates", "dlstudy.cli.terminal"} <= imported  # two inside functions


def test_every_module_is_in_a_part(graph):
    unplaced = unplaced_modules(graph)
    assert not unplaced, (
        f"{', '.join(unplaced)}: in no part of the layering. Decide its part with the lead, write it in "
        f"docs/architecture.md, and add it to TOP_LEVEL_PART (a module directly under dlstudy/) or SUBPACKAGE_PART "
        f"(a new subpackage) in {Path(__file__).name}."
    )


def test_no_import_cycles(graph):
    cycles = import_cycles(graph)
    assert not cycles, "import cycles (imports inside functions count too):\n" + "\n".join(map(describe_cycle, cycles))


def test_no_import_from_a_lower_part_to_a_higher_one(graph):
    upward = upward_imports(graph)
    assert not upward, "imports of a higher part (order: " + " < ".join(PARTS) + "):\n" + "\n".join(
        f"    [{part_of(imp.importer)} -> {part_of(imp.imported)}] {imp}" for imp in upward)


def test_nothing_below_the_cli_imports_the_cli(graph):
    into_cli = [imp for imports in graph.values() for imp in imports
                if part_of(imp.importer) != "cli" and part_of(imp.imported) == "cli"]
    assert not into_cli, "only the CLI may import dlstudy.cli:\n" + "\n".join(f"    {imp}" for imp in into_cli)


MAX_MODULE_LINES = 440  # "about 400": one concept per module; a module past this is two concepts


def test_no_module_is_much_over_400_lines():
    long = {str(path.relative_to(PACKAGE_DIR)): n for path in PACKAGE_DIR.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by concept): {long}"


# ---------------------------------------------------------------------------
# The checks can fail: made-up packages


def synthetic(sources: dict[str, str]) -> dict[str, list[Import]]:
    """A graph from module name -> source; names ending in ``/`` are packages (``pkg/__init__.py``)."""
    names = {name.rstrip("/") for name in sources}
    return {
        name.rstrip("/"): imports_in(name.rstrip("/"), text, name.endswith("/"), names, f"{name.rstrip('/')}.py")
        for name, text in sources.items()
    }


def test_a_cycle_through_a_function_level_import_is_found_and_located():
    graph = synthetic({
        "p/": "",
        "p.a": "import os\nfrom p import b\n",
        "p.b": "def f():\n    from p.c import thing\n    return thing\n",
        "p.c": "import p.a\nthing = 1\n",
        "p.d": "from p import a\n",  # imports into the cycle, not part of it
    })
    (cycle,) = import_cycles(graph)
    assert [(imp.importer, imp.imported, imp.line) for imp in cycle] == [("p.a", "p.b", 2), ("p.b", "p.c", 2), ("p.c", "p.a", 1)]
    message = describe_cycle(cycle)
    assert message.startswith("p.a -> p.b -> p.c -> p.a") and "p.b.py:2: p.b imports p.c (`from p.c import thing`)" in message


def test_two_modules_importing_each_other_are_a_cycle():
    graph = synthetic({"p/": "", "p.a": "import p.b\n", "p.b": "from . import a\n"})
    assert [[(imp.importer, imp.imported) for imp in cycle] for cycle in import_cycles(graph)] == [[("p.a", "p.b"), ("p.b", "p.a")]]


def test_an_acyclic_graph_has_no_cycle():
    graph = synthetic({"p/": "", "p.a": "import p.b\nimport p.c\n", "p.b": "import p.c\n", "p.c": "import p\n"})
    assert import_cycles(graph) == []


def test_an_upward_import_is_found_and_located():
    graph = synthetic({
        "dlstudy/": "",
        "dlstudy.engine/": "",
        "dlstudy.engine.solving": "def f():\n    from dlstudy.cards import quiz\n",
        "dlstudy.cards/": "",
        "dlstudy.cards.quiz": "from dlstudy.engine import solving\nfrom ..engine.solving import f\n",
    })
    (upward,) = upward_imports(graph)
    assert (upward.importer, upward.imported, upward.line) == ("dlstudy.engine.solving", "dlstudy.cards.quiz", 2)
    assert str(upward) == "dlstudy.engine.solving.py:2: dlstudy.engine.solving imports dlstudy.cards.quiz (`from dlstudy.cards import quiz`)"


def test_an_unplaced_module_is_reported():
    graph = synthetic({"dlstudy/": "", "dlstudy.errors": "", "dlstudy.newthing": "", "dlstudy.plugins/": ""})
    assert unplaced_modules(graph) == ["dlstudy.newthing", "dlstudy.plugins"]


def test_import_forms_resolve_to_modules():
    modules = {"pkg", "pkg.sub", "pkg.sub.mod", "pkg.other"}
    source = (
        "import pkg.sub.mod as m\n"                      # a module by its full name
        "from pkg.sub import mod, CONSTANT\n"            # a submodule, and a name of the package
        "from .mod import x\n"                           # relative, inside pkg.sub
        "from .. import other\n"                         # relative, the parent package's submodule
        "import numpy\n"                                 # not ours
        "def f():\n"
        "    importlib.import_module('pkg.other')\n"     # literal dynamic import
        "    importlib.import_module(f'pkg.{name}')\n"   # computed: not seen
    )
    found = [(imp.imported, imp.line) for imp in imports_in("pkg.sub.user", source, False, modules)]
    assert found == [("pkg.sub.mod", 1), ("pkg.sub.mod", 2), ("pkg.sub", 2), ("pkg.sub.mod", 3), ("pkg.other", 4), ("pkg.other", 7)]
    # in a package's __init__, one dot is the package itself
    assert [imp.imported for imp in imports_in("pkg.sub", "from . import mod\n", True, modules)] == ["pkg.sub.mod"]
