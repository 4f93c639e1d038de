"""Put AndroidWorld's real code (the snapshot in ../shared/upstream, see its README) on sys.path for tests.

Tests import this module first; it skips the whole test module, saying why, only where the snapshot folder
is absent (a user's fresh clone). Missing pip packages (android_env, dm_env, absl, termcolor) are errors: CI
installs them through the ``test`` extra.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).resolve().parents[2].parent / "shared" / "upstream" / "android_world"

if not (UPSTREAM / "android_world" / "env" / "json_action.py").is_file():
    pytest.skip(f"AndroidWorld snapshot not found at {UPSTREAM} (../shared/upstream is absent in this checkout)",
                allow_module_level=True)
if str(UPSTREAM) not in sys.path:
    sys.path.insert(0, str(UPSTREAM))
