"""Online trajectory GRPO on live devices: stage kind ``grpo_online`` (Mobile-R1 stage 3, ARPO), on trl.

:class:`OnlineGRPOTrainer` subclasses cua's :class:`~cua.train.stages.CuaGRPOTrainer` (trl's ``GRPOTrainer``) at
its narrowest point, ``_generate_and_score_completions``: instead of sampling completions for dataset prompts,
it plays groups of live episodes with the trainer's own model (:class:`cua.train.rollout.Roller`, one batched
generate per step) and returns every turn as one sample in trl's batch layout. trl's ``_compute_loss``, the
optimiser, scheduler, checkpoints and logging run unchanged. Each turn's forward pass sees that turn's
screenshot(s): the recorded prompt ids (exactly what the policy saw) with the turn's images through the
processor's image processor. The group-normalised episode advantage is every turn's advantage.

Per update (one optimiser step; trl's ``steps_per_generation`` and ``num_generations`` are set to 1 and 2 and
only pace its dataloader, a counter here): the curriculum (:mod:`cua.train.curriculum`) draws
``groups_per_step`` tasks, each gets a training seed drawn deterministically from (seed, step, rank), the
groups are played, replay (:mod:`cua.train.replay`) may swap in a stored success, the advantages are computed
(``online.advantage``) and weighted by the loss normalisation (``turn``: trl's ``grpo`` loss; ``token``:
``dapo``; ``episode``: ``grpo`` with each turn weighted T/(E * T_e), so every episode counts the same).
With several processes (torchrun) each rank plays its own groups on its own devices; ranks share curriculum
updates (gathered) and pad their batches to the same number of turns with fully masked copies.

Credit assignment (issue 13, :mod:`cua.train.credit`): ``online.advantage: gigpo`` gives each turn GiGPO's
episode + step advantage over screen-hash anchor states; ``online.hierarchical`` plays the two-level policy and
trains both levels' turns; ``online.advantage: foresight`` plays Hi-Agent's subgoal candidates per state
(:class:`cua.train.foresight.ForesightRoller`: every candidate's two turns trained with its group-normalised
execution feedback); ``online.importance_sampling`` (``turn_ppo`` / ``s_ppo`` / ``st_ppo``) replaces trl's
``_compute_loss`` by ST-PPO's turn-level ratio against the sampling log-probs.

Off-policy handling: the batch is trained once, right after it was sampled, so trl uses the current log-probs
as "old" (ratio 1, on-policy) - replayed episodes included (see :mod:`cua.train.replay`); the sampling
log-probs are passed as ``sampling_per_token_logps``. The curriculum and replay states and the environment steps
played so far (``online.max_env_steps``'s count) are written into every checkpoint (``cua_online_state.json`` +
replayed screenshots) and restored by ``--resume``.
"""

from __future__ import annotations

import json
import os
import random
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Sequence

from cua.errors import DeviceError
from cua.policies.model import QwenVLPolicy, TurnTokens
from cua.rewards.task import TaskReward
from cua.train import credit
from cua.train.curriculum import Curriculum, complexity_priors
from cua.train.foresight import ForesightRoller
from cua.train.recipe import OnlineSpec
from cua.train.replay import ReplayBuffer
from cua.train.rollout import Episode, LocalEnv, Roller, Rollout
from cua.train.stages import CuaGRPOTrainer

STATE_FILE = "cua_online_state.json"
REPLAY_DIR = "cua_replay"
#: trl loss types behind ``online.loss_normalisation``.
LOSS_TYPES = {"turn": "grpo", "episode": "grpo", "token": "dapo"}


def task_reward(online: OnlineSpec) -> TaskReward:
    return TaskReward(step_penalty=online.step_penalty, invalid_penalty=online.invalid_penalty,
                      format_failure=online.format_failure)


def _options(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) or hasattr(value, "items") else {}


