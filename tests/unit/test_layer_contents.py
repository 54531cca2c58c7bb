"""The Lambda layer holds what handlers run, and nothing only an operator uses (that lives in odr_cli)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "odr"


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(LAYER).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (LAYER / "odr_adapter").rglob("*.py")
    }


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("odr_adapter"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("odr_adapter")}
    return found


def test_every_module_of_the_layer_is_imported_by_some_handler() -> None:
    modules = _modules()
    seen: set[str] = set()
    todo = [m for app in ROOT.glob("functions/*/app.py") for m in _imports(app, modules)]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # a package's __init__ runs too
        if module in modules:
            todo += _imports(modules[module], modules)
    assert sorted(set(modules) - seen) == []


def test_no_module_of_the_layer_imports_the_operators_or_the_local_stacks_packages() -> None:
    for path in (LAYER / "odr_adapter").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            assert not [n for n in names if n.split(".")[0] in ("odr_cli", "odr_local")], path
