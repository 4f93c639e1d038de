"""Python run from the checkout root: a plain ``import datasets`` is Hugging Face's (the folder ``datasets/`` on
the path is ``cua.datasets`` only), for ``python -c``, ``python -m cua`` and pytest alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "datasets"
#: Prints where `datasets` and `cua.datasets` come from, importing them in the order given by argv[1].
PROBE = """
import importlib, json, sys
order = sys.argv[1].split(",")
mods = {name: importlib.import_module(name) for name in order}
import datasets
from datasets import Dataset, load_dataset
print(json.dumps({"datasets": datasets.__file__, "cua.datasets": mods.get("cua.datasets", datasets).__file__,
                  "same": sys.modules["datasets"] is datasets, "dataset_module": Dataset.__module__,
                  "path0": sys.path[0], "loaders": sorted(getattr(mods.get("cua.datasets"), "LOADERS", {}))}))
"""


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, **kwargs)


def _probe(order: str) -> dict:
    out = _run(["-c", PROBE, order])
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_python_c_from_the_checkout_root_imports_hugging_face_datasets() -> None:
    for order in ("datasets,cua.datasets", "cua.datasets,datasets"):
        seen = _probe(order)
        assert seen["path0"] == "", seen  # the checkout root (the current directory) is first on the path
        assert not seen["datasets"].startswith(str(FOLDER)) and seen["same"], (order, seen)
        assert seen["dataset_module"] == "datasets.arrow_dataset"
        assert seen["cua.datasets"] == str(FOLDER / "__init__.py") and "synthetic" in seen["loaders"]


def test_a_submodule_of_the_folder_is_not_a_submodule_of_datasets() -> None:
    code = ("import cua.datasets.synthetic, datasets.arrow_dataset as a; print(a.__file__)\n"
            "try:\n    import datasets.synthetic\nexcept ModuleNotFoundError as e:\n    print(e)")
    out = _run(["-c", code])
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = out.stdout.strip().splitlines()
    assert not first.startswith(str(FOLDER)) and second == "No module named 'datasets.synthetic'"


def test_python_m_cua_from_the_checkout_root() -> None:
    out = _run(["-m", "cua", "tasks", "--json"])
    assert out.returncode == 0, out.stderr[-2000:]
    assert "contacts_lookup" in {row["id"] for row in json.loads(out.stdout)}
    code = "import sys; sys.argv = ['cua', '--help']; import cua.__main__, datasets; print(datasets.__file__)"
    out = _run(["-c", code])
    assert out.returncode == 0 and not out.stdout.strip().startswith(str(FOLDER)), out.stderr[-2000:]


@pytest.mark.slow
def test_pytest_from_the_checkout_root(tmp_path: Path) -> None:
    test = tmp_path / "test_probe.py"
    test.write_text(
        "import datasets, cua.datasets\n\n"
        "def test_names():\n"
        f"    assert not datasets.__file__.startswith({str(FOLDER)!r})\n"
        "    assert hasattr(datasets, 'load_dataset') and cua.datasets.LOADERS\n"
    )
    out = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test)])
    assert out.returncode == 0 and "1 passed" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