class OnlineGRPOTrainer(CuaGRPOTrainer):
    """trl's GRPO trainer fed by live episodes (see the module docstring)."""

    def __init__(self, *args: Any, online: OnlineSpec, slots: Sequence[Any], codec: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.online = online
        cur = _options(online.curriculum)
        self.curriculum = Curriculum(online.tasks, priors=complexity_priors(online.tasks), seed=self.args.seed,
                                     **{"enabled": bool(online.curriculum), **cur})
        self.replay = ReplayBuffer(**{"seed": self.args.seed, **_options(online.replay)}) if online.replay else None
        #: Device steps played by the stage so far, all ranks (``online.max_env_steps``'s budget).
        self.env_steps_total = 0
        self.policy = QwenVLPolicy.from_model(
            self.model, self.processing_class, codec=codec, history_images=online.history_images,
            max_new_tokens=self.max_completion_length, temperature=self.temperature, sample=True,
            name="model:online")
        if online.hierarchical:  # issue 13: both levels of one model play, both levels' turns are trained
            from cua.policies.hierarchical import HierarchicalPolicy

            self.policy = HierarchicalPolicy(self.policy)
        end_on = ("parse",) if online.end_on_format_failure else ()
        self.roller: Roller | ForesightRoller
        if online.advantage == "foresight":  # issue 13: Hi-Agent's candidates per state, on replayed branches
            self.roller = ForesightRoller(slots, self.policy, group_size=online.group_size,
                                          max_episode_steps=online.max_episode_steps, reward=task_reward(online),
                                          progress=online.foresight_progress, step_timeout=online.step_timeout,
                                          end_on=end_on)
        else:
            step_advantage = credit.step_advantage(online)
            self.roller = Roller(slots, self.policy, group_size=online.group_size,
                                 max_episode_steps=online.max_episode_steps, reward=task_reward(online),
                                 advantage="grpo" if step_advantage else online.advantage, replay=self.replay,
                                 step_timeout=online.step_timeout, step_advantage=step_advantage, end_on=end_on)

    # --- rollouts -> trl's batch -------------------------------------------------------------------------------
    def _plan(self) -> list[tuple[str, int]]:
        step, rank = self.state.global_step, self.accelerator.process_index
        tasks = self.curriculum.draw(self.online.groups_per_step, step=step, rank=rank)
        rng = random.Random(f"seeds:{self.args.seed}:{step}:{rank}")
        seeds = self.online.seed_list
        return [(t, rng.choice(seeds)) for t in tasks]

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        from accelerate.utils import gather_object

        was_training = self.model.training
        self.model.eval()
        t0 = time.perf_counter()
        try:
            rollout = self.roller.collect(self._plan())
        finally:
            self.model.train(was_training)
        t1 = time.perf_counter()
        for task_id, mean in gather_object([(g.task_id, g.mean_success) for g in rollout.groups if g.played]):
            self.curriculum.update(task_id, mean)
        self.env_steps_total += sum(gather_object([rollout.env_steps]))  # the same total on every rank
        if self.online.max_env_steps is not None and self.env_steps_total >= self.online.max_env_steps:
            self.control.should_training_stop = True  # this update is trained, then the stage ends as at max_steps
        turns, advantages = self._turns(rollout)
        outputs = self._batch(turns, advantages)
        if self.advantage_fn is not None:
            outputs["advantages"] = self.advantage_fn(inputs, outputs)
        self._log_rollout(rollout, len(turns), t1 - t0, time.perf_counter() - t1)
        return outputs

    def _turns(self, rollout: Rollout) -> tuple[list[TurnTokens], list[float]]:
        """Every turn of every trained group with its weighted advantage (see the loss normalisation)."""
        pairs: list[tuple[Episode, list[float]]] = [(e, a) for g in rollout.trained
                                                    for e, a in zip(g.episodes, g.turn_advantages) if e.turns]
        if not pairs:  # no group survived: train on nothing (advantage 0) rather than stop, if any turn exists
            pairs = [(e, [0.0] * len(e.turns)) for g in rollout.groups for e in g.episodes if e.turns]
        if not pairs:
            raise DeviceError("every episode of this update was lost before its first turn (all devices failed)")
        total = sum(len(e.turns) for e, _ in pairs)
        turns, advantages = [], []
        for episode, advs in pairs:
            weight = total / (len(pairs) * len(episode.turns)) if self.online.loss_normalisation == "episode" else 1.0
            turns += episode.turns
            advantages += [a * weight for a in advs]
        return turns, advantages

    def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> Any:
        """trl's loss, or ST-PPO's turn-level one (``online.importance_sampling``, :func:`credit.turn_is_loss`)."""
        if self.online.importance_sampling == "token":
            return super()._compute_loss(model, inputs)
        return credit.turn_is_loss(self, model, inputs, self.online.importance_sampling)

    def _batch(self, turns: list[TurnTokens], advantages: list[float]) -> dict[str, Any]:
        import torch
        from trl.trainer.utils import pad

        device = self.accelerator.device
        real = len(turns)
        most = int(self.accelerator.gather(torch.tensor([real], device=device)).max().item())
        live = [1] * real + [0] * (most - real)
        turns = turns + [turns[-1]] * (most - real)  # fully masked copies: every rank holds the same count
        if self.loss_type == "grpo" and most > real:
            advantages = [a * most / real for a in advantages]  # grpo's mean over turns counts the copies
        advantages = advantages + [0.0] * (most - real)
        pad_id = self._tokenizer.pad_token_id
        prompt = [torch.tensor(t.prompt_ids) for t in turns]
        completion = [torch.tensor(t.completion_ids) for t in turns]
        out: dict[str, Any] = {
            "prompt_ids": pad(prompt, padding_value=pad_id, padding_side="left").to(device),
            "prompt_mask": pad([torch.ones_like(p) for p in prompt], padding_value=0, padding_side="left").to(device),
            "completion_ids": pad(completion, padding_value=pad_id, padding_side="right").to(device),
            "completion_mask": pad([torch.full_like(c, k) for c, k in zip(completion, live)], padding_value=0,
                                   padding_side="right").to(device),
            "sampling_per_token_logps": pad([torch.tensor(t.logprobs, dtype=torch.float32) for t in turns],
                                            padding_value=0.0, padding_side="right").to(device),
            "advantages": torch.tensor(advantages, dtype=torch.float32, device=device),
        }
        out["num_items_in_batch"] = self.accelerator.gather(out["completion_mask"].sum()).sum()
        images = [img for t in turns for img in t.images]
        if images:
            pixels = self.processing_class.image_processor(images=images, return_tensors="pt")
            out["pixel_values"] = pixels["pixel_values"].to(device)
            out["image_grid_thw"] = pixels["image_grid_thw"].to(device)
            out["num_images"] = [len(t.images) for t in turns]
        if "mm_token_type_ids" in getattr(self.processing_class, "model_input_names", ()):
            kinds = torch.zeros_like(out["prompt_ids"])
            for attr, kind in (("image_token_id", 1), ("video_token_id", 2)):
                token = getattr(self.processing_class, attr, None)
                if token is not None:
                    kinds[out["prompt_ids"] == token] = kind
            out["mm_token_type_ids"] = torch.cat([kinds, torch.zeros_like(out["completion_ids"])], dim=1)
        return out

    def _log_rollout(self, rollout: Rollout, n_turns: int, rollout_s: float, batch_s: float) -> None:
        played = [e for g in rollout.groups for e in g.played]
        metrics = self._metrics["train"]
        metrics["online/episodes"].append(float(len(played)))
        metrics["online/success"].append(sum(e.success for e in played) / len(played) if played else 0.0)
        metrics["online/episode_reward"].append(sum(e.reward for e in played) / len(played) if played else 0.0)
        metrics["online/episode_steps"].append(sum(e.num_steps for e in played) / len(played) if played else 0.0)
        metrics["online/turns"].append(float(n_turns))
        metrics["online/lost_episodes"].append(float(rollout.lost_episodes))
        metrics["online/dropped_groups"].append(float(rollout.dropped_groups))
        metrics["online/replayed"].append(float(rollout.replayed))
        metrics["online/env_steps"].append(float(rollout.env_steps))
        metrics["online/env_steps_total"].append(float(self.env_steps_total))
        metrics["online/diverged_branches"].append(float(rollout.diverged))
        metrics["time/rollout_s"].append(rollout_s)
        metrics["time/generation_s"].append(rollout.generation_s)
        metrics["time/batch_s"].append(batch_s)
        for key, value in self.curriculum.metrics().items():
            metrics[key].append(value)

    # --- curriculum and replay state with the checkpoints -----------------------------------------------------
    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        if self.args.should_save:  # written before trl's files: a checkpoint with trainer_state.json has it
            folder = Path(self._get_output_dir(trial=trial)) / f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
            save_online_state(folder, self.curriculum, self.replay, env_steps=self.env_steps_total)
        super()._save_checkpoint(model, trial)

    def _load_optimizer_and_scheduler(self, checkpoint: Any) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is not None:
            steps = load_online_state(Path(checkpoint), self.curriculum, self.replay)
            self.env_steps_total = steps if steps is not None else 0


def save_online_state(folder: Path, curriculum: Curriculum, replay: ReplayBuffer | None, *,
                      env_steps: int = 0) -> None:
    """Write the curriculum and replay states and the environment steps played so far into ``folder``
    (screenshots of replayed turns as PNG files)."""
    folder.mkdir(parents=True, exist_ok=True)
    images: list[Any] = []

    def encode(episode: Episode) -> dict[str, Any]:
        turns = []
        for t in episode.turns:
            names = []
            for img in t.images:
                names.append(f"{len(images):05d}.png")
                images.append(img)
            turns.append({"prompt_ids": t.prompt_ids, "completion_ids": t.completion_ids,
                          "logprobs": t.logprobs, "images": names})
        return {"task_id": episode.task_id, "seed": episode.seed, "success": episode.success,
                "reward": episode.reward, "status": episode.status, "num_steps": episode.num_steps, "turns": turns}

    state = {"curriculum": curriculum.state_dict(), "replay": replay.state_dict(encode) if replay is not None else None,
             "env_steps": int(env_steps)}
    if images:
        (folder / REPLAY_DIR).mkdir(exist_ok=True)
        for name, img in zip((f"{i:05d}.png" for i in range(len(images))), images):
            img.save(folder / REPLAY_DIR / name)
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, folder / STATE_FILE)


