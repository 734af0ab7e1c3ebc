"""The apps import each other in one direction, and no import inside a function hides a cycle.

Read from the source with ``ast``: every import of one of our modules, at module level or inside
a function (where an import put to dodge a cycle hides), is an edge of the graph.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("pixee", "catalog", "imports", "automations", "webhooks")
# Heavy optional libraries are imported where they are needed (house style); our own modules are not.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


class _Imports(ast.NodeVisitor):
    """Our modules that ``module`` imports: (target, the function it is imported in or None)."""

    def __init__(self, module: str, is_package: bool):
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[str, str | None]] = []
        self.function: list[str] = []
        self.classes: list[str] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.function.append(".".join([*self.classes, node.name]))
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" not in ast.unparse(node.test):  # annotations only: never run
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        for alias in node.names:
            submodule = f"{target}.{alias.name}"
            self._add(submodule if submodule in MODULES else target)

    def _add(self, name: str) -> None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            self.found.append((name, self.function[-1] if self.function else None))


def _imports() -> dict[str, list[tuple[str, str | None]]]:
    graph = {}
    for module, path in MODULES.items():
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        graph[module] = [(target, function) for target, function in visitor.found if target != module]
    return graph


def _cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _app(module: str) -> str:
    return module.split(".")[0]


def test_the_apps_depend_on_each_other_in_one_direction():
    apps: dict[str, set[str]] = defaultdict(set)
    for module, targets in _imports().items():
        apps[_app(module)] |= {_app(t) for t, _ in targets if _app(t) != _app(module)}
    assert _cycles(apps) == [], dict(apps)
    # Webhooks listen to the imports' and automations' signals; those apps know nothing of webhooks.
    assert "webhooks" not in apps["imports"] | apps["automations"] | apps["catalog"] | apps["pixee"]


def test_no_module_imports_one_that_imports_it_back():
    modules = {module: {t for t, _ in targets} for module, targets in _imports().items()}
    cycles = [frozenset(c) for c in _cycles(modules)]
    assert set(cycles) <= KNOWN_CYCLES, [sorted(c) for c in cycles if c not in KNOWN_CYCLES]


def test_services_send_tasks_by_name_without_importing_them():
    for module, targets in _imports().items():
        if module.endswith(".services"):
            assert f"{_app(module)}.tasks" not in {t for t, _ in targets}, module


def test_webhooks_import_nothing_of_ours_inside_a_function_but_the_apps_loading():
    inside = [
        (module, function, target)
        for module, targets in _imports().items()
        if _app(module) == "webhooks"
        for target, function in targets
        if function is not None and not (module == "webhooks.apps" and function == "WebhooksConfig.ready")
    ]
    assert inside == []


def test_the_graph_sees_an_import_inside_a_function():
    """The checks above can fail: a cycle dodged with a function-level import is an edge here."""
    tree = ast.parse("def tasks():\n    from . import tasks as module\n    return module\n")
    visitor = _Imports("webhooks.services", is_package=False)
    visitor.visit(tree)
    assert visitor.found == [("webhooks.tasks", "tasks")]
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]
