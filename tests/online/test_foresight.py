"""Hi-Agent's foresight advantage in the online stage (issue 13): prefix replay in the agent loop, branches checked
against the trunk's screen, per-state advantages worked out by hand, infra failures, and one update from a recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pytest

from cua.actions import Click, Wait
from cua.agent import run_episode
from cua.errors import ActionUnsupported, ConfigError
from cua.policies.hierarchical import SUBGOAL_TOKENS_KEY
from cua.policies.model import TOKENS_KEY, TurnTokens
from cua.policy import Proposal
from cua.rewards.task import TaskReward
from cua.train.credit import screen_anchor
from cua.train.foresight import ForesightRoller
from cua.train.recipe import parse_recipe
from cua.trajectory import SUBGOAL_KEY
from unit.fakes import ClickTask, MemoryDevice

from .test_credit_assignment import run_online
from .test_online_stage import online_recipe
from .test_rollout import MemorySlot

CANDIDATES = ("click", "wait", "babble")


class TwoLevels:
    """A scripted two-level policy: in each batch, request k gets candidate k % 3 as its subgoal, and the low level
    acts on it (click: a Click, wait: a Wait, babble: an unparseable answer); both levels' token records are kept.
    ``histories`` records the subgoals of the history each request saw."""

    name = "two-levels"

    def __init__(self) -> None:
        self.histories: list[list[str | None]] = []

    def reset(self, goal: str) -> None:
        pass

    def propose_batch(self, requests: Sequence[Any]) -> list[Proposal]:
        out = []
        for k, (_, _, history) in enumerate(requests):
            self.histories.append([s.subgoal for s in history])
            sub = CANDIDATES[k % 3]
            info = {SUBGOAL_KEY: sub,
                    SUBGOAL_TOKENS_KEY: TurnTokens(prompt_ids=[1, len(history)], completion_ids=[10 + k % 3],
                                                   logprobs=[-0.1]),
                    TOKENS_KEY: TurnTokens(prompt_ids=[2, len(history)], completion_ids=[20 + k % 3], logprobs=[-0.2])}
            action = {"click": Click(x=5, y=5), "wait": Wait(seconds=0.0)}.get(sub)
            out.append(Proposal(text=sub, action=action, error=None if action else "no action", info=info))
        return out


class DriftSlot(MemorySlot):
    """A MemorySlot whose ``drift_at``-th start (1-based) does not reproduce the task's start: ``screen`` starts
    with one click already made, ``action`` makes every action fail."""

    def __init__(self, drift_at: int, mode: str) -> None:
        super().__init__()
        self.starts, self.drift_at, self.mode = 0, drift_at, mode

    def start(self, task_id: str, seed: int | None = None) -> Any:
        task = super().start(task_id, seed)
        self.starts += 1
        if self.starts == self.drift_at:
            if self.mode == "screen":
                self.device.clicks = 1
            else:
                self.device.fail_execute = ActionUnsupported("this replay cannot click")
        return task


def roller(slots: list[Any], policy: Any = None, **kw: Any) -> ForesightRoller:
    return ForesightRoller(slots, policy or TwoLevels(), group_size=3, max_episode_steps=2,
                           reward=TaskReward(invalid_penalty=0.5), progress=0.5, **kw)


def per_state(group: Any, state: int) -> list[tuple[float, float]]:
    """(feedback, advantage) of the candidates of one state, sorted (candidates come in arrival order)."""
    pairs = list(zip([e.reward for e in group.episodes], group.advantages))[3 * state:3 * state + 3]
    return sorted(pairs)


class Script:
    """Clicks; records the history length of every call."""

    name = "script"

    def __init__(self) -> None:
        self.seen: list[int] = []

    def reset(self, goal: str) -> None:
        pass

    def propose(self, goal: str, observation: Any, history: Sequence[Any]) -> Proposal:
        self.seen.append(len(history))
        return Proposal(text="click", action=Click(x=5, y=5))


def test_prefix_replay_reproduces_the_state_and_the_history() -> None:
    first = run_episode(MemoryDevice(), Script(), task=ClickTask({"n": 3}), max_steps=2)
    device, policy = MemoryDevice(), Script()
    branch = run_episode(device, policy, task=ClickTask({"n": 3}), max_steps=3, prefix=first.steps)
    assert policy.seen == [2]  # the policy was asked once, with the replayed steps as its history
    assert [s.index for s in branch.steps] == [0, 1, 2] and branch.success == 1.0
    assert device.clicks == 3 and branch.steps[0] is not first.steps[0]
    # the branch's live step saw the screen the first episode would have seen after its two clicks
    assert screen_anchor(branch.steps[2].observation) == screen_anchor(_clicked(2).observe())
    broken = MemoryDevice(fail_execute=ActionUnsupported("no clicks here"))
    lost = run_episode(broken, Script(), task=ClickTask({"n": 3}), max_steps=3, prefix=first.steps)
    assert lost.status == "infra_error" and lost.error.startswith("ReplayDiverged")


def _clicked(n: int) -> MemoryDevice:
    device = MemoryDevice()
    device.clicks = n
    return device


def test_foresight_advantages_per_state_by_hand() -> None:
    policy = TwoLevels()
    rollout = roller([MemorySlot() for _ in range(3)], policy).collect([("memory_clicks", 4)])
    group, = rollout.groups
    # state 0 (no click yet): click changes the screen (progress 0.5), wait changes nothing (0), babble is invalid
    # (-0.5): mean 0, std 0.5 -> advantages +-0.5 / (0.5 + 1e-4)
    a = 0.5 / (0.5 + 1e-4)
    assert per_state(group, 0) == [(-0.5, pytest.approx(-a)), (0.0, pytest.approx(0.0)), (0.5, pytest.approx(a))]
    # state 1 (the trunk went on with the click): click solves the task (1.0), wait 0, babble -0.5: mean 1/6,
    # std sqrt(((5/6)^2 + (1/6)^2 + (2/3)^2) / 2) = sqrt(7/12)
    std = (7 / 12) ** 0.5 + 1e-4
    assert per_state(group, 1) == [(-0.5, pytest.approx(-(2 / 3) / std)), (0.0, pytest.approx(-(1 / 6) / std)),
                                   (1.0, pytest.approx((5 / 6) / std))]
    # both turns of a candidate (subgoal, action) carry its advantage
    assert group.turn_advantages == [[x, x] for x in group.advantages]
    assert all(len(e.turns) == 2 and e.num_steps == 1 for e in group.episodes)
    trunk = group.trunk
    assert trunk is not None and trunk.success == 1.0 and trunk.num_steps == 2 and len(trunk.turns) == 4
    assert [s.subgoal for s in trunk.trajectory.steps] == ["click", "click"]
    assert group.played == [trunk] and group.mean_success == 1.0
    # the state-1 requests saw the trunk's history (its chosen subgoal), the state-0 ones none
    assert sorted(map(tuple, policy.histories)) == [(), (), (), ("click",), ("click",), ("click",)]
    # one batch of 3 per state; devices stepped 3 x 1 + 3 x 2 times (replays included)
    assert rollout.batches == [3, 3] and rollout.env_steps == 9
    assert rollout.lost_episodes == rollout.diverged == rollout.dropped_groups == 0


@pytest.mark.parametrize("drift_at, mode", [(1, "screen"), (2, "screen"), (2, "action")])
def test_a_branch_that_does_not_reproduce_the_trunk_is_lost(drift_at: int, mode: str) -> None:
    slots = [MemorySlot(), DriftSlot(drift_at, mode), MemorySlot()]
    rollout = roller(slots).collect([("memory_clicks", 4)])
    group, = rollout.groups
    # the drifted branch of that state is dropped (at state 0 the two agreeing screens outvote it)
    assert rollout.diverged == rollout.lost_episodes == group.lost == 1
    assert len(group.episodes) == 5 and len(group.advantages) == 5
    assert slots[1].restarts == (1 if mode == "action" else 0)


def test_lost_branches_shrink_a_state_and_a_state_with_none_cuts_the_trunk() -> None:
    slots = [MemorySlot() for _ in range(3)]
    slots[0].fail_next = 0  # its first observe fails: the branch of state 0 is an infra_error
    rollout = roller(slots).collect([("memory_clicks", 4)])
    group, = rollout.groups
    assert group.lost == 1 and rollout.diverged == 0 and len(group.episodes) == 5 and slots[0].restarts == 1
    for slot in slots:  # the next observe of every slot fails
        slot.fail_next = slot.device.observed
    rollout = roller(slots).collect([("memory_clicks", 4)])
    group, = rollout.groups
    assert group.lost == 3 and group.episodes == [] and group.dropped and rollout.dropped_groups == 1
    assert group.trunk is not None and group.trunk.lost and group.played == [] and group.mean_success == 0.0


def test_foresight_needs_a_slot_per_candidate() -> None:
    with pytest.raises(ConfigError, match="group_size slots"):
        roller([MemorySlot(), MemorySlot()])


@pytest.mark.parametrize("change, match", [
    ({"advantage": "foresight"}, "hierarchical"),
    ({"advantage": "foresight", "hierarchical": True, "replay": True}, "replay"),
    ({"advantage": "foresight", "hierarchical": True, "group_size": 8}, "pool_size"),
    ({"foresight_progress": 1.5}, "foresight_progress"),
])
def test_bad_foresight_options_are_config_errors(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_recipe(online_recipe(**change))


@pytest.mark.slow
def test_foresight_one_update_from_a_recipe(tmp_path: Path) -> None:
    rows, seen = run_online(tmp_path, advantage="foresight", hierarchical=True, curriculum={"warmup": 1},
                            importance_sampling="turn_ppo")
    row = next(r for r in rows if "online/turns" in r)
    # 2 groups (trunks) x 2 states x 2 candidates x 2 turns (subgoal, action); replays: 2 x (2 x 1 + 2 x 2) steps
    assert row["online/episodes"] == 2 and row["online/turns"] == 16 and row["online/env_steps"] == 12
    assert row["online/diverged_branches"] == 0 and row["online/lost_episodes"] == 0
    assert "curriculum/buttons_two/success" in row and "is/clip_fraction" in row
    advantages = seen[0]["advantages"]
    assert advantages.shape == (16,) and seen[0]["num_images"] == [1] * 16
    assert advantages[0::2].tolist() == advantages[1::2].tolist()  # a candidate's two turns share its advantage
