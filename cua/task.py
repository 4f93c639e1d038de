"""Tasks in AndroidWorld's TaskEval style: a goal template, seeded parameters, and a checker.

A task is built from parameters (``Task.from_seed(seed)`` draws them from a seeded RNG), sets the device up in
``initialize``, judges the end state in ``is_successful`` (0.0..1.0, read from app state, never from pixels
where state exists), and cleans up in ``tear_down``. ``max_steps`` is the step budget.

``TASKS`` is the one registry of task classes, filled by :func:`register_task`. Task modules outside the core
(the sandbox phone's, a plug-in's) are found through the ``cua.tasks`` entry-point group (pyproject
``[project.entry-points."cua.tasks"]``, value: a module that registers its tasks on import), loaded by
:func:`load_tasks` before a lookup. :func:`score_episode` is the one way an episode is scored.
"""

from __future__ import annotations

import random
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from cua.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from cua.trajectory import Trajectory

#: The entry-point group naming the modules that register tasks.
ENTRY_POINT_GROUP = "cua.tasks"

TASKS: dict[str, type["Task"]] = {}


def register_task(cls: type["Task"]) -> type["Task"]:
    if not cls.id:
        raise ValueError(f"{cls.__name__} has no id")
    TASKS[cls.id] = cls
    return cls


class Task:
    """Base class for tasks. Subclasses set the class attributes and override the hooks."""

    id: ClassVar[str] = ""
    template: ClassVar[str] = ""
    complexity: ClassVar[float] = 1.0
    #: Which device specs the task runs on (its checker reads their state).
    device_kind: ClassVar[str] = "sandbox"

    def __init__(self, params: dict[str, Any], *, seed: int | None = None) -> None:
        self.params = dict(params)
        self.seed = seed

    @classmethod
    def generate_params(cls, rng: random.Random) -> dict[str, Any]:
        """Draw the template's parameters from ``rng``."""
        return {}

    @classmethod
    def from_seed(cls, seed: int) -> "Task":
        return cls(cls.generate_params(random.Random(f"{cls.id}:{seed}")), seed=seed)

    @property
    def goal(self) -> str:
        return self.template.format(**self.params)

    @property
    def max_steps(self) -> int:
        """Step budget, as AndroidWorld: ``int(10 * complexity)``."""
        return max(1, int(10 * self.complexity))

    def initialize(self, device: Any) -> None:
        """Put the device in the task's start state."""

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        """Score the end state in [0, 1]; ``answer`` is the agent's last Answer text, if any."""
        raise NotImplementedError

    def tear_down(self, device: Any) -> None:
        """Undo anything ``initialize`` did outside the device's reset."""


def score_episode(task: Task, device: Any, trajectory: "Trajectory") -> float:
    """The task's score of a finished episode: ``task.is_successful`` on the device's end state, given the
    episode's last Answer (answer tasks are judged by it). The agent and the task reward both score this way."""
    return float(task.is_successful(device, answer=trajectory.answer))


def get_task(task_id: str) -> type[Task]:
    """The task class named ``task_id``; ConfigError listing the known ids otherwise."""
    load_tasks()
    try:
        return TASKS[task_id]
    except KeyError:
        raise ConfigError(f"unknown task {task_id!r}; known tasks: {', '.join(sorted(TASKS)) or '(none)'}") from None


_loaded: set[str] = set()


def load_tasks() -> None:
    """Import every module of the ``cua.tasks`` entry-point group once (each registers its tasks).

    A module that is named but missing from this install (e.g. an optional backend not packaged) is skipped;
    any other import error propagates."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value in _loaded:
            continue
        try:
            ep.load()
        except ModuleNotFoundError as exc:
            if not exc.name or not (ep.module == exc.name or ep.module.startswith(exc.name + ".")):
                raise
        _loaded.add(ep.value)
