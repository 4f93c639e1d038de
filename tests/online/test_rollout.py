"""Rollout groups: G episodes of one task and seed, task-level rewards, advantages over the survivors, replay."""

from __future__ import annotations

import random
from typing import Any, Sequence

import pytest

from cua.actions import Click, Terminate
from cua.errors import ConfigError, DeviceDisconnected
from cua.policies.model import TOKENS_KEY, TurnTokens
from cua.policy import Proposal
from cua.rewards.advantages import grpo_advantages
from cua.rewards.task import TaskReward
from cua.train.replay import ReplayBuffer
from cua.train.rollout import Roller
from unit.fakes import ClickTask, MemoryDevice


class MemorySlot:
    """An environment slot (the pool's PooledEnv interface) over a MemoryDevice; ``fail_next`` breaks a run."""

    def __init__(self) -> None:
        self.device = MemoryDevice()
        self.restarts = 0
        self.fail_next: int | None = None

    @property
    def alive(self) -> bool:
        return True

    def start(self, task_id: str, seed: int | None = None) -> Any:
        self.device.reset(seed=seed)
        self.device.fail_observe_at, self.fail_next = self.fail_next, None
        return ClickTask({"n": 2}, seed=seed)

    def restart(self) -> None:
        self.restarts += 1
        self.device = MemoryDevice()


class RandomClicker:
    """Terminates after a seeded random number (1-3) of clicks; each turn carries a token record."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        # episode (its first step, kept alive so that its id is never reused by a later episode) -> clicks
        self.plan: dict[int, tuple[Any, int]] = {}

    def reset(self, goal: str) -> None:
        pass

    def propose_batch(self, requests: Sequence[Any]) -> list[Proposal]:
        out = []
        for _, obs, history in requests:
            key = id(history[0]) if history else None
            want = self.plan.setdefault(key, (history[0], self.rng.randint(1, 3)))[1] if key else None
            action = Click(x=5, y=5) if not history or len(history) < want else Terminate()
            if not history:
                action = Click(x=5, y=5)
            tokens = TurnTokens(prompt_ids=[1, 2, 3], completion_ids=[4, len(history)], logprobs=[-0.1, -0.2])
            out.append(Proposal(text=action.kind, action=action, info={TOKENS_KEY: tokens}))
        return out


def test_groups_of_g_episodes_get_group_normalised_advantages_on_every_turn() -> None:
    slots = [MemorySlot() for _ in range(3)]
    roller = Roller(slots, RandomClicker(1), group_size=3, max_episode_steps=5)
    rollout = roller.collect([("memory_clicks", 7), ("memory_clicks", 8)])
    assert len(rollout.groups) == 2 and rollout.dropped_groups == 0
    for group in rollout.groups:
        assert len(group.episodes) == 3 and all(e.seed == group.seed for e in group.episodes)
        rewards = [e.reward for e in group.episodes]
        assert rewards == [e.success for e in group.episodes]
        assert group.advantages == pytest.approx(grpo_advantages(rewards, 3))
        assert all(len(e.turns) == e.num_steps for e in group.episodes)
    # two waves of 3 (3 slots, 6 episodes), each stepping its live episodes together
    assert max(rollout.batches) == 3


def test_a_lost_episode_leaves_its_group_and_a_group_of_one_is_dropped() -> None:
    slots = [MemorySlot() for _ in range(4)]
    slots[1].fail_next = 1
    slots[2].fail_next, slots[3].fail_next = 0, 1
    roller = Roller(slots, RandomClicker(2), group_size=2, max_episode_steps=4)
    rollout = roller.collect([("memory_clicks", 1), ("memory_clicks", 2)])
    first, second = rollout.groups
    assert len(first.episodes) == 1 and first.lost == 1 and first.dropped
    assert len(second.episodes) == 0 and second.lost == 2
    assert rollout.dropped_groups == 2 and rollout.lost_episodes == 3 and rollout.trained == []
    assert [s.restarts for s in slots] == [0, 1, 1, 1]


def test_step_and_format_penalties_shape_the_episode_reward() -> None:
    class Garbage(RandomClicker):
        def propose_batch(self, requests: Sequence[Any]) -> list[Proposal]:
            return [Proposal(text="??", error="no action", info={TOKENS_KEY: TurnTokens(
                prompt_ids=[1], completion_ids=[2], logprobs=[-1.0])}) for _ in requests]

    roller = Roller([MemorySlot(), MemorySlot()], Garbage(), group_size=2, max_episode_steps=2,
                    reward=TaskReward(format_failure=-1.0))
    group = roller.collect([("memory_clicks", 3)]).groups[0]
    assert [e.reward for e in group.episodes] == [-1.0, -1.0] and group.advantages == [0.0, 0.0]


def test_an_all_failed_group_replays_a_stored_success() -> None:
    replay = ReplayBuffer(seed=0)
    roller = Roller([MemorySlot(), MemorySlot()], RandomClicker(3), group_size=2, max_episode_steps=1,
                    replay=replay)
    # max_episode_steps=1: one click of two needed, every episode fails -> nothing stored, nothing replayed
    rollout = roller.collect([("memory_clicks", 5)])
    assert rollout.replayed == 0 and len(replay) == 0
    roller.max_episode_steps = 4
    for _ in range(4):
        roller.collect([("memory_clicks", 5)])
    assert len(replay) >= 1
    roller.max_episode_steps = 1
    rollout = roller.collect([("memory_clicks", 5)])
    group = rollout.groups[0]
    assert rollout.replayed == 1 and group.replayed and group.episodes[0].replayed
    assert group.episodes[0].success == 1.0 and group.advantages[0] > 0 > group.advantages[1]


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="group_size"):
        Roller([MemorySlot()], RandomClicker(), group_size=1)
    with pytest.raises(ConfigError, match="advantage"):
        Roller([MemorySlot()], RandomClicker(), group_size=2, advantage="nope")


class GarbleFirst:
    """Answers garbage (a parse failure carrying its tokens) at the first turn of every episode, then clicks."""

    name = "garble-first"

    def reset(self, goal: str) -> None:
        pass

    def propose_batch(self, requests: Sequence[Any]) -> list[Proposal]:
        tokens = TurnTokens(prompt_ids=[1], completion_ids=[2], logprobs=[-0.1])
        return [Proposal(text="??", error="no tool call", info={TOKENS_KEY: tokens})
                if not history else Proposal(text="click", action=Click(x=5, y=5), info={TOKENS_KEY: tokens})
                for _, _, history in requests]


@pytest.mark.parametrize("end_on, steps, reward", [(("parse",), 1, -1.0), ((), 3, 1.0)])
def test_arpo_format_failure_ends_the_episode_and_scores_minus_one(end_on, steps, reward) -> None:
    roller = Roller([MemorySlot(), MemorySlot()], GarbleFirst(), group_size=2, max_episode_steps=3,
                    reward=TaskReward(format_failure=-1.0 if end_on else None), end_on=end_on)
    group, = roller.collect([("memory_clicks", 1)]).groups
    assert [e.num_steps for e in group.episodes] == [steps, steps]
    assert [e.reward for e in group.episodes] == [reward, reward]
    assert all(len(e.turns) == steps for e in group.episodes)  # the failed turn is trained too
