"""The sandbox phone and a task as a Gymnasium environment: made by id, passes Gymnasium's own check_env,
and rewards task success at the episode's end (the oracle's actions score 1, doing nothing scores 0)."""

from __future__ import annotations

import subprocess
import sys
from typing import Iterator

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import cua.devices.gym_env  # noqa: F401 - registers cua/Sandbox-v0
from cua.devices.gym_env import ActionSpace
from cua.observation import Observation
from cua.trajectory import Step


@pytest.fixture(scope="module")
def env() -> Iterator[gymnasium.Env]:
    made = gymnasium.make("cua/Sandbox-v0", task="messages_send", seed=3)
    yield made
    made.close()


def test_check_env_passes(env: gymnasium.Env) -> None:
    check_env(env.unwrapped, skip_render_check=False)


def test_observation_is_the_screenshot_and_the_goal(env: gymnasium.Env) -> None:
    obs, info = env.reset(seed=3)
    assert obs["screenshot"].shape == (2400, 1080, 3) and obs["screenshot"].dtype == np.uint8
    assert obs["goal"] == env.unwrapped.task.goal and info == {"task_id": "messages_send", "seed": 3}
    assert env.observation_space.contains(obs)


def test_oracle_actions_earn_reward_one_and_nothing_earns_zero(env: gymnasium.Env) -> None:
    obs, _ = env.reset(seed=1)
    task, history = env.unwrapped.task, []
    for index in range(task.max_steps):
        current = env.unwrapped.device.observe()
        action = task.expert(current, history)
        history.append(Step(index=index, action=action))
        obs, reward, terminated, truncated, info = env.step(action.to_dict())
        if terminated or truncated:
            break
    assert terminated and reward == 1.0 and info["success"] == 1.0
    env.reset(seed=1)
    _, reward, terminated, truncated, info = env.step({"action": "terminate", "status": "success"})
    assert terminated and reward == 0.0 and info == {"step": 1, "claimed": "success", "success": 0.0}
    env.reset(seed=1)
    env.unwrapped._steps = task.max_steps - 1  # the budget's last step
    _, reward, terminated, truncated, _ = env.step({"action": "wait", "seconds": 0.0})
    assert truncated and not terminated and reward == 0.0


def test_invalid_action_is_an_invalid_step_not_a_crash(env: gymnasium.Env) -> None:
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.unwrapped.step({"action": "click", "x": 99999, "y": 1})
    assert "ActionOutOfBounds" in info["error"] and reward == 0.0 and not (terminated or truncated)
    space = ActionSpace(1080, 2400, seed=0)
    assert all(space.contains(space.sample()) for _ in range(50))
    assert not space.contains({"action": "fly"}) and not space.contains({"action": "click", "x": 1080, "y": 0})
    assert isinstance(env.unwrapped.device.observe(), Observation)


MODULE_FORM = """
import gymnasium
from cua.errors import ConfigError
try:
    gymnasium.make("cua.devices.gym_env:cua/Sandbox-v0", task="no_such_task")
except ConfigError as exc:
    print("ConfigError", exc)
"""


def test_module_form_of_the_id_registers_on_make() -> None:
    """In a fresh interpreter, make() imports the registering module itself (the unknown task then fails in the
    env's constructor, before any browser starts)."""
    out = subprocess.run([sys.executable, "-c", MODULE_FORM], capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("ConfigError unknown task 'no_such_task'"), out.stderr[-2000:]
