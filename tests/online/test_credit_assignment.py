"""Issue 13 wiring: screen anchors of recorded turns, GiGPO over them (hand-computed), turn-level importance
sampling in the trainer's loss, and each option running an online step from a recipe (tiny model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cua.errors import ConfigError
from cua.policies.model import TOKENS_KEY, TurnTokens
from cua.rewards.task import TaskReward
from cua.train.credit import gigpo_turn_advantages, screen_anchor
from cua.train.recipe import parse_recipe
from cua.train.rollout import Group, to_episode
from cua.trajectory import Step, Trajectory

from .conftest import screen
from .test_online_stage import metrics, online_recipe


def recorded(tmp_path: Path, name: str, screens: list[int], success: float, *, both_levels: bool = False
             ) -> Trajectory:
    """A trajectory saved to disk and loaded back, screenshots re-read from PNG, tokens re-attached."""
    traj = Trajectory(goal="g", task_id="t", seed=0, out_dir=tmp_path / name)
    traj.begin()
    for i, k in enumerate(screens):
        step = Step(index=i, observation=screen(k))
        traj.add(step)
    traj.success = success
    traj.finish("terminated")
    loaded = Trajectory.load(tmp_path / name)
    for step in loaded.steps:
        step.observation = loaded.observation(step)  # pixels from the saved PNG
        tok = TurnTokens(prompt_ids=[1], completion_ids=[2], logprobs=[-0.1])
        step.info[TOKENS_KEY] = tok
        if both_levels:
            step.info["subgoal_tokens"] = tok
    return loaded


def test_anchors_are_pixel_hashes() -> None:
    assert screen_anchor(screen(0)) == screen_anchor(screen(0)) != screen_anchor(screen(1))
    assert screen_anchor(None) is None
    assert len(screen_anchor(screen(3)) or "") == 40


def test_gigpo_groups_recorded_turns_by_screen(tmp_path: Path) -> None:
    # A: screens 0 -> 1, succeeds; B: screens 0 -> 2, fails. Turn rewards A [0, 1], B [0, 0]; gamma 0.5:
    # returns A [0.5, 1], B [0, 0]. Episode advantage over steps (mean of [1, 1, 0, 0] = 0.5): A +0.5, B -0.5.
    # Anchor screen 0 holds A0 (0.5) and B0 (0): step advantages +0.25 / -0.25; screens 1 and 2 are alone (0).
    a = to_episode("t", 0, recorded(tmp_path, "a", [0, 1], 1.0), TaskReward())
    b = to_episode("t", 0, recorded(tmp_path, "b", [0, 2], 0.0), TaskReward())
    assert a.anchors[0] == b.anchors[0] and len({a.anchors[1], b.anchors[1], a.anchors[0]}) == 3
    group = Group(task_id="t", seed=0, episodes=[a, b])
    adv = gigpo_turn_advantages(group, gamma=0.5, weight=1.0)
    assert adv == [[pytest.approx(0.75), pytest.approx(0.5)], [pytest.approx(-0.75), pytest.approx(-0.5)]]
    half = gigpo_turn_advantages(group, gamma=0.5, weight=0.5)
    assert half[0][0] == pytest.approx(0.625) and half[1][1] == pytest.approx(-0.5)


def test_hierarchical_turns_group_by_level(tmp_path: Path) -> None:
    a = to_episode("t", 0, recorded(tmp_path, "a", [0], 1.0, both_levels=True), TaskReward())
    assert len(a.turns) == 2 and a.anchors[0].startswith("high:") and a.anchors[1].startswith("low:")
    assert a.anchors[0][5:] == a.anchors[1][4:]


def test_turn_is_loss_clips_a_drifted_turn() -> None:
    """The override computes ST-PPO's turn ratio against the sampling log-probs (hand-computed)."""
    import math
    from collections import defaultdict

    import torch

    from cua.train.credit import turn_is_loss

    class FakeTrainer:
        beta, epsilon_low, epsilon_high, loss_type = 0.0, 0.2, 0.2, "grpo"
        current_gradient_accumulation_steps = 1

        def __init__(self) -> None:
            self.model = torch.nn.Linear(1, 1)
            self._metrics: dict[str, Any] = {"train": defaultdict(list)}
            self.logps = torch.tensor([[math.log(0.5), math.log(0.5)], [math.log(0.5), 0.0]], requires_grad=True)

        def _get_per_token_logps_and_entropies(self, *a: Any, **k: Any) -> Any:
            return self.logps, None, None

    trainer = FakeTrainer()
    inputs = {"prompt_ids": torch.zeros(2, 1, dtype=torch.long), "prompt_mask": torch.ones(2, 1),
              "completion_ids": torch.zeros(2, 2, dtype=torch.long), "completion_mask": torch.tensor([[1, 1], [1, 0]]),
              # turn 0: each token's ratio 2 and 1 -> turn ratio sqrt(2) = 1.414 (clipped at 1.2);
              # turn 1: one token, ratio 1
              "sampling_per_token_logps": torch.tensor([[math.log(0.25), math.log(0.5)], [math.log(0.5), 0.0]]),
              "advantages": torch.tensor([1.0, -1.0])}
    # grpo aggregation: mean over turns of each turn's token mean; turn 1 (ratio 1, advantage -1) gives +1.
    # ST-PPO's correction divides turn 0 by 1 + c, c = mean over its tokens of clipped |w A| = sqrt(2).
    for variant, first in (("turn_ppo", 1.2), ("st_ppo", 1.2 / (1 + math.sqrt(2)))):
        loss = turn_is_loss(trainer, trainer.model, inputs, variant)
        assert float(loss.detach()) == pytest.approx(-(first - 1.0) / 2, rel=1e-5)
    token = turn_is_loss(trainer, trainer.model, inputs, "token")  # token 0 ratio 2 -> 1.2, token 1 -> 1
    assert float(token.detach()) == pytest.approx(-((1.2 + 1.0) / 2 - 1.0) / 2, rel=1e-5)
    assert trainer._metrics["train"]["is/clip_fraction"][0] == pytest.approx(2 / 3)
    trainer.beta = 0.1
    with pytest.raises(ConfigError, match="beta"):
        turn_is_loss(trainer, trainer.model, inputs, "st_ppo")


