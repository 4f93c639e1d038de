"""CuaAgent on AndroidWorld's OWN env class (``AsyncAndroidEnv``, what ``cua eval androidworld`` runs on): a
controller speaking android_env's protocol (dm_env TimeSteps, AdbRequest/AdbResponse) stands in for the
emulator and records the adb requests their actuation sends for a cua policy's actions."""

from __future__ import annotations

from pathlib import Path

from androidworld_support import RecordingController  # (AndroidWorld on sys.path, or skip)
from android_world import episode_runner
from android_world.env import interface

from cua.eval.androidworld import CuaAgent
from cua.policy import make_policy


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
