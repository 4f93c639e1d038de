"""AndroidWorld's own ``episode_runner.run_episode`` drives cua policies (the sandbox oracle, a script) through
CuaAgent on the sandbox phone wrapped as their ``AsyncEnv``; success is the sandbox task's own check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import androidworld_support  # noqa: F401  (AndroidWorld on sys.path, or skip)
import numpy as np
import pytest

from android_world import episode_runner
from android_world.agents import base_agent
from android_world.env import interface
from android_world.env.json_action import JSONAction

from cua.devices.sandbox import SandboxDevice
from cua.errors import ConfigError
from cua.eval.androidworld import CuaAgent, CuaAsyncEnv, state_to_observation
from cua.policy import make_policy
from cua.task import get_task

#: Tasks whose oracle uses open_app, click, type (input_text + Enter), scroll, long_press and home.
TASKS = ("messages_send", "contacts_lookup", "notes_delete", "settings_toggle")


@pytest.fixture(scope="module")
def phone() -> Iterator[SandboxDevice]:
    with SandboxDevice(seed=0) as device:
        yield device


@pytest.fixture
def env(phone: SandboxDevice) -> CuaAsyncEnv:
    return CuaAsyncEnv(phone)


def test_the_adapters_are_androidworlds_own_interfaces(env: CuaAsyncEnv) -> None:
    agent = CuaAgent(env, make_policy("script:/dev/null"), transition_pause=0)
    assert isinstance(env, interface.AsyncEnv) and isinstance(agent, base_agent.EnvironmentInteractingAgent)
    state = env.get_state()
    assert isinstance(state, interface.State)
    assert state.pixels.shape == (2400, 1080, 3) and state.pixels.dtype == np.uint8
    assert env.device_screen_size == env.logical_screen_size == (1080, 2400)
    texts = {e.text for e in state.ui_elements}
    assert {"Messages", "Contacts", "Settings"} <= texts  # the home screen's app icons
    assert state_to_observation(state).elements  # and back to cua elements
    with pytest.raises(ConfigError):
        env.controller  # noqa: B018 - a cua device has no adb controller


def test_waiting_for_a_stable_screen_reads_until_the_elements_repeat(env: CuaAsyncEnv, monkeypatch) -> None:
    """As their AsyncAndroidEnv: three reads with the same UI elements (the still home screen: 3 reads)."""
    monkeypatch.setattr(CuaAsyncEnv, "STABLE_PAUSE", 0.05)
    reads = []
    original = env._read_state
    monkeypatch.setattr(env, "_read_state", lambda: reads.append(1) or original())
    state = env.get_state(wait_to_stabilize=True)
    assert len(reads) == 3 and state.ui_elements
    reads.clear()
    env.get_state()
    assert len(reads) == 1


@pytest.mark.slow
@pytest.mark.parametrize("task_id", TASKS)
def test_episode_runner_drives_the_oracle_to_success(phone: SandboxDevice, env: CuaAsyncEnv, task_id: str) -> None:
    task = get_task(task_id).from_seed(1)
    phone.reset(seed=1)
    task.initialize(phone)
    agent = CuaAgent(env, make_policy("oracle", task=task), transition_pause=0)
    result = episode_runner.run_episode(task.goal, agent, max_n_steps=task.max_steps, print_fn=lambda _: None)
    assert result.done, result.step_data
    assert task.is_successful(phone, answer=agent.answer) == 1.0
    sent = [JSONAction(**json.loads(a)) for a in result.step_data["action_output"] if a]
    assert sent[-1].action_type == "status" and sent[-1].goal_status == "complete"
    assert result.step_data["step_number"] == list(range(len(sent)))
    assert all(e is None for e in result.step_data["error"])


def test_their_scroll_and_index_actions_move_the_sandbox(phone: SandboxDevice, env: CuaAsyncEnv) -> None:
    """JSONActions sent straight to the env: open Contacts, scroll the list down (content direction), tap a
    contact by element index; the screen changes accordingly."""
    phone.reset(seed=0)
    env.reset(go_home=True)
    env.execute_action(JSONAction(action_type="open_app", app_name="Contacts"))
    first = [e.text for e in env.get_state().ui_elements]
    env.execute_action(JSONAction(action_type="scroll", direction="down"))
    after = [e.text for e in env.get_state().ui_elements]
    assert after != first  # content moved up: later contacts are on screen
    assert after[after.index("Add contact") + 1] != first[first.index("Add contact") + 1]
    elements = env.get_state().ui_elements
    index = next(i for i, e in enumerate(elements) if e.text == "Gus Ito" and e.class_name == "button")
    env.execute_action(JSONAction(action_type="click", index=index))  # an element index, as their agents send
    assert env.foreground_activity_name == "Contacts"
    assert "Gus Ito" in [e.text for e in env.get_state().ui_elements]
    assert phone.observe().url.split("#")[1].startswith("/contacts/")  # that contact's page is open
    env.execute_action(JSONAction(action_type="answer", text="done"))
    assert env.interaction_cache == "done"


def test_a_policy_that_only_waits_fails_and_a_bad_proposal_is_an_invalid_step(
        phone: SandboxDevice, env: CuaAsyncEnv, tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text('{"action": "wait", "seconds": 0}\n{"action": "key", "key": "backspace"}\n'
                      '{"action": "click", "x": 5000, "y": 1}\n')
    task = get_task("apps_open").from_seed(0)
    phone.reset(seed=0)
    task.initialize(phone)
    agent = CuaAgent(env, make_policy(f"script:{script}"), transition_pause=0)
    result = episode_runner.run_episode(task.goal, agent, max_n_steps=3, print_fn=lambda _: None)
    assert not result.done
    assert task.is_successful(phone, answer=agent.answer) == 0.0
    kinds, errors = result.step_data["error_kind"], result.step_data["error"]
    assert kinds[0] is None and all(kinds[1:])
    assert "backspace" in errors[1] and "outside" in errors[2]
    assert [s.valid for s in agent.history] == [True, False, False]
