"""Packaging: one `cua` namespace from the top-level folders, no shadowing of Hugging Face `datasets`, light imports."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "trl", "playwright", "adbutils", "pyautogui", "mss", "vncdotool")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_subpackage_is_listed_in_pyproject() -> None:
    """A folder with __init__.py that is missing from `packages` would vanish from wheels."""
    tool = _pyproject()["tool"]["setuptools"]
    listed = set(tool["packages"])
    found = set()
    for name, folder in tool["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "__pycache__" not in rel.parts:
                found.add(".".join((name, *rel.parts)) if rel.parts else name)
    assert found - listed == set(), f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"


def test_datasets_is_hugging_face() -> None:
    import datasets

    assert hasattr(datasets, "load_dataset") and Path(datasets.__file__).parent != ROOT / "datasets"
    import cua.datasets

    assert Path(cua.datasets.__file__).parent == ROOT / "datasets"


def test_import_cua_and_registries_import_no_backend_library() -> None:
    code = (
        "import sys, cua, cua.agent, cua.trajectory, cua.report, cua.devices, cua.policy, cua.task; "
        "cua.devices.registry._load_builtin(); cua.policy._load_builtin(); cua.task.load_tasks(); "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_is_declared() -> None:
    assert _pyproject()["project"]["scripts"]["cua"] == "cua.cli:main"
