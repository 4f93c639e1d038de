"""A real (tiny, random) Qwen2.5-VL model policy as an AndroidWorld agent (through their episode_runner, on their
AsyncAndroidEnv) and as an OSWorld agent (with the GTA1 judge sampler): the ``--model`` / ``--samples`` path of
``cua eval androidworld|osworld``. A random model writes junk: every step must be recorded, none may crash."""

from __future__ import annotations

import io

import pytest
from android_world import episode_runner
from android_world.env import interface
from PIL import Image

from cua.eval.androidworld import CuaAgent
from cua.eval.osworld import OSWorldAgent
from cua.policy import make_policy
from androidworld_support import RecordingController  # (AndroidWorld on sys.path, or skip)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    from cua.models.tiny import save_tiny

    return str(save_tiny("qwen2_5_vl", tmp_path_factory.mktemp("tiny") / "m"))


@pytest.mark.slow
def test_tiny_model_as_androidworld_agent(tiny: str) -> None:
    env = interface.AsyncAndroidEnv(RecordingController())
    agent = CuaAgent(env, make_policy("model", model=tiny, max_new_tokens=4), transition_pause=0)
    result = episode_runner.run_episode("Open the clock.", agent, max_n_steps=2, print_fn=lambda _: None)
    assert result.step_data["step_number"] == [0, 1]
    assert all(isinstance(t, str) for t in result.step_data["raw_response"])
    assert all(s.valid or s.error for s in agent.history)  # a valid action, or a recorded reason


@pytest.mark.slow
def test_tiny_model_with_judge_sampler_as_osworld_agent(tiny: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (640, 400), (30, 60, 90)).save(buf, format="PNG")
    agent = OSWorldAgent(make_policy("model", model=tiny, max_new_tokens=4, samples=2), action_space="pyautogui")
    agent.reset()
    for _ in range(2):
        response, actions = agent.predict("Close the window.", {"screenshot": buf.getvalue()})
        assert isinstance(response, str) and isinstance(actions, list)
        assert all(isinstance(a, str) for a in actions)
    assert len(agent.history) == 2 and all(s.valid or s.error for s in agent.history)