@pytest.mark.parametrize("change, match", [
    ({"importance_sampling": "sequence"}, "importance_sampling"),
    ({"gigpo_gamma": 1.5}, "gigpo_gamma"),
])
def test_bad_credit_options_are_config_errors(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_recipe(online_recipe(**change))


def run_online(tmp_path: Path, **online: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from cua.train.runner import train

    seen: list[dict[str, Any]] = []

    def keep(inputs: Any, outputs: dict[str, Any]) -> Any:
        seen.append(outputs)
        return outputs["advantages"]

    raw = online_recipe(**online)
    raw["stages"][0]["trl"].update(max_steps=1, save_steps=1)
    train(parse_recipe(raw), tmp_path / "run", advantage_fn=keep)
    return [r for r in metrics(tmp_path / "run") if "online/turns" in r or "loss" in r], seen


@pytest.mark.slow
def test_gigpo_with_curriculum_replay_and_st_ppo_from_a_recipe(tmp_path: Path) -> None:
    rows, seen = run_online(tmp_path, advantage="gigpo", gigpo_gamma=0.9, gigpo_weight=1.0,
                            curriculum={"warmup": 1}, replay=True, importance_sampling="st_ppo")
    row = next(r for r in rows if "online/turns" in r)
    assert row["online/turns"] == 8 and "is/ratio_mean" in row and "curriculum/buttons_two/success" in row
    assert (tmp_path / "run" / "online" / "checkpoint-1" / "cua_online_state.json").is_file()
    assert seen[0]["advantages"].shape == (8,)


@pytest.mark.slow
def test_hierarchical_turn_ppo_from_a_recipe(tmp_path: Path) -> None:
    rows, seen = run_online(tmp_path, hierarchical=True, advantage="gigpo", importance_sampling="turn_ppo")
    row = next(r for r in rows if "online/turns" in r)
    # 2 groups x 2 episodes x 2 steps, two turns (subgoal, action) per step
    assert row["online/turns"] == 16 and "is/clip_fraction" in row
    assert seen[0]["num_images"] == [1] * 16
