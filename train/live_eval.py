"""Held-out evaluation by LIVE episodes during training (issue 12's learning proof), as a trainer callback.

:func:`live_success` plays every (task, seed) of a held-out list once with the trainer's in-memory model
(greedy, :meth:`cua.policies.model.QwenVLPolicy.from_model` with the run's codec: the prompts online training
uses), through the one agent loop with one batched generate per step (:func:`cua.agent.run_episodes`) on
in-process environment slots (:class:`cua.train.rollout.LocalEnv`), and returns the share of episodes the task's
checker scores as solved. Held-out seeds start at :data:`cua.eval.live.HELD_OUT_SEED_START`; training and
demonstrations draw seeds below it.

:class:`LiveEval` runs it at a stage's start (``at_start``), every ``every`` steps and at the stage's end, for
the stages named in its ``stages`` mapping (a stage is recognised by its output folder), appends
``{"stage", "step", "eval/live_success", "live_eval/n", ...}`` to ``metrics.jsonl`` (drawn by ``cua plot``) and
``live_eval.jsonl``, and ends the stage (as ``max_steps`` would) once the success reaches ``stop_at``: the way
an SFT stage is "stopped early" in the 20-50% band. Run a recipe with it: :func:`train_with_live_eval`, or
``python -m cua.train.live_eval RECIPE --out DIR --stage sft=10:0.2 --stage online=25`` (``STAGE=EVERY[:STOP]``).

Not yet in the recipe schema: a recipe key that builds this callback (``live_eval:`` per stage) is the
runner's to add; until then this module's entry point passes it through ``cua.train.runner.train(callbacks=)``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from transformers import TrainerCallback

from cua.train.callbacks import METRICS_FILE

LIVE_FILE = "live_eval.jsonl"
DEFAULT_ENV = "web:about:blank"
DEFAULT_ENV_OPTIONS = {"viewport": "224x224"}


@dataclass(frozen=True, kw_only=True)
class LiveEvalSpec:
    """When to evaluate one stage: every ``every`` steps (0: start/end only), stop once success >= ``stop_at``."""

    every: int = 0
    stop_at: float | None = None
    at_start: bool = False


def held_out_jobs(tasks: Sequence[str], episodes: int, start: int | None = None) -> list[tuple[str, int]]:
    """``episodes`` held-out (task, seed) pairs, the tasks taking turns: seeds start, start + 1, ..."""
    from cua.eval.live import HELD_OUT_SEED_START

    first = HELD_OUT_SEED_START if start is None else start
    return [(tasks[i % len(tasks)], first + i // len(tasks)) for i in range(episodes)]


def live_success(model: Any, processor: Any, codec: str | None, jobs: Sequence[tuple[str, int]],
                 slots: Sequence[Any], *, max_new_tokens: int = 3, max_steps: int | None = None) -> dict[str, float]:
    """Play ``jobs`` greedily with ``model`` (module docstring); the metrics of :func:`play_held_out`."""
    from cua.policies.model import QwenVLPolicy

    policy = QwenVLPolicy.from_model(model, processor, codec=codec, max_new_tokens=max_new_tokens, sample=False,
                                     name="model:live-eval")
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
    from concurrent.futures import ThreadPoolExecutor

    from cua.agent import EpisodeJob, run_episodes
    from cua.trajectory import Trajectory
    from cua.train.rollout import _finish, _start

    solved = lost = invalid = steps = 0
    for i in range(0, len(jobs), len(slots)):
        wave = list(jobs[i:i + len(slots)])
        active = list(slots[:len(wave)])
        with ThreadPoolExecutor(max_workers=len(wave)) as ex:
            started = list(ex.map(_start, active, wave))
        run = [EpisodeJob(device=s.device, task=t, max_steps=max_steps)
               for s, t in zip(active, started) if not isinstance(t, Trajectory)]
        trajs = iter(run_episodes(run, policy)[0] if run else [])
        results = [t if isinstance(t, Trajectory) else next(trajs) for t in started]
        with ThreadPoolExecutor(max_workers=len(wave)) as ex:
            list(ex.map(_finish, active, started, results))
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
                 max_steps: int | None = None) -> None:
        self.run_dir, self.codec, self.stages = Path(run_dir), processor_codec, dict(stages)
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

    def run(self, model: Any, processor: Any, stage: str, step: int) -> dict[str, Any]:
        started = time.time()
        metrics = live_success(model, processor, self.codec, self.jobs, self.slots(),
                               max_new_tokens=self.max_new_tokens, max_steps=self.max_steps)
        record = {"stage": stage, "step": step, "time": time.time(), "live_eval/seconds": time.time() - started,
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
        if state.is_world_process_zero:
            record = self.run(model, processing_class, self._stage(args), state.global_step)
            if spec.stop_at is not None and record["eval/live_success"] >= spec.stop_at:
                control.should_training_stop = True

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                     **kwargs: Any) -> None:
        stage = self._stage(args)
        if stage in self.stages and state.is_world_process_zero:
            self.run(model, processing_class, stage, state.global_step)
        if stage == list(self.stages)[-1]:
            self.close()


def parse_stage(text: str) -> tuple[str, LiveEvalSpec]:
    """``STAGE=EVERY[:STOP]`` (``sft=10:0.2``) -> (stage, spec); evaluated at the stage's start too."""
    from cua.errors import ConfigError

    name, sep, rest = text.partition("=")
    every, _, stop = rest.partition(":")
    try:
        if not sep or not name:
            raise ValueError
        return name, LiveEvalSpec(every=int(every), stop_at=float(stop) if stop else None, at_start=True)
    except ValueError:
        raise ConfigError(f"--stage expects STAGE=EVERY[:STOP] (e.g. sft=10:0.2), got {text!r}") from None


