"""The import contract of the tree, read from the source with `ast` (nothing is imported):

- handlers are leaves: a handler module imports `bot.*`, never another handler module (only
  `handlers/__init__.py` composes them);
- `bot/` imports `handlers` in one place, the composition root `bot/__main__.py`;
- handlers and the report workflows (`bot/reports/`) run no SQL: the stores in `bot/store/` do;
- the pure rules (`bot/rules/`) import no I/O library and no `bot` module with effects;
- no import cycle among the project's modules, except inside the emulator.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")
COMPOSITION_ROOT = "bot.__main__"
# What a pure rule may import from the project: other rules, and the clock's date helpers.
PURE_MAY_IMPORT = ("bot.rules", "bot.clock")
IO_LIBRARIES = ("aiohttp", "sqlalchemy", "gidgethub", "asyncpg", "aiosqlite", "alembic", "socket", "subprocess")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs, at module level or inside a function (`if TYPE_CHECKING:` blocks
    run none)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for other in node.orelse for n in _import_nodes(ast.Module(body=[other], type_ignores=[])))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _import_nodes(node)


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules `name` imports: project modules resolved to the module, others to their top name."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            found.add(candidate if candidate in known else base)
    return found


def import_graph() -> dict[str, set[str]]:
    known = source_modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_handlers_never_import_handlers() -> None:
    graph = import_graph()
    offenders = {name: sorted(m for m in imported if in_package(m, "handlers"))
                 for name, imported in graph.items() if in_package(name, "handlers") and name != "handlers"}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_composition_root_imports_handlers() -> None:
    graph = import_graph()
    offenders = sorted(name for name, imported in graph.items()
                       if in_package(name, "bot") and name != COMPOSITION_ROOT
                       and any(in_package(m, "handlers") for m in imported))
    assert offenders == []
    assert "handlers" in graph[COMPOSITION_ROOT]


def test_handlers_and_workflows_leave_sql_to_the_stores() -> None:
    graph = import_graph()
    offenders = sorted(name for name, imported in graph.items()
                       if (in_package(name, "handlers") or in_package(name, "bot.reports"))
                       and any(in_package(m, "sqlalchemy") or in_package(m, "bot.store.tables") for m in imported))
    assert offenders == []


def test_pure_rules_import_no_io_and_no_module_with_effects() -> None:
    graph = import_graph()
    rules = {name: imported for name, imported in graph.items() if in_package(name, "bot.rules")}
    assert len(rules) >= 6  # detect, commands, lifecycle, policy, config, security_md, ...
    offenders = {}
    for name, imported in rules.items():
        bad = sorted(m for m in imported
                     if any(in_package(m, lib) for lib in IO_LIBRARIES)
                     or (in_package(m, "bot") and not any(in_package(m, ok) for ok in PURE_MAY_IMPORT))
                     or in_package(m, "handlers"))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_outside_the_emulator() -> None:
    found = [c for c in cycles(import_graph()) if not all(in_package(m, "bot.emulator") for m in c)]
    assert found == []


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"a"}}, [["a"]]),
])
def test_cycles_are_found(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_a_handler_importing_another_handler_is_caught(tmp_path: Path) -> None:
    """The contract reads real source: a late import inside a function counts too."""
    source = "async def run(payload, ctx):\n    from handlers import timers\n    await timers.run_timer(payload, ctx)\n"
    path = tmp_path / "handlers" / "watch.py"
    path.parent.mkdir()
    path.write_text(source)
    known = {"handlers.timers": path, "handlers.watch": path}
    assert imports_of("handlers.watch", path, known) == {"handlers.timers"}
