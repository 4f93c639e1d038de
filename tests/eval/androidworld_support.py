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


# Imported only after the snapshot is on sys.path.
import dm_env  # noqa: E402
import numpy as np  # noqa: E402
from android_env.proto import adb_pb2  # noqa: E402
from android_world.env import representation_utils  # noqa: E402

W, H = 1080, 2400


class RecordingController:
    """android_env's controller surface used by AsyncAndroidEnv: ``reset``/``step`` give TimeSteps with
    pixels and UI elements; ``execute_adb_call`` records requests and answers ``dumpsys input``."""

    def __init__(self) -> None:
        self.requests: list[adb_pb2.AdbRequest] = []
        field = representation_utils.BoundingBox(x_min=40, x_max=1040, y_min=1000, y_max=1100)
        self.elements = [representation_utils.UIElement(text="To", class_name="android.widget.EditText",
                                                        bbox_pixels=field, is_editable=True, is_clickable=True)]

    def _timestep(self, first: bool = False) -> dm_env.TimeStep:
        obs = {"pixels": np.full((H, W, 3), 200, dtype=np.uint8), "forest": None, "ui_elements": self.elements}
        return dm_env.restart(obs) if first else dm_env.transition(reward=0.0, observation=obs)

    def reset(self) -> dm_env.TimeStep:
        return self._timestep(first=True)

    def step(self, action: dict) -> dm_env.TimeStep:
        return self._timestep()

    def execute_adb_call(self, request: adb_pb2.AdbRequest) -> adb_pb2.AdbResponse:
        self.requests.append(request)
        response = adb_pb2.AdbResponse(status=adb_pb2.AdbResponse.Status.OK)
        if request.HasField("generic") and "logicalFrame" in " ".join(request.generic.args):
            response.generic.output = f"  logicalFrame=[0, 0, {W}, {H}]".encode()
        return response

    def gestures(self) -> list[tuple]:
        out: list[tuple] = []
        for req in self.requests:
            if req.HasField("tap"):
                out.append(("tap", req.tap.x, req.tap.y))
            elif req.HasField("press_button"):
                out.append(("button", adb_pb2.AdbRequest.PressButton.Button.Name(req.press_button.button)))
            elif req.HasField("input_text"):
                out.append(("text", req.input_text.text))
            elif list(req.generic.args[:3]) == ["shell", "input", "swipe"]:
                out.append(("swipe", *map(int, req.generic.args[3:7])))
        return out
