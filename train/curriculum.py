"""Curriculum task scheduling for online RL (CRAFT-GUI [arXiv 2508.11360]; ARPO's task selection).

Per task, a running success rate ``p`` over its last ``window`` group means (each group: the mean task score of
its G episodes). Difficulty, as used here:

    difficulty(task) = 1 - p                      once the task has been played
                     = prior(task) before that    (its step budget: complexity / max complexity of the set)

Sampling weight of a task: ``floor + 4 p (1 - p)`` - the reward-spread term is largest at p = 0.5 (a group
there has the most variance, hence GRPO signal) and zero for tasks always or never solved, which keep the
small ``floor`` so they are revisited. Easy to hard: a task is *unlocked* only when every task easier than it
(by difficulty prior) has been played at least ``warmup`` times, so training starts on the easiest tasks and
widens; all tasks are unlocked after that. With ``enabled=False`` tasks are drawn uniformly (the ablation).

Draws are deterministic given (``seed``, ``step``, ``rank``): no RNG state needs saving. The state
(:meth:`state_dict`) is the per-task history; it is logged per task in ``metrics.jsonl``
(``curriculum/<task>/success``, ``.../weight``) and written with every checkpoint.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

DEFAULT_WINDOW = 8
DEFAULT_FLOOR = 0.1
DEFAULT_WARMUP = 1


@dataclass
class Curriculum:
    """Task scheduler (see the module docstring). ``priors`` map task id -> difficulty prior in [0, 1]."""

    tasks: Sequence[str]
    priors: Mapping[str, float] = field(default_factory=dict)
    window: int = DEFAULT_WINDOW
    floor: float = DEFAULT_FLOOR
    warmup: int = DEFAULT_WARMUP
    enabled: bool = True
    seed: int = 0
    history: dict[str, deque] = field(default_factory=dict)
    plays: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError("a curriculum needs at least one task")
        self.tasks = list(self.tasks)
        for t in self.tasks:
            self.history.setdefault(t, deque(maxlen=self.window))
            self.plays.setdefault(t, 0)

    def success(self, task: str) -> float | None:
        """Running success rate of ``task`` (None before it was played)."""
        h = self.history[task]
        return sum(h) / len(h) if h else None

    def difficulty(self, task: str) -> float:
        p = self.success(task)
        return 1.0 - p if p is not None else float(self.priors.get(task, 0.5))

    def unlocked(self) -> list[str]:
        """Tasks open for drawing: in prior order, up to and including the first not yet warmed up."""
        if not self.enabled:
            return list(self.tasks)
        out = []
        for t in sorted(self.tasks, key=lambda t: (self.priors.get(t, 0.5), self.tasks.index(t))):
            out.append(t)
            if self.plays[t] < self.warmup:
                break
        return out

    def weight(self, task: str) -> float:
        if not self.enabled:
            return 1.0
        if task not in self.unlocked():
            return 0.0
        p = self.success(task)
        return self.floor + (1.0 if p is None else 4.0 * p * (1.0 - p))

    def draw(self, n: int, *, step: int, rank: int = 0) -> list[str]:
        """``n`` task ids for one update (weighted, with replacement), deterministic in (seed, step, rank)."""
        rng = random.Random(f"{self.seed}:{step}:{rank}")
        tasks = self.tasks if not self.enabled else self.unlocked()
        weights = [self.weight(t) for t in tasks]
        return rng.choices(tasks, weights=weights, k=n)

    def update(self, task: str, group_mean: float) -> None:
        """Record one finished group of ``task`` (its mean task score, 0..1)."""
        self.history[task].append(float(group_mean))
        self.plays[task] += 1

    def metrics(self) -> dict[str, float]:
        """Per-task state for metrics.jsonl: running success (-1 before any play), weight, plays."""
        out: dict[str, float] = {}
        for t in self.tasks:
            p = self.success(t)
            out[f"curriculum/{t}/success"] = -1.0 if p is None else round(p, 4)
            out[f"curriculum/{t}/weight"] = round(self.weight(t), 4)
            out[f"curriculum/{t}/plays"] = float(self.plays[t])
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"history": {t: list(h) for t, h in self.history.items()}, "plays": dict(self.plays)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for t, values in state.get("history", {}).items():
            if t in self.history:
                self.history[t] = deque(values, maxlen=self.window)
        for t, n in state.get("plays", {}).items():
            if t in self.plays:
                self.plays[t] = int(n)


def complexity_priors(task_ids: Sequence[str]) -> dict[str, float]:
    """Difficulty priors from the tasks' declared complexity (AndroidWorld: step budget = 10 x complexity),
    scaled so the most complex task of the set is 1."""
    from cua.task import get_task

    values = {t: float(getattr(get_task(t), "complexity", 1.0)) for t in task_ids}
    top = max(values.values()) or 1.0
    return {t: v / top for t, v in values.items()}
