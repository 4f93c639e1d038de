"""The oracle solves every sandbox task template (seeds 0, 1, 2) through the agent loop within its step budget;
wrong action sequences are judged failures; together the experts use every GUI primitive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cua.actions import Answer, Terminate
from cua.agent import run_episode, run_task
from cua.devices.sandbox import SandboxDevice
from cua.devices.sandbox.tasks.base import SandboxTask
from cua.errors import ConfigError
from cua.policy import make_policy
from cua.task import TASKS, get_task

get_task("apps_open")
TASK_IDS = sorted(t for t, cls in TASKS.items() if issubclass(cls, SandboxTask))
SEEDS = (0, 1, 2)
GUI_PRIMITIVES = {"click", "scroll", "long_press", "type", "back", "home", "swipe", "open_app"}


@pytest.fixture(scope="module")
def runs(phone: SandboxDevice) -> dict:
    """Every (task id, seed) episode of the oracle, run once on the module's phone."""
    out = {}
    for task_id in TASK_IDS:
        for seed in SEEDS:
            task = get_task(task_id).from_seed(seed)
            out[task_id, seed] = (task, run_task(phone, make_policy("oracle", task=task), task))
    return out


def test_at_least_twelve_templates_spanning_one_to_eight_steps(runs: dict) -> None:
    assert len(TASK_IDS) >= 12
    lengths = [sum(not isinstance(s.action, (Answer, Terminate)) for s in traj.steps) for _, traj in runs.values()]
    assert min(lengths) == 1 and max(lengths) >= 8


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_oracle_solves_template(runs: dict, task_id: str) -> None:
    for seed in SEEDS:
        task, traj = runs[task_id, seed]
        kinds = [s.action.kind if s.action else s.error for s in traj.steps]
        assert traj.status == "terminated" and traj.claimed == "success", (seed, kinds, traj.error)
        assert traj.success == 1.0, (seed, task.goal, kinds)
        assert len(traj.steps) <= task.max_steps == int(10 * task.complexity)
        assert all(s.valid for s in traj.steps), [(s.action, s.error) for s in traj.steps if not s.valid]


def test_experts_use_every_gui_primitive_and_answer(runs: dict) -> None:
    used = {s.action.kind for _, traj in runs.values() for s in traj.steps if s.action is not None}
    assert GUI_PRIMITIVES <= used, GUI_PRIMITIVES - used
    assert "answer" in used
    declared = {p for cls in (TASKS[t] for t in TASK_IDS) for p in cls.primitives}
    assert GUI_PRIMITIVES <= declared


def test_seeds_change_goals(runs: dict) -> None:
    for task_id in TASK_IDS:
        if "{" in TASKS[task_id].template:  # the goal has parameters
            goals = {get_task(task_id).from_seed(s).goal for s in range(8)}
            assert len(goals) > 1, task_id


def write_script(path: Path, actions: list[dict]) -> str:
    path.write_text("".join(json.dumps(a) + "\n" for a in actions))
    return f"script:{path}"


@pytest.mark.parametrize("task_id,script", [
    ("notes_delete", [{"action": "click", "x": 540, "y": 2300}, {"action": "terminate", "status": "success"}]),
    ("notes_delete", [{"action": "open_app", "app": "Notes"}, {"action": "click", "x": 540, "y": 330},
                      {"action": "terminate", "status": "success"}]),
    ("settings_brightness", [{"action": "open_app", "app": "Settings"}, {"action": "click", "x": 540, "y": 120},
                             {"action": "terminate", "status": "success"}]),
    ("messages_read", [{"action": "answer", "text": "wrong answer"}, {"action": "terminate", "status": "success"}]),
    ("contacts_lookup", [{"action": "answer", "text": ""}, {"action": "terminate", "status": "success"}]),
    ("apps_open", [{"action": "open_app", "app": "Gallery"}, {"action": "back"}, {"action": "terminate"}]),
])
def test_wrong_action_sequences_fail(phone: SandboxDevice, tmp_path: Path, task_id: str, script: list) -> None:
    task = get_task(task_id).from_seed(0)
    if task_id == "apps_open":
        task.params["app"] = "Gallery"
    traj = run_task(phone, make_policy(write_script(tmp_path / "s.jsonl", script)), task)
    assert traj.status == "terminated" and traj.claimed == "success"
    assert traj.success == 0.0


def test_sandbox_tasks_refuse_other_devices() -> None:
    with pytest.raises(ConfigError, match="sandbox"):
        get_task("notes_delete").from_seed(0).initialize(object())


def test_oracle_needs_a_task_with_an_expert() -> None:
    with pytest.raises(ConfigError):
        make_policy("oracle")
    with pytest.raises(ConfigError):
        make_policy("oracle", task=object())


def test_expert_that_cannot_read_the_screen_gives_up(phone: SandboxDevice) -> None:
    task = get_task("messages_read").from_seed(0)
    phone.reset(seed=0)
    policy = make_policy("oracle", task=task)
    phone.navigate("/messages")
    proposal = policy.propose(task.goal, phone.observe(), [])
    assert proposal.action == Terminate(status="failure") and "expert_error" in proposal.info
    assert json.loads(proposal.text) == {"action": "terminate", "status": "failure"}


@pytest.mark.parametrize("task_id,detour", [
    ("messages_send", "/contacts/c2/edit"),
    ("notes_create", "/gallery/3"),
    ("contacts_lookup", "/contacts/c1"),
    ("settings_toggle", "/messages/new"),
    ("notes_delete", "/notes/n1"),
])
def test_oracle_recovers_from_an_unexpected_screen(phone: SandboxDevice, task_id: str, detour: str) -> None:
    task = get_task(task_id).from_seed(1)
    phone.reset(seed=1)
    task.initialize(phone)
    phone.navigate(detour)
    traj = run_episode(phone, make_policy("oracle", task=task), task=task, max_steps=task.max_steps + 3)
    assert traj.success == 1.0, [s.action for s in traj.steps]