def train_with_live_eval(recipe: Any, out: str | Path, stages: dict[str, LiveEvalSpec], *, tasks: Sequence[str],
                         resume: bool = False, **options: Any) -> Path:
    """Run ``recipe`` (a :class:`~cua.train.recipe.Recipe`) with a :class:`LiveEval` on ``stages``."""
    from cua.train.runner import train

    unknown = sorted(set(stages) - {s.name for s in recipe.stages})
    if unknown:
        from cua.errors import ConfigError

        raise ConfigError(f"live evaluation names unknown stage(s) {unknown}; the recipe's: "
                          f"{', '.join(s.name for s in recipe.stages)}")
    Path(out).mkdir(parents=True, exist_ok=True)
    callback = LiveEval(out, recipe.codec, stages, tasks=tasks, **options)
    try:
        return train(recipe, out, resume=resume, callbacks=[callback])
    finally:
        callback.close()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m cua.train.live_eval RECIPE --out DIR --stage NAME=EVERY[:STOP] ... [--set k=v ...]``."""
    import argparse

    from cua.train.recipe import load_recipe

    parser = argparse.ArgumentParser(prog="python -m cua.train.live_eval", description=main.__doc__)
    parser.add_argument("recipe")
    parser.add_argument("--out", required=True)
    parser.add_argument("--stage", action="append", default=[], help="STAGE=EVERY[:STOP], repeatable")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--tasks", default="button_chain.2", help="comma-separated held-out task ids")
    parser.add_argument("--episodes", type=int, default=100, help="held-out episodes per evaluation")
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--resume", action="store_true")
    ns = parser.parse_args(argv)
    recipe = load_recipe(ns.recipe, ns.overrides)
    stages = dict(parse_stage(s) for s in ns.stage)
    final = train_with_live_eval(recipe, ns.out, stages, tasks=ns.tasks.split(","), resume=ns.resume,
                                 episodes=ns.episodes, slots=ns.slots)
    print(f"final model: {final}")


if __name__ == "__main__":
    main()
