"""Held-out evaluation by LIVE episodes during training (issue 12's learning proof), as a trainer callback.

:func:`live_success` plays every (task, seed) of a held-out list once with the trainer's in-memory model
(greedy, :meth:`cua.policies.model.QwenVLPolicy.from_model` with the run's codec: the prompts online training
uses; a stage that trains Hi-Agent's two levels, ``online.hierarchical``, is evaluated with both), through the
one agent loop with one batched generate per step (:func:`cua.agent.run_episodes`) on in-process environment
slots (:class:`cua.train.rollout.LocalEnv`), and returns the share of episodes the task's
checker scores as solved. Held-out seeds start at :data:`cua.eval.live.HELD_OUT_SEED_START`; training and
demonstrations draw seeds below it.

:class:`LiveEval` runs it at a stage's start (``at_start``), every ``every`` steps and at the stage's end, for
the stages named in its ``stages`` mapping (a stage is recognised by its output folder), appends
``{"stage", "step", "eval/live_success", "live_eval/n", "live_eval/jobs", ...}`` to ``metrics.jsonl`` (drawn by ``cua plot``) and
``live_eval.jsonl``, and ends the stage (as ``max_steps`` would) once the success reaches ``stop_at``: the way
an SFT stage is "stopped early" in the 20-50% band. Recipes ask for it with a recipe-level ``live_eval:``
(:class:`~cua.train.recipe.LiveEvalSetup`: tasks, episodes, env) and a ``live_eval:`` on each stage to score
(:class:`~cua.train.recipe.LiveEvalSpec`: every, stop_at, at_start); :func:`live_eval_callback` builds the
callback for :func:`cua.train.runner.train`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

from transformers import TrainerCallback

from cua.train.callbacks import METRICS_FILE, rank_zero_decides
from cua.train.recipe import LiveEvalSpec, Recipe

LIVE_FILE = "live_eval.jsonl"
DEFAULT_ENV = "web:about:blank"
DEFAULT_ENV_OPTIONS = {"viewport": "224x224"}


def held_out_jobs(tasks: Sequence[str], episodes: int, start: int | None = None) -> list[tuple[str, int]]:
    """``episodes`` held-out (task, seed) pairs, the tasks taking turns: seeds start, start + 1, ..."""
    from cua.eval.live import HELD_OUT_SEED_START

    first = HELD_OUT_SEED_START if start is None else start
    return [(tasks[i % len(tasks)], first + i // len(tasks)) for i in range(episodes)]


def live_success(model: Any, processor: Any, codec: str | None, jobs: Sequence[tuple[str, int]],
                 slots: Sequence[Any], *, max_new_tokens: int = 3, max_steps: int | None = None,
                 hierarchical: bool = False) -> dict[str, float]:
    """Play ``jobs`` greedily with ``model`` (module docstring); the metrics of :func:`play_held_out`.
    ``hierarchical``: both of Hi-Agent's levels play (:class:`~cua.policies.hierarchical.HierarchicalPolicy`
    over the model, as ``cua run --hierarchical`` and a hierarchical online stage do)."""
    from cua.policies.model import QwenVLPolicy

    policy: Any = QwenVLPolicy.from_model(model, processor, codec=codec, max_new_tokens=max_new_tokens,
                                          sample=False, name="model:live-eval")
    if hierarchical:
        from cua.policies.hierarchical import HierarchicalPolicy

        policy = HierarchicalPolicy(policy)
    was_training = model.training
    model.eval()
    try:
        return play_held_out(policy, jobs, slots, max_steps=max_steps)
    finally:
        model.train(was_training)


def play_held_out(policy: Any, jobs: Sequence[tuple[str, int]], slots: Sequence[Any], *,
                  max_steps: int | None = None) -> dict[str, float]:
    """Play each (task, seed) of ``jobs`` once with ``policy`` on ``slots`` (waves of ``len(slots)``, one
    batched propose per step); ``eval/live_success`` (solved / played, episodes lost to infrastructure left
    out), ``live_eval/n`` (played), ``live_eval/lost``, ``live_eval/invalid_rate`` (invalid steps / steps)."""
    from cua.train.rollout import play_wave

    solved = lost = invalid = steps = 0
    for i in range(0, len(jobs), len(slots)):
        wave = list(jobs[i:i + len(slots)])
        results, _ = play_wave(slots[:len(wave)], wave, policy, max_steps=max_steps)
        for traj in results:
            lost += traj.status == "infra_error"
            solved += traj.status != "infra_error" and (traj.success or 0.0) >= 1.0
            invalid += traj.invalid_steps
            steps += len(traj.steps)
    played = len(jobs) - lost
    return {"eval/live_success": solved / max(1, played), "live_eval/n": float(played),
            "live_eval/lost": float(lost), "live_eval/invalid_rate": invalid / max(1, steps)}


class LiveEval(TrainerCallback):
    """Live held-out evaluation for the stages in ``stages`` (see the module docstring).

    The slots (``slots`` in-process devices of ``env``) open at the first evaluation and close at :meth:`close`
    (also at the end of the last stage named in ``stages``)."""

    def __init__(self, run_dir: str | Path, processor_codec: str, stages: dict[str, LiveEvalSpec], *,
                 tasks: Sequence[str], episodes: int = 100, seed_start: int | None = None, env: str = DEFAULT_ENV,
                 env_options: dict[str, Any] | None = None, slots: int = 4, max_new_tokens: int = 3,
                 max_steps: int | None = None, hierarchical: Sequence[str] = ()) -> None:
        self.run_dir, self.codec, self.stages = Path(run_dir), processor_codec, dict(stages)
        #: Stages evaluated with both of Hi-Agent's levels (the stages that train them).
        self.hierarchical = frozenset(hierarchical)
        self.jobs = held_out_jobs(list(tasks), episodes, seed_start)
        self.env, self.env_options = env, dict(DEFAULT_ENV_OPTIONS if env_options is None else env_options)
        self.n_slots, self.max_new_tokens, self.max_steps = slots, max_new_tokens, max_steps
        self._slots: list[Any] = []
        self.records: list[dict[str, Any]] = []

    def _stage(self, args: Any) -> str:
        return Path(args.output_dir).name

    def slots(self) -> list[Any]:
        if not self._slots:
            from cua.train.rollout import LocalEnv

            self._slots = [LocalEnv(self.env, self.env_options) for _ in range(self.n_slots)]
        return self._slots

    def close(self) -> None:
        slots, self._slots = self._slots, []
        for slot in slots:
            slot.close()

    def run(self, model: Any, processor: Any, stage: str, step: int, n: int | None = None) -> dict[str, Any]:
        """Play the first ``n`` held-out jobs (all by default) and log the record."""
        started = time.time()
        jobs = self.jobs[:n]
        two_levels = stage in self.hierarchical
        metrics = live_success(model, processor, self.codec, jobs, self.slots(),
                               max_new_tokens=self.max_new_tokens, max_steps=self.max_steps, hierarchical=two_levels)
        record = {"stage": stage, "step": step, "time": time.time(), "live_eval/seconds": time.time() - started,
                  "live_eval/jobs": len(jobs), "live_eval/policy": "hierarchical" if two_levels else "model",
                  **metrics}
        self.records.append(record)
        for name in (METRICS_FILE, LIVE_FILE):
            with (self.run_dir / name).open("a") as fh:
                fh.write(json.dumps(record) + "\n")
        return record

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                       **kwargs: Any) -> None:
        spec = self.stages.get(self._stage(args))
        if spec is not None and spec.at_start and state.is_world_process_zero:
            self.run(model, processing_class, self._stage(args), state.global_step)

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                    **kwargs: Any) -> None:
        spec = self.stages.get(self._stage(args))
        if spec is None or not spec.every or state.global_step % spec.every or state.global_step >= state.max_steps:
            return
        stop = False
        if state.is_world_process_zero:
            record = self.run(model, processing_class, self._stage(args), state.global_step, spec.every_n)
            stop = spec.stop_at is not None and record["eval/live_success"] >= spec.stop_at
        if spec.stop_at is not None and rank_zero_decides(stop):
            control.should_training_stop = True

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                     **kwargs: Any) -> None:
        stage = self._stage(args)
        last = self.records[-1] if self.records else {}
        measured = (last.get("stage"), last.get("step"), last.get("live_eval/jobs")) == (
            stage, state.global_step, len(self.jobs))
        if stage in self.stages and state.is_world_process_zero and not measured:
            self.run(model, processing_class, stage, state.global_step)
        if stage == list(self.stages)[-1]:
            self.close()


def live_eval_callback(recipe: Recipe, run_dir: str | Path, codec: str | None = None) -> LiveEval | None:
    """The :class:`LiveEval` a recipe asks for (its ``live_eval:`` and its stages' ``live_eval:``), or None;
    ``codec`` is the run's (default: the recipe's)."""
    from cua.task import get_task

    setup = recipe.live_eval
    stages = {s.name: s.live_eval for s in recipe.stages if s.live_eval is not None}
    if setup is None or not stages:
        return None
    for task_id in setup.tasks:
        get_task(task_id)
    hierarchical = [s.name for s in recipe.stages if s.online is not None and s.online.hierarchical]
    return LiveEval(run_dir, codec or recipe.codec, stages, tasks=setup.tasks, episodes=setup.episodes,
                    seed_start=setup.seed_start, env=setup.env, env_options=dict(setup.env_options),
                    slots=setup.slots, max_steps=setup.max_steps,
                    max_new_tokens=setup.max_new_tokens or recipe.eval_max_new_tokens, hierarchical=hierarchical)
