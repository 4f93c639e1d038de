"""The task reward scores an episode the agent's way: answer tasks are judged by the episode's answer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Iterator

import pytest

from cua.devices.sandbox.world import SandboxWorld
from cua.rewards import TaskReward, score_episode
from cua.task import get_task
from cua.trajectory import Step, Trajectory


@pytest.fixture(scope="module")
def world() -> Iterator[SandboxWorld]:
    with SandboxWorld(seed=0) as w:
        yield w


def _phone(world: SandboxWorld, task_id: str, seed: int):
    """The task from ``seed`` with its world arranged, and a device-like holder of that world (no browser)."""
    world.reset(seed=0)
    task = get_task(task_id).from_seed(seed)
    task.setup(world)
    return task, SimpleNamespace(world=world)


def _truth(world: SandboxWorld, task) -> str:
    if task.id == "contacts_lookup":
        return world.contact_by_name(task.params["name"])["phone"]
    return task.params["text"]


@pytest.mark.parametrize("task_id", ["contacts_lookup", "messages_read"])
@pytest.mark.parametrize("seed", [0, 1])
def test_answer_tasks_score_the_episode_answer(world: SandboxWorld, task_id: str, seed: int) -> None:
    task, device = _phone(world, task_id, seed)
    right = Trajectory(goal=task.goal, answer=_truth(world, task), steps=[Step(index=0)])
    assert score_episode(task, device, right) == 1.0
    wrong = Trajectory(goal=task.goal, answer="no idea", steps=[Step(index=0)])
    assert score_episode(task, device, wrong) == 0.0
    silent = Trajectory(goal=task.goal)
    assert score_episode(task, device, silent) == 0.0


def test_the_agents_score_is_the_rewards_score(world: SandboxWorld) -> None:
    task, device = _phone(world, "contacts_lookup", 0)
    scored = Trajectory(goal=task.goal, answer="wrong", success=1.0)  # the agent's score wins: no second opinion
    assert score_episode(task, device, scored) == 1.0
    shaped = TaskReward(step_penalty=0.25)
    two = Trajectory(goal=task.goal, answer=_truth(world, task), steps=[Step(index=0), Step(index=1)])
    assert score_episode(task, device, two, shaped) == pytest.approx(0.5)
