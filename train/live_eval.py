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

from cua.train.callbacks import METRICS_FILE, rank_zero_decides, rank_zero_value
from cua.train.recipe import LiveEvalSpec, Recipe

LIVE_FILE = "live_eval.jsonl"
#: The key of a validation check's success (``keep_best``); a test check's is ``eval/live_success``.
VALIDATION_KEY = "eval/live_validation_success"
DEFAULT_ENV = "web:about:blank"
DEFAULT_ENV_OPTIONS = {"viewport": "224x224"}


def held_out_jobs(tasks: Sequence[str], episodes: int, start: int | None = None) -> list[tuple[str, int]]:
    """``episodes`` held-out (task, seed) pairs, the tasks taking turns: seeds start, start + 1, ..."""
    from cua.eval.live import HELD_OUT_SEED_START

    first = HELD_OUT_SEED_START if start is None else start
    return [(tasks[i % len(tasks)], first + i // len(tasks)) for i in range(episodes)]


def validation_jobs(test_jobs: Sequence[tuple[str, int]], tasks: Sequence[str], episodes: int) -> list[tuple[str, int]]:
    """``episodes`` (task, seed) pairs on the held-out seeds right after ``test_jobs``' last one: never trained
    on, never in the test, so choosing a model by them leaves the test score unbiased."""
    return held_out_jobs(tasks, episodes, max(seed for _, seed in test_jobs) + 1)


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
    (also at the end of the last stage named in ``stages``).

    A stage whose spec sets ``keep_best`` is checked on validation seeds (:func:`validation_jobs`) every
    ``every`` steps and at its last step; a check at least as good as every earlier one (a tie goes to the
    later, longer-trained model) is recorded in the trainer's state (``best_metric``, ``best_global_step``,
    ``best_model_checkpoint``) and saved as a checkpoint at that step, so transformers keeps it through
    checkpoint rotation and ``--resume``, and loads it at the end of training (``load_best_model_at_end``, which
    :func:`cua.train.stages.trl_args` sets). The end-of-stage check on the test episodes then plays that model
    and records its step as ``live_eval/model_step``."""

    def __init__(self, run_dir: str | Path, processor_codec: str, stages: dict[str, LiveEvalSpec], *,
                 tasks: Sequence[str], episodes: int = 100, seed_start: int | None = None, env: str = DEFAULT_ENV,
                 env_options: dict[str, Any] | None = None, slots: int = 4, max_new_tokens: int = 3,
                 max_steps: int | None = None, hierarchical: Sequence[str] = ()) -> None:
        self.run_dir, self.codec, self.stages = Path(run_dir), processor_codec, dict(stages)
        #: Stages evaluated with both of Hi-Agent's levels (the stages that train them).
        self.hierarchical = frozenset(hierarchical)
        self.tasks = list(tasks)
        self.jobs = held_out_jobs(self.tasks, episodes, seed_start)
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

    def run(self, model: Any, processor: Any, stage: str, step: int, n: int | None = None, *,
            validation: bool = False, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Play the first ``n`` held-out test jobs (all by default), or ``n`` validation jobs, and log the
        record (a validation check's success under :data:`VALIDATION_KEY`)."""
        started = time.time()
        jobs = validation_jobs(self.jobs, self.tasks, n or len(self.jobs)) if validation else self.jobs[:n]
        two_levels = stage in self.hierarchical
        metrics = live_success(model, processor, self.codec, jobs, self.slots(),
                               max_new_tokens=self.max_new_tokens, max_steps=self.max_steps, hierarchical=two_levels)
        if validation:
            metrics[VALIDATION_KEY] = metrics.pop("eval/live_success")
        record = {"stage": stage, "step": step, "time": time.time(), "live_eval/seconds": time.time() - started,
                  "live_eval/jobs": len(jobs), "live_eval/policy": "hierarchical" if two_levels else "model",
                  **metrics, **(extra or {})}
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
        if spec is None:
            return
        if spec.keep_best:
            self._validate(spec, args, state, control, model, processing_class)
            return
        if not spec.every or state.global_step % spec.every or state.global_step >= state.max_steps:
            return
        stop = False
        if state.is_world_process_zero:
            record = self.run(model, processing_class, self._stage(args), state.global_step, spec.every_n)
            stop = spec.stop_at is not None and record["eval/live_success"] >= spec.stop_at
        if spec.stop_at is not None and rank_zero_decides(stop):
            control.should_training_stop = True

    def _validate(self, spec: LiveEvalSpec, args: Any, state: Any, control: Any, model: Any, processor: Any) -> None:
        """``keep_best``: a validation check every ``every`` steps and at the last step; keep the best."""
        last = bool(control.should_training_stop) or state.global_step >= state.max_steps
        if not (last or state.global_step % spec.every == 0):
            return
        success = None
        if state.is_world_process_zero:
            record = self.run(model, processor, self._stage(args), state.global_step, spec.every_n, validation=True)
            success = record[VALIDATION_KEY]
        success = float(rank_zero_value(success))
        if state.best_metric is None or success >= state.best_metric:
            state.best_metric, state.best_global_step = success, state.global_step
            state.best_model_checkpoint = str(Path(args.output_dir) / f"checkpoint-{state.global_step}")
            control.should_save = True
        if spec.stop_at is not None and success >= spec.stop_at:
            control.should_training_stop = True

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                     **kwargs: Any) -> None:
        stage = self._stage(args)
        spec = self.stages.get(stage)
        tests = [r for r in self.records if "eval/live_success" in r]
        last = tests[-1] if tests else {}
        measured = (last.get("stage"), last.get("step"), last.get("live_eval/jobs")) == (
            stage, state.global_step, len(self.jobs))
        if spec is not None and state.is_world_process_zero and (spec.keep_best or not measured):
            # keep_best: train() loaded the best check's model; the record names its step.
            extra = {"live_eval/model_step": state.best_global_step or state.global_step} if spec.keep_best else None
            self.run(model, processing_class, stage, state.global_step, extra=extra)
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
