"""The Lambda layer holds what handlers run, and nothing only an operator uses (that lives in odr_cli); its
packages are exactly the lock's: the closure of what its code needs, less the AWS SDK the runtime provides."""

from __future__ import annotations

import ast
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "odr"
# boto3 and its own dependencies: the Lambda runtime provides them together; the layer ships none of them.
RUNTIME_SDK = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
# A package the layer ships in place of the one this environment runs (same code, without the data we never use).
IN_PLACE_OF = {"phonenumberslite": "phonenumbers"}


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


def _requirements(name: str) -> list[Requirement]:
    lines = (LAYER / name).read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for req in _requirements(name):
        (spec,) = req.specifier
        assert spec.operator == "==", f"{name}: {req} is not pinned"
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def _closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the roots need, by this environment's installed metadata (extras and markers honoured)."""
    seen: set[str] = set()
    todo = [(req, frozenset(req.extras)) for req in roots]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
            continue
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = distribution(IN_PLACE_OF.get(name, name)).requires or []
        except PackageNotFoundError:
            raise AssertionError(f"{name} is not installed here: the tests do not run what the layer ships") from None
        for line in needs:
            sub = Requirement(line)
            todo.append((sub, extras if sub.marker else frozenset(sub.extras)))
    return seen


def test_the_lock_is_the_closure_of_the_requirements_less_the_aws_sdk() -> None:
    needed = _closure(_requirements("requirements.txt"))
    assert "botocore" in needed  # aws-xray-sdk asks for it: left out on purpose, the runtime's goes with its boto3
    assert sorted(_pins("requirements-lock.txt")) == sorted(needed - RUNTIME_SDK)


def test_the_lock_pins_what_the_requirements_pin() -> None:
    lock = _pins("requirements-lock.txt")
    assert {name: lock[name] for name in _pins("requirements.txt")} == _pins("requirements.txt")


def test_the_lock_pins_the_versions_the_tests_run() -> None:
    for name, version in _pins("requirements-lock.txt").items():
        installed = distribution(IN_PLACE_OF.get(name, name)).version
        if name in IN_PLACE_OF:  # the lite package is published a little after the full one
            assert version.split(".")[:2] == installed.split(".")[:2], (name, version, installed)
        else:
            assert version == installed, f"the layer ships {name} {version}; the tests run {installed}"
