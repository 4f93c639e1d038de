"""Advantages and policy losses for credit assignment on long GUI episodes (pure functions, plain inputs).

- :func:`grpo_advantages`: GRPO (Shao et al. 2024, as trl's ``GRPOTrainer`` computes them). For each group of
  ``group_size`` consecutive completions of one prompt: ``A = r - mean(group)``, divided by
  ``std(group) + 1e-4`` (sample standard deviation, ddof 1, as ``torch.std``) when ``scale`` is true.
- :func:`gigpo_advantages`: GiGPO step-level groups (Feng et al. 2025, arXiv 2505.10978; verl-agent
  ``gigpo/core_gigpo.py``).
- :func:`foresight_advantages`: Hi-Agent's foresight advantage (Wu et al. 2025, arXiv 2510.14388).
- :func:`turn_ppo_loss`: token-level PPO and ST-PPO's Turn-PPO / S-PPO / ST-PPO (Li et al. 2025, arXiv 2511.20718),
  in torch.

None of these is wired into training here; the online stage calls them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Hashable, Literal, Sequence

from cua.errors import ConfigError

EPS = 1e-4
GIGPO_EPS = 1e-6


def grpo_advantages(rewards: Sequence[float], group_size: int, *, scale: bool = True) -> list[float]:
    """Advantages of ``rewards`` laid out as consecutive groups of ``group_size``.

    >>> grpo_advantages([1.0, 0.0, 0.0, 0.0], 4, scale=False)
    [0.75, -0.25, -0.25, -0.25]
    >>> [round(a, 3) for a in grpo_advantages([1.0, 1.0, 3.0, 3.0], 2)]
    [0.0, 0.0, 0.0, 0.0]
    """
    if group_size < 1 or len(rewards) % group_size:
        raise ConfigError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    out: list[float] = []
    for start in range(0, len(rewards), group_size):
        group = [float(r) for r in rewards[start:start + group_size]]
        mean = sum(group) / len(group)
        std = math.sqrt(sum((r - mean) ** 2 for r in group) / (len(group) - 1)) if len(group) > 1 else 0.0
        out.extend((r - mean) / (std + EPS) if scale else r - mean for r in group)
    return out


def _normalise(values: Sequence[float], *, scale: bool, eps: float) -> list[float]:
    """``v - mean``, divided by ``std (ddof 1) + eps`` when ``scale``; a single value has std 1 (as verl-agent)."""
    mean = sum(values) / len(values)
    if not scale:
        return [v - mean for v in values]
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 1.0
    return [(v - mean) / (std + eps) for v in values]


def discounted_returns(rewards: Sequence[float], gamma: float) -> list[float]:
    """``R_t = r_t + gamma * R_{t+1}`` from the last step back (GiGPO Eq. 5).

    >>> discounted_returns([0.0, 0.0, 1.0], 0.5)
    [0.25, 0.5, 1.0]
    """
    out, running = [0.0] * len(rewards), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = float(rewards[t]) + gamma * running
        out[t] = running
    return out


def gigpo_advantages(anchors: Sequence[Sequence[Hashable]], rewards: Sequence[Sequence[float]], *,
                     gamma: float = 0.95, weight: float = 1.0, scale: bool = False, eps: float = GIGPO_EPS,
                     episode_stats: Literal["steps", "episodes"] = "steps") -> list[list[float]]:
    """GiGPO advantage of every step of one group of rollouts (one task, one seed): ``A = A_E + weight * A_S``.

    ``anchors[i][t]`` identifies the observation episode ``i`` acted from at step ``t`` (a screen hash);
    ``rewards[i][t]`` is the reward of that step. Episode advantage ``A_E`` (Eq. 3): the episode's total reward
    minus the group mean (divided by the std when ``scale``; verl-agent's ``mean_norm`` default does not).
    With ``episode_stats="steps"`` (verl-agent's ``compute_mean_std_cross_steps=True`` default) the mean and std
    are taken over the group's steps, each carrying its episode's total, so longer episodes weigh more;
    ``"episodes"`` takes them over the episodes (the paper's Eq. 3). Step advantage ``A_S`` (Eqs. 5-7): steps of
    the group taken from the same anchor form a step group; each step's discounted return (``gamma``) minus its
    step group's mean (a step group of one gets 0). Defaults as verl-agent: ``gamma`` 0.95, ``weight`` 1,
    ``eps`` 1e-6.

    >>> [[round(a, 4) for a in ep] for ep in gigpo_advantages([["a", "b"], ["a"]], [[0.0, 1.0], [0.0]], gamma=0.5)]
    [[0.5833, 0.3333], [-0.9167]]
    """
    if len(anchors) != len(rewards) or any(len(a) != len(r) for a, r in zip(anchors, rewards)):
        raise ConfigError("gigpo_advantages: anchors and rewards must have the same episodes and steps")
    if not anchors or any(len(r) == 0 for r in rewards):
        raise ConfigError("gigpo_advantages: every episode needs at least one step")
    totals = [float(sum(r)) for r in rewards]
    if episode_stats == "episodes":
        episode = _normalise(totals, scale=scale, eps=eps)
    elif episode_stats == "steps":
        per_step = _normalise([totals[i] for i, r in enumerate(rewards) for _ in r], scale=scale, eps=eps)
        starts = [sum(len(r) for r in rewards[:i]) for i in range(len(rewards))]
        episode = [per_step[s] for s in starts]
    else:
        raise ConfigError(f"episode_stats must be 'steps' or 'episodes', got {episode_stats!r}")
    returns = [discounted_returns(r, gamma) for r in rewards]
    groups: dict[Hashable, list[tuple[int, int]]] = defaultdict(list)
    for i, keys in enumerate(anchors):
        for t, key in enumerate(keys):
            groups[key].append((i, t))
    step = [[0.0] * len(r) for r in rewards]
    for members in groups.values():
        values = _normalise([returns[i][t] for i, t in members], scale=scale and len(members) > 1, eps=eps)
        for (i, t), value in zip(members, values):
            step[i][t] = value
    return [[episode[i] + weight * a for a in step[i]] for i in range(len(rewards))]


def foresight_advantages(outcomes: Sequence[Sequence[float]], *, scale: bool = True, eps: float = EPS
                         ) -> tuple[list[float], list[list[float]]]:
    """Hi-Agent's foresight advantage for the G subgoal candidates proposed at one state.

    ``outcomes[g]`` holds the execution feedback of the low level's attempts at candidate ``g`` (one in cua's
    online stage, :mod:`cua.train.foresight`, whose feedback is
    :meth:`cua.rewards.task.TaskReward.foresight`). Scoring each state's G candidates by one step of execution
    is what makes an n-step task cost G * n samples instead of the G ** n paths of GRPO over whole episodes.
    A candidate's score is the mean of its attempts; the high level's advantage for it is that score
    normalised over the G candidates (GRPO's rule, ``scale`` and ``eps`` as :func:`grpo_advantages`):
    critic-free, one step of foresight. The low level's advantages are its attempts normalised within each
    candidate (GRPO on (subgoal, screen) prompts; all 0 with one attempt). Returns
    ``(high_level[G], low_level[G][attempts])``. Source: Hi-Agent (arXiv 2510.14388), as its abstract and a
    review of its method state it (the method section could not be read here); format terms belong to the
    caller's feedback.

    >>> foresight_advantages([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]], scale=False)
    ([0.5, 0.0, -0.5], [[0.0, 0.0], [-0.5, 0.5], [0.0, 0.0]])
    """
    if not outcomes or any(len(o) == 0 for o in outcomes):
        raise ConfigError("foresight_advantages: every subgoal candidate needs at least one low-level outcome")
    scores = [sum(map(float, o)) / len(o) for o in outcomes]
    high = grpo_advantages(scores, len(scores), scale=scale)
    low = [grpo_advantages([float(v) for v in o], len(o), scale=scale) for o in outcomes]
    return high, low


PPO_VARIANTS = ("token", "turn", "s", "st")


def turn_log_ratios(logps: Any, old_logps: Any, turn_ids: Any, mask: Any) -> Any:
    """Per-token log importance ratio under turn-level sampling (ST-PPO Eq. 4): every token of turn ``k`` of
    a row gets ``mean over the turn's masked tokens of (logp - old_logp)``, the log of the geometric mean of the
    turn's token ratios. Tensors are ``(B, T)``; tokens with equal ``turn_ids`` in one row form a turn; tokens
    outside ``mask`` (prompt, environment text, padding) count in no turn and get 0."""
    import torch

    m = mask.to(logps.dtype)
    ids = turn_ids.long()
    if bool((ids[mask.bool()] < 0).any()):
        raise ConfigError("turn_ids of masked tokens must be >= 0")
    width = int(ids.clamp(min=0).max().item()) + 1 if ids.numel() else 1
    rows = torch.arange(ids.shape[0], device=ids.device).unsqueeze(1)
    key = (rows * width + ids.clamp(min=0)).flatten()
    size = ids.shape[0] * width
    diff = ((logps - old_logps) * m).flatten()
    sums = torch.zeros(size, dtype=logps.dtype, device=logps.device).index_add(0, key, diff)
    counts = torch.zeros(size, dtype=logps.dtype, device=logps.device).index_add(0, key, m.flatten())
    return (sums / counts.clamp(min=1.0))[key].view_as(logps) * m


def turn_ppo_loss(logps: Any, old_logps: Any, advantages: Any, turn_ids: Any, mask: Any, *,
                  variant: Literal["token", "turn", "s", "st"] = "token", clip_eps: float = 0.2,
                  clip_eps_high: float | None = None) -> tuple[Any, dict[str, float]]:
    """PPO's clipped surrogate as a loss (to minimise), token-mean over ``mask``; returns ``(loss, metrics)``.

    Inputs are ``(B, T)`` tensors (``advantages`` may be ``(B,)``, broadcast over the row): per-token log
    probabilities under the current and the behaviour policy, advantages, turn ids and the mask of the policy's
    own tokens. Variants (ST-PPO, Li et al. 2025, arXiv 2511.20718, Fig. 1):

    - ``token``: standard token-level PPO, ratio ``exp(logp - old_logp)`` per token (the default);
    - ``turn`` (Turn-PPO): one ratio per turn, the geometric mean of its token ratios (:func:`turn_log_ratios`),
      clipped per turn, applied to every token of the turn;
    - ``s`` (S-PPO) and ``st`` (ST-PPO): ``token`` / ``turn`` plus the clipping-bias correction, which
      down-weights highly off-policy samples. The paper's clipping-bias term is
      ``C = 1/|y| * sum over clipped tokens t of w_t * A_t`` (Lemma 4.2, as a secondary summary states it);
      here each row (sample) gets ``c = 1/|y| * sum over its clipped tokens of |w_t * A_t|`` (``w`` the token
      ratio for ``s``, the turn ratio for ``st``; a token is clipped when ``w`` lies outside
      ``[1 - eps, 1 + eps]``) and its loss is divided by ``1 + c`` (a constant for the gradient). Rows without
      clipping are untouched, so on-policy batches give exactly ``token`` / ``turn``. The paper text (Eq. 8)
      could not be read here: check this normalisation against it before publishing a comparison.

    ``metrics``: ``clip_fraction`` (share of masked tokens whose ratio was clipped), ``ratio_mean``,
    ``bias_mean`` (mean ``c`` over rows).
    """
    import torch

    if variant not in PPO_VARIANTS:
        raise ConfigError(f"unknown PPO variant {variant!r}; valid: {', '.join(PPO_VARIANTS)}")
    m = mask.to(logps.dtype)
    if advantages.dim() == 1:
        advantages = advantages.unsqueeze(1).expand_as(logps)
    log_ratio = turn_log_ratios(logps, old_logps, turn_ids, mask) if variant in ("turn", "st") else \
        (logps - old_logps) * m
    ratio = torch.exp(log_ratio)
    low, high = 1.0 - clip_eps, 1.0 + (clip_eps if clip_eps_high is None else clip_eps_high)
    clipped = ratio.clamp(low, high)
    surrogate = torch.minimum(ratio * advantages, clipped * advantages)
    was_clipped = (ratio != clipped).to(m.dtype).detach() * m
    bias = (was_clipped * (ratio * advantages).abs().detach()).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    if variant in ("s", "st"):
        surrogate = surrogate / (1.0 + bias).unsqueeze(1)
    denom = m.sum().clamp(min=1.0)
    loss = -(surrogate * m).sum() / denom
    metrics = {"clip_fraction": float(was_clipped.sum() / denom),
               "ratio_mean": float((ratio.detach() * m).sum() / denom), "bias_mean": float(bias.mean())}
    return loss, metrics
