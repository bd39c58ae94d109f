"""The architecture page's picture is what its script draws, and the layout has no cycles."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_request_path_picture_is_current() -> None:
    spec = importlib.util.spec_from_file_location("request_path",
                                                  ROOT / "docs/scripts/request_path.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs/request-path.svg").read_text() == module.svg()


def _imports(path: Path, package: str) -> set[str]:
    """Modules of the package that `path` imports, anywhere in the file."""
    tree = ast.parse(path.read_text())
    here = path.relative_to(ROOT).with_suffix("").parts
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(here[:len(here) - node.level]) if here[-1] != "__init__" else \
                list(here[:len(here) - node.level])
            if node.module is None:  # `from . import name`: the submodule, if it is one
                for alias in node.names:
                    sub = ROOT.joinpath(*base, alias.name)
                    is_module = sub.with_suffix(".py").exists() or (sub / "__init__.py").exists()
                    found.add(".".join([*base, alias.name] if is_module else base))
                continue
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(target)
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith(package):
            found.add(node.module)
    return found


def test_no_import_cycles_between_modules() -> None:
    package = "douyin_async"
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts): p
               for p in (ROOT / package).rglob("*.py")}
    graph = {name.removesuffix(".__init__"): {t.removesuffix(".__init__")
                                              for t in _imports(path, package)}
             for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph or nxt == node:
                continue
            if state.get(nxt) == 1 and not node.startswith(nxt + "."):
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
