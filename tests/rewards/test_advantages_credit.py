"""GiGPO, Hi-Agent foresight and ST-PPO variants on small cases worked out by hand (issue 13)."""

from __future__ import annotations

import math

import pytest

from cua.errors import ConfigError
from cua.rewards.advantages import (discounted_returns, foresight_advantages, gigpo_advantages, turn_log_ratios,
                                    turn_ppo_loss)

# Three rollouts of one task and seed, gamma 0.5: two succeed (in 3 and 2 steps), one fails. s0 is the shared start
# screen, s1 a screen both successes reach; s2, s3 are seen once.
ANCHORS = [["s0", "s1", "s2"], ["s0", "s1"], ["s0", "s3"]]
REWARDS = [[0.0, 0.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
# Returns: [0.25, 0.5, 1], [0.5, 1], [0, 0]. Step groups: s0 {0.25, 0.5, 0} mean 0.25 -> 0, +0.25, -0.25;
# s1 {0.5, 1} mean 0.75 -> -0.25, +0.25; s2, s3 alone -> 0.
STEP = [[0.0, -0.25, 0.0], [0.25, 0.25], [-0.25, 0.0]]


def test_discounted_returns_by_hand():
    assert discounted_returns([0.0, 0.0, 1.0], 0.5) == [0.25, 0.5, 1.0]
    assert discounted_returns([1.0, 2.0], 0.95) == pytest.approx([1.0 + 0.95 * 2.0, 2.0])


def test_gigpo_episode_groups_as_the_paper():
    # Totals 1, 1, 0: mean 2/3, so A_E = 1/3, 1/3, -2/3.
    got = gigpo_advantages(ANCHORS, REWARDS, gamma=0.5, episode_stats="episodes")
    expected = [[1 / 3 + s for s in STEP[0]], [1 / 3 + s for s in STEP[1]], [-2 / 3 + s for s in STEP[2]]]
    for g, e in zip(got, expected):
        assert g == pytest.approx(e)
    weighted = gigpo_advantages(ANCHORS, REWARDS, gamma=0.5, weight=2.0, episode_stats="episodes")
    assert weighted[1] == pytest.approx([1 / 3 + 0.5, 1 / 3 + 0.5])


def test_gigpo_episode_stats_over_steps_as_verl_agent():
    # Seven steps carry totals 1,1,1,1,1,0,0: mean 5/7, so A_E = 2/7, 2/7, -5/7.
    got = gigpo_advantages(ANCHORS, REWARDS, gamma=0.5)
    assert got[0] == pytest.approx([2 / 7, 2 / 7 - 0.25, 2 / 7])
    assert got[2] == pytest.approx([-5 / 7 - 0.25, -5 / 7])


def test_gigpo_scaled():
    # Episodes: std of (1, 1, 0) = sqrt(1/3); step group s0: std of (0.25, 0.5, 0) = 0.25 -> 0, 1, -1; s1: std
    # of (0.5, 1) = sqrt(0.125) -> -/+ 0.25 / 0.35355 = -/+ 0.70711.
    got = gigpo_advantages(ANCHORS, REWARDS, gamma=0.5, scale=True, episode_stats="episodes")
    a_e = (1 / 3) / math.sqrt(1 / 3)
    assert got[0] == pytest.approx([a_e, a_e - 0.70711, a_e], abs=1e-4)
    assert got[2] == pytest.approx([-2 * a_e - 1.0, -2 * a_e], abs=1e-4)


def test_gigpo_default_gamma_and_bad_input():
    got = gigpo_advantages([["x", "y"], ["x", "y"]], [[0.0, 1.0], [0.0, 0.0]])
    # Totals 1, 0 over 4 steps: mean 0.5. x: returns 0.95, 0 -> +-0.475; y: 1, 0 -> +-0.5.
    assert got == [pytest.approx([0.5 + 0.475, 0.5 + 0.5]), pytest.approx([-0.5 - 0.475, -0.5 - 0.5])]
    with pytest.raises(ConfigError):
        gigpo_advantages([["a"]], [[0.0, 1.0]])
    with pytest.raises(ConfigError):
        gigpo_advantages([[]], [[]])
    with pytest.raises(ConfigError):
        gigpo_advantages([["a"]], [[1.0]], episode_stats="rows")


def test_foresight_by_hand():
    # Three subgoal candidates, two low-level attempts each: scores 1, 0.5, 0 (mean 0.5, std 0.5).
    high, low = foresight_advantages([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    assert high == pytest.approx([0.5 / 0.5001, 0.0, -0.5 / 0.5001])
    s = math.sqrt(0.5)  # std of (0, 1)
    assert low == [pytest.approx([0.0, 0.0]), pytest.approx([-0.5 / (s + 1e-4), 0.5 / (s + 1e-4)]),
                   pytest.approx([0.0, 0.0])]
    high, _ = foresight_advantages([[1.0], [0.0], [0.0], [0.0]], scale=False)
    assert high == [0.75, -0.25, -0.25, -0.25]
    with pytest.raises(ConfigError):
        foresight_advantages([[1.0], []])


def _case(advantage: float):
    import torch

    # One row, turns 0 and 1 of two tokens each, then an environment token (masked) with a wild ratio.
    ratios = [1.69, 1.0, 0.81, 1.0, 50.0]
    old = torch.log(torch.tensor([[0.5, 0.4, 0.3, 0.2, 0.01]], dtype=torch.float64))
    logps = (old + torch.log(torch.tensor([ratios], dtype=torch.float64))).requires_grad_(True)
    turns = torch.tensor([[0, 0, 1, 1, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 0]])
    return logps, old, torch.tensor([advantage], dtype=torch.float64), turns, mask


def test_turn_ratio_is_the_geometric_mean_of_the_turn():
    import torch

    logps, old, _, turns, mask = _case(1.0)
    got = torch.exp(turn_log_ratios(logps, old, turns, mask))
    assert got.tolist()[0] == pytest.approx([1.3, 1.3, 0.9, 0.9, 1.0])  # sqrt(1.69 * 1), sqrt(0.81 * 1); env 1


# Positive advantage 1, eps 0.2.
#   token: ratios 1.69, 1, 0.81, 1 -> min(r, clip r) = 1.2, 1, 0.81, 1 -> loss -4.01 / 4; token 0 off by 0.49.
#   turn:  ratios 1.3, 1.3, 0.9, 0.9 -> 1.2, 1.2, 0.9, 0.9 -> loss -4.2 / 4; turn 0 off by 0.1.
#   Clipping bias of the row, c = (sum over clipped tokens of |w A|) / 4: s 1.69 / 4, st (1.3 + 1.3) / 4;
#   s and st divide the row's loss by 1 + c.
# Negative advantage -1: min(-r, -clip r) = -max(r, clip r).
#   token: -1.69, -1, -0.81, -1 -> loss 4.5 / 4;   turn: -1.3, -1.3, -0.9, -0.9 -> loss 4.4 / 4.
S_BIAS, ST_BIAS = 1.69 / 4, 2.6 / 4


@pytest.mark.parametrize("variant,advantage,loss,clip_fraction,bias", [
    ("token", 1.0, -4.01 / 4, 0.25, S_BIAS),
    ("turn", 1.0, -4.2 / 4, 0.5, ST_BIAS),
    ("s", 1.0, -4.01 / 4 / (1 + S_BIAS), 0.25, S_BIAS),
    ("st", 1.0, -4.2 / 4 / (1 + ST_BIAS), 0.5, ST_BIAS),
    ("token", -1.0, 4.5 / 4, 0.25, S_BIAS),
    ("s", -1.0, 4.5 / 4 / (1 + S_BIAS), 0.25, S_BIAS),
    ("st", -1.0, 4.4 / 4 / (1 + ST_BIAS), 0.5, ST_BIAS),
])
def test_ppo_variants_by_hand(variant, advantage, loss, clip_fraction, bias):
    got, metrics = turn_ppo_loss(*_case(advantage), variant=variant)
    assert float(got.detach()) == pytest.approx(loss, abs=1e-9)
    assert metrics["clip_fraction"] == pytest.approx(clip_fraction)
    assert metrics["bias_mean"] == pytest.approx(bias)


def test_correction_is_per_row():
    import torch

    # Row 0 is the off-policy case above (A = 1); row 1 is on policy (ratios 1, A = 2): row 1 keeps its weight.
    logps, old, _, turns, mask = _case(1.0)
    logps = torch.cat([logps.detach(), old])
    old, turns, mask = torch.cat([old, old]), torch.cat([turns, turns]), torch.cat([mask, mask])
    got, metrics = turn_ppo_loss(logps, old, torch.tensor([1.0, 2.0], dtype=torch.float64), turns, mask,
                                 variant="st")
    assert float(got) == pytest.approx(-(4.2 / (1 + ST_BIAS) + 4 * 2.0) / 8)
    assert metrics["bias_mean"] == pytest.approx(ST_BIAS / 2)


def test_turn_gradient_is_shared_within_a_turn_and_zero_outside_the_mask():
    logps, old, adv, turns, mask = _case(-1.0)
    loss, _ = turn_ppo_loss(logps, old, adv, turns, mask, variant="turn")
    loss.backward()
    grad = logps.grad.tolist()[0]
    # Loss = (2 r_0 + 2 r_1) / 4 (turn 0 at 1.3 > 1.2 stays unclipped for A < 0), r_k = exp(mean of its two log
    # ratios): d loss / d logp of either token of turn k = (2 / 4) * r_k / 2 = r_k / 4.
    assert grad[:4] == pytest.approx([1.3 / 4, 1.3 / 4, 0.9 / 4, 0.9 / 4])
    assert grad[4] == 0.0


def test_on_policy_variants_agree_and_bad_variant():
    import torch

    logps = torch.log(torch.tensor([[0.5, 0.25, 0.2]]))
    adv = torch.tensor([[1.0, -2.0, 0.5]])
    args = (logps, logps.clone(), adv, torch.tensor([[0, 1, 1]]), torch.ones(1, 3))
    losses = {v: float(turn_ppo_loss(*args, variant=v)[0]) for v in ("token", "turn", "s", "st")}
    assert all(loss == pytest.approx(-(1.0 - 2.0 + 0.5) / 3) for loss in losses.values())
    with pytest.raises(ConfigError):
        turn_ppo_loss(*args, variant="seq")
