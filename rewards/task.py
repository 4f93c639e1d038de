"""Task-level rewards for multi-turn episodes (Mobile-R1 stage 3 [arXiv 2506.20332]; ARPO's OSWorld score).

The episode reward is the Task's ``is_successful`` score (0..1, AndroidWorld ``TaskEval`` semantics) minus
``step_penalty`` per step and ``invalid_penalty`` per invalid step (unparsed or failed action); an episode
that ended on a format failure may be given ``format_failure`` instead (ARPO: -1). Pure: the live score
arrives as a column (``success``, ``num_steps``, ``invalid_steps``, ``format_failed``), computed by the
rollout with :func:`score_episode`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cua.rewards.registry import column, register
from cua.task import score_episode as task_score


@dataclass(frozen=True, kw_only=True)
class TaskReward:
    """Shaping of a task score into an episode reward (all penalties >= 0)."""

    step_penalty: float = 0.0
    invalid_penalty: float = 0.0
    format_failure: float | None = None

    def __call__(self, success: float, *, num_steps: int = 0, invalid_steps: int = 0,
                 format_failed: bool = False) -> float:
        """The episode reward; a non-finite or missing success counts as 0."""
        if format_failed and self.format_failure is not None:
            return float(self.format_failure)
        s = float(success) if success is not None and math.isfinite(float(success)) else 0.0
        return s - self.step_penalty * max(0, num_steps) - self.invalid_penalty * max(0, invalid_steps)

    def foresight(self, success: float, *, valid: bool, changed: bool, format_failed: bool = False,
                  progress: float = 0.5) -> float:
        """The execution feedback of ONE step, the low level's execution of one subgoal candidate (Hi-Agent's
        foresight, :mod:`cua.train.foresight`): ``format_failure`` for an unparseable answer when that is set;
        else ``max(success, progress if the step was valid and changed the screen else 0)`` minus
        ``invalid_penalty`` for an invalid step. ``success`` is the task's checker on the state after the step.
        ``step_penalty`` is not applied: every candidate takes one step, a shift the group normalisation removes.

        >>> shaping = TaskReward(invalid_penalty=0.5)
        >>> [shaping.foresight(s, valid=v, changed=c) for s, v, c in [(1.0, True, True), (0.0, True, True),
        ...                                                            (0.0, True, False), (0.0, False, False)]]
        [1.0, 0.5, 0.0, -0.5]
        """
        if format_failed and self.format_failure is not None:
            return float(self.format_failure)
        s = float(success) if success is not None and math.isfinite(float(success)) else 0.0
        return max(s, progress if valid and changed else 0.0) - (0.0 if valid else self.invalid_penalty)

    def reward_fn(self, name: str = "task"):
        """This shaping as a trl reward function reading the episode columns."""

        def fn(completions: list, **columns: Any) -> list:
            out = []
            for i in range(len(completions)):
                try:
                    out.append(self(column(columns, "success", i, 0.0) or 0.0,
                                    num_steps=int(column(columns, "num_steps", i, 0) or 0),
                                    invalid_steps=int(column(columns, "invalid_steps", i, 0) or 0),
                                    format_failed=bool(column(columns, "format_failed", i, False))))
                except (TypeError, ValueError):
                    out.append(0.0)
            return out

        fn.__name__ = name
        return fn


def score_episode(task: Any, device: Any, trajectory: Any, shaping: TaskReward = TaskReward()) -> float:
    """Episode reward from a live Task and a finished Trajectory: the agent's score of the episode
    (``trajectory.success`` when the agent scored it, else :func:`cua.task.score_episode`, which gives the
    checker the episode's answer), shaped by ``shaping``."""
    success = trajectory.success
    if success is None:
        success = task_score(task, device, trajectory)
    return shaping(success, num_steps=len(trajectory.steps), invalid_steps=trajectory.invalid_steps)


_plain = TaskReward().reward_fn("task")


@register("task")
def task(completions: list, **columns: Any) -> list:
    """The task score as reward (no shaping).

    >>> task(["a", "b"], success=[1.0, 0.0])
    [1.0, 0.0]
    >>> TaskReward(step_penalty=0.01, invalid_penalty=0.1)(1.0, num_steps=10, invalid_steps=1)
    0.8
    """
    return _plain(completions, **columns)