def load_online_state(folder: Path, curriculum: Curriculum, replay: ReplayBuffer | None) -> int | None:
    """Restore what :func:`save_online_state` wrote and return the environment steps it recorded (0 in a state
    written before they were); None when ``folder`` holds no state."""
    from PIL import Image

    path = folder / STATE_FILE
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    curriculum.load_state_dict(state.get("curriculum") or {})

    def decode(data: dict[str, Any]) -> Episode:
        turns = [TurnTokens(prompt_ids=t["prompt_ids"], completion_ids=t["completion_ids"], logprobs=t["logprobs"],
                            images=[Image.open(folder / REPLAY_DIR / n).convert("RGB") for n in t["images"]])
                 for t in data["turns"]]
        return Episode(task_id=data["task_id"], seed=data["seed"], turns=turns, success=data["success"],
                       reward=data["reward"], status=data["status"], num_steps=data["num_steps"], replayed=True)

    if replay is not None and state.get("replay"):
        replay.load_state_dict(state["replay"], decode)
    return int(state.get("env_steps", 0))


def open_slots(online: OnlineSpec, stack: ExitStack) -> list[Any]:
    """The stage's environment slots: an :class:`~cua.devices.pool.EnvPool` (process / ray) or LocalEnvs."""
    if online.backend == "local":
        slots = []
        for _ in range(online.pool_size):
            env = LocalEnv(online.env, dict(online.env_options))
            stack.callback(env.close)
            slots.append(env)
        return slots
    from cua.devices.pool import EnvPool

    pool = stack.enter_context(EnvPool(online.env, size=online.pool_size, backend=online.backend,
                                       device_options=dict(online.env_options), call_timeout=online.call_timeout))
    return list(pool.slots)


def online_dataset(max_steps: int, batch_size: int) -> Any:
    """trl's dataloader paces the updates: one placeholder row per sample slot (the episodes are live)."""
    from datasets import Dataset

    return Dataset.from_dict({"prompt": ["live episodes"] * max(1, max_steps) * batch_size})
