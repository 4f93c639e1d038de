"""The core (``cua/``, its command-line modules aside) imports nothing from the backends, training or evaluation:
``cua.devices``, ``cua.train``, ``cua.eval`` plug into the core (registries, entry points), never the reverse."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "cua"
FORBIDDEN = re.compile(r"^cua\.(devices|train|eval)(\.|$)")
#: The command line wires everything together; it may import any part.
EXEMPT = re.compile(r"^(cli\w*|__main__)\.py$")


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def backend_imports(source: str, module: str = "cua.x", is_package: bool = False) -> list[str]:
    """Names of forbidden modules that ``source`` imports: import statements (relative ones resolved) and
    string literals given to ``importlib.import_module`` / ``__import__``."""
    found: list[str] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        found += [n for n in names if FORBIDDEN.match(n)]
    return sorted(set(found))


def test_the_scan_sees_every_way_of_importing() -> None:
    assert backend_imports("from cua.devices.safety import redact_step") == ["cua.devices.safety",
                                                                          "cua.devices.safety.redact_step"]
    assert backend_imports("import cua.train.rollout as r") == ["cua.train.rollout"]
    assert backend_imports("from . import eval", module="cua.x") == ["cua.eval"]
    assert backend_imports("from .devices import y", module="cua", is_package=True) == ["cua.devices",
                                                                                      "cua.devices.y"]
    assert backend_imports("from .. import eval", module="cua.policies.x") == ["cua.eval"]
    assert backend_imports("import importlib\nimportlib.import_module('cua.devices.sandbox.tasks')") == [
        "cua.devices.sandbox.tasks"]
    assert backend_imports("from cua.devicesx import y\nimport cua.trajectory") == []


@pytest.mark.parametrize("path", sorted(p for p in CORE.rglob("*.py") if not EXEMPT.match(p.name)),
                         ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_backend(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    bad = backend_imports(source, _module_name(path), is_package=path.name == "__init__.py")
    assert bad == [], f"{path.relative_to(CORE.parent)} imports {bad}: the core must not depend on them"
