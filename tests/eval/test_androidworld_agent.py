"""CuaAgent on AndroidWorld's OWN env class (``AsyncAndroidEnv``, what ``cua eval androidworld`` runs on): a
controller speaking android_env's protocol (dm_env TimeSteps, AdbRequest/AdbResponse) stands in for the
emulator and records the adb requests their actuation sends for a cua policy's actions."""

from __future__ import annotations

from pathlib import Path

import androidworld_support  # noqa: F401  (AndroidWorld on sys.path, or skip)
import dm_env
import numpy as np
from android_env.proto import adb_pb2

from android_world import episode_runner
from android_world.env import interface, representation_utils

from cua.eval.androidworld import CuaAgent
from cua.policy import make_policy

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


def test_a_cua_policy_drives_androidworlds_own_env(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text("\n".join([
        '{"action": "click", "x": 100, "y": 200}', '{"action": "scroll", "direction": "down"}',
        '{"action": "type", "text": "hello"}', '{"action": "key", "key": "enter"}', '{"action": "back"}',
        '{"action": "home"}', '{"action": "key", "key": "ctrl+c"}', '{"action": "answer", "text": "7 items"}',
        '{"action": "terminate", "status": "success"}']) + "\n")
    controller = RecordingController()
    env = interface.AsyncAndroidEnv(controller)  # their env class, unchanged
    env.display_message = lambda *a, **k: None  # their overlay broadcast needs their overlay app
    agent = CuaAgent(env, make_policy(f"script:{script}"), transition_pause=0)
    result = episode_runner.run_episode("Count the items.", agent, max_n_steps=20, print_fn=lambda _: None)
    assert result.done and len(result.step_data["step_number"]) == 9
    assert controller.gestures() == [
        ("tap", 100, 200),
        ("swipe", 540, 1200, 540, 0),  # scroll down = content below = the finger moves up
        ("text", "hello"), ("button", "ENTER"),  # their input_text ends with Enter
        ("button", "ENTER"), ("button", "BACK"), ("button", "HOME"),
    ]
    assert "ctrl+c" in result.step_data["error"][6]  # no such key in AndroidWorld: an invalid step, nothing sent
    assert env.interaction_cache == "7 items" and agent.answer == "7 items"
    assert result.step_data["action_output"][-1] == '{"action_type":"status","goal_status":"complete"}'
