"""Credit assignment for long GUI episodes in the online stage (issue 13): the wiring of
:mod:`cua.rewards.advantages` into :class:`cua.train.online.OnlineGRPOTrainer`.

- **Anchor states** (:func:`screen_anchor`): GiGPO groups the steps of one group of rollouts that acted from
  the same observation. cua's anchor is the SHA-1 of the screenshot's pixels (RGB bytes, with the size), so two
  screenshots are one anchor exactly when every pixel agrees; PNG bytes are not used (encoders differ in
  metadata and compression for the same pixels). A turn without a screenshot gets an anchor of its own.
- **GiGPO** (``advantage: gigpo``; Feng et al. 2025, arXiv 2505.10978; verl-agent ``core_gigpo.py``):
  :func:`gigpo_turn_advantages` gives every turn of a group ``A_E + w * A_S``
  (:func:`~cua.rewards.advantages.gigpo_advantages`): the episode's shaped task reward sits on its last turn
  (0 on the others, as verl-agent's sparse episode reward), returns are discounted per turn with ``gamma``;
  a hierarchical policy's two turns of one step (subgoal, action) are grouped apart (``high:`` / ``low:``
  anchors of the same screen).
- **Turn-level importance sampling** (``importance_sampling``; ST-PPO, Li et al. 2025, arXiv 2511.20718):
  :func:`turn_is_loss` replaces trl's ``_compute_loss`` (the narrowest override point: trl computes the ratio,
  clip and aggregation in that one method) by :func:`~cua.rewards.advantages.turn_ppo_loss`. Each row of the
  online batch is one turn, so a turn's ratio is the geometric mean of its tokens' ratios. The behaviour policy
  is the sampling one (``sampling_per_token_logps``, recorded at rollout time, replayed episodes included): the
  ratio measures how far the trained policy moved since the turn was played, which is what the clip and the
  S-/ST-PPO correction act on. The aggregation follows the stage's loss normalisation (``turn``/``episode``:
  trl's ``grpo`` per-turn mean; ``token``: ``dapo``'s token sum over the batch's items). A KL term (``beta``)
  is refused with it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable

from cua.errors import ConfigError
from cua.rewards.advantages import gigpo_advantages, turn_ppo_loss

if TYPE_CHECKING:  # pragma: no cover
    from cua.observation import Observation
    from cua.train.rollout import Group

#: ``online.importance_sampling`` -> :func:`turn_ppo_loss` variant.
IS_VARIANTS = {"token": "token", "turn_ppo": "turn", "s_ppo": "s", "st_ppo": "st"}


def screen_anchor(observation: "Observation | None") -> str | None:
    """The anchor of a screen: ``sha1(width x height, RGB pixels)`` in hex; None without a screenshot."""
    if observation is None:
        return None
    image = observation.image.convert("RGB")
    digest = hashlib.sha1(f"{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def gigpo_turn_advantages(group: "Group", *, gamma: float, weight: float) -> list[list[float]]:
    """GiGPO's advantage of every turn of every episode of ``group`` (see the module docstring)."""
    anchors, rewards = [], []
    for i, episode in enumerate(group.episodes):
        n = len(episode.turns)
        keys = list(episode.anchors) if len(episode.anchors) == n else []
        anchors.append([k if k is not None else f"own:{i}:{t}" for t, k in enumerate(keys)] if keys else
                       [f"own:{i}:{t}" for t in range(n)])
        rewards.append([0.0] * (n - 1) + [float(episode.reward)] if n else [])
    if any(not r for r in rewards):
        raise ConfigError("gigpo: every episode of a trained group needs at least one turn")
    return gigpo_advantages(anchors, rewards, gamma=gamma, weight=weight)


def turn_is_loss(trainer: Any, model: Any, inputs: dict[str, Any], importance_sampling: str) -> Any:
    """trl's ``_compute_loss`` with ST-PPO's turn-level ratio (see the module docstring); logs
    ``is/clip_fraction``, ``is/ratio_mean`` and ``is/bias_mean``."""
    import torch

    if importance_sampling not in IS_VARIANTS:
        raise ConfigError(f"importance_sampling is {importance_sampling!r}; valid: {', '.join(IS_VARIANTS)}")
    if trainer.beta != 0.0:
        raise ConfigError("importance_sampling other than token does not take a KL term: set trl.beta: 0")
    prompt_ids, completion_ids = inputs["prompt_ids"], inputs["completion_ids"]
    mask = inputs["completion_mask"]
    logps, _, _ = trainer._get_per_token_logps_and_entropies(
        model, torch.cat([prompt_ids, completion_ids], dim=1), torch.cat([inputs["prompt_mask"], mask], dim=1),
        completion_ids.size(1), pixel_values=inputs.get("pixel_values"),
        image_grid_thw=inputs.get("image_grid_thw"), num_images=inputs.get("num_images"),
        mm_token_type_ids=inputs.get("mm_token_type_ids"))
    old = inputs.get("sampling_per_token_logps")
    old = logps.detach() if old is None else old.to(logps.dtype)
    turn_ids = torch.zeros_like(mask, dtype=torch.long)  # one turn per row
    variant = IS_VARIANTS[importance_sampling]
    kwargs = dict(variant=variant, clip_eps=trainer.epsilon_low, clip_eps_high=trainer.epsilon_high)
    advantages = inputs["advantages"]
    mode = "train" if trainer.model.training else "eval"
    accumulation = trainer.current_gradient_accumulation_steps if mode == "train" else 1.0
    if trainer.loss_type == "dapo":
        loss, metrics = turn_ppo_loss(logps, old, advantages, turn_ids, mask, **kwargs)
        normaliser = inputs["num_items_in_batch"].clamp(min=1.0) / trainer.accelerator.num_processes
        if mode == "train":
            normaliser = normaliser * accumulation / trainer.args.steps_per_generation
        loss = loss * mask.sum().clamp(min=1.0) / normaliser
    else:  # grpo: each turn's token mean, averaged over the turns
        rows = [turn_ppo_loss(logps[i:i + 1], old[i:i + 1], advantages[i:i + 1], turn_ids[i:i + 1],
                              mask[i:i + 1], **kwargs) for i in range(logps.shape[0])]
        loss = torch.stack([r[0] for r in rows]).mean() / accumulation
        _, metrics = turn_ppo_loss(logps, old, advantages, turn_ids, mask, **kwargs)
    for key, value in metrics.items():
        trainer._metrics[mode][f"is/{key}"].append(value)
    return loss


def step_advantage(online: Any) -> "Callable[[Group], list[list[float]]] | None":
    """The per-turn advantage function an :class:`~cua.train.recipe.OnlineSpec` asks for (None: the episode
    advantage on every turn)."""
    if online.advantage == "gigpo":
        return lambda group: gigpo_turn_advantages(group, gamma=online.gigpo_gamma, weight=online.gigpo_weight)
    return None
