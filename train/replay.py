"""Experience replay of successful episodes (ARPO, dvlab-research/ARPO ``verl/trainer/replay_buffer.py`` and
``ray_trainer.py::apply_replay``).

Rule, as ARPO: every finished episode whose reward is above ``min_success`` (0.1) is stored in its task's
buffer (first in, first out, ``size`` per task: 8). A group whose rewards have a population standard deviation
below ``std_below`` (0.05) and a mean below ``mean_below`` (0.2) - all failed alike, no learning signal - gets
its FIRST rollout replaced by a stored success of the same task drawn at random; its advantages are then
computed over the mixed group. As in ARPO, the buffer is filled after the replacement (a group never replays
its own episodes), and it is filled with the rollouts as played (replayed copies are not stored again).

Log-probs: a replayed episode's turns are trained like fresh ones. The importance ratio's "old" log-probs are
recomputed under the CURRENT policy (ARPO recomputes ``old_log_probs`` over the whole batch after replay; trl
does the same when ``old_per_token_logps`` is absent), so the replayed turns start at ratio 1 and the
stored sampling log-probs are kept only for logging (``sampling_per_token_logps``). A replayed episode is
marked ``replayed`` and counted in the metrics.

State (:meth:`state_dict` / :meth:`load_state_dict`) is a JSON-able mapping of the stored episodes' training
records; it is written with every checkpoint (:mod:`cua.train.online`) and restored by ``--resume``.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

#: ARPO's constants (replay_buffer.py: score > 0.1, buffer 8; ray_trainer.py: std < 0.05 and mean < 0.2).
ARPO_MIN_SUCCESS = 0.1
ARPO_SIZE = 8
ARPO_STD_BELOW = 0.05
ARPO_MEAN_BELOW = 0.2


def population_std(values: list[float]) -> float:
    """``numpy.std`` (ddof 0), as ARPO's check uses."""
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5


@dataclass
class ReplayBuffer:
    """Per-task FIFO buffers of successful episodes (any object; see :meth:`add` / :meth:`maybe_replace`)."""

    size: int = ARPO_SIZE
    min_success: float = ARPO_MIN_SUCCESS
    std_below: float = ARPO_STD_BELOW
    mean_below: float = ARPO_MEAN_BELOW
    seed: int = 0
    buffers: dict[str, deque] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"replay buffer size must be >= 1, got {self.size}")
        self._rng = random.Random(self.seed)

    def add(self, task_id: str, episode: Any, reward: float) -> bool:
        """Store ``episode`` when ``reward`` > :attr:`min_success`; True when stored."""
        if reward <= self.min_success:
            return False
        self.buffers.setdefault(task_id, deque(maxlen=self.size)).append(episode)
        return True

    def needs_replay(self, rewards: list[float]) -> bool:
        """ARPO's trigger: rewards spread below ``std_below`` and mean below ``mean_below``."""
        return bool(rewards) and population_std(rewards) < self.std_below and (
            sum(rewards) / len(rewards) < self.mean_below)

    def draw(self, task_id: str) -> Any | None:
        """A stored success of ``task_id`` drawn uniformly (ARPO: ``random.choices``), or None."""
        stored = self.buffers.get(task_id)
        return self._rng.choice(list(stored)) if stored else None

    def maybe_replace(self, task_id: str, episodes: list[Any], rewards: list[float]) -> Any | None:
        """Apply the rule to one group in place: returns the replayed episode (now ``episodes[0]``) or None."""
        if not episodes or not self.needs_replay(rewards):
            return None
        stored = self.draw(task_id)
        if stored is not None:
            episodes[0] = stored
        return stored

    def __len__(self) -> int:
        return sum(len(b) for b in self.buffers.values())

    def state_dict(self, encode: Callable[[Any], Any] = lambda e: e) -> dict[str, Any]:
        """JSON-able state; ``encode`` turns one stored episode into JSON-able data."""
        return {"size": self.size, "rng": _rng_state(self._rng),
                "buffers": {t: [encode(e) for e in b] for t, b in self.buffers.items()}}

    def load_state_dict(self, state: dict[str, Any], decode: Callable[[Any], Any] = lambda e: e) -> None:
        self.buffers = {t: deque((decode(e) for e in items), maxlen=self.size)
                        for t, items in state.get("buffers", {}).items()}
        if state.get("rng") is not None:
            self._rng.setstate(_rng_restore(state["rng"]))


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_restore(data: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)
