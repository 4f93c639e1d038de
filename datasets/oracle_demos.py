"""Demonstrations from a task's oracle, played live on a real device: SFT data for online training.

``oracle_demos`` plays the ``oracle`` policy (the task's own ``expert``, :mod:`cua.policies.oracle`) on each
(task, seed) through :func:`cua.agent.run_task` on a device built from ``device`` (a spec such as
``web:about:blank`` with ``device_options={"viewport": "224x224"}``, or ``sandbox``), and records every step of
every successful episode as one :class:`~cua.datasets.schema.Sample`, exactly as a model policy sees that turn
in the same loop (:meth:`cua.policies.model.ModelPolicyBase.messages`): the step's screenshot, the task's goal
and the actions taken before it (``history``, in order); the target is the oracle's action. A click's ``bbox``
is the smallest clickable UI element holding the point (so held-out rows can be scored click-in-box).

Seeds: training seeds only by default (below :data:`cua.eval.live.HELD_OUT_SEED_START`); ``held_out=True``
plays held-out seeds instead (offline evaluation rows of held-out worlds, never training data). Episodes the
oracle fails (or that end in an infrastructure error) are skipped and counted in ``stats.skipped``; the run is
deterministic per (task, seed) because the tasks are. The Hugging Face wrapper caches by arguments, so a recipe
that names the same demos twice plays them once.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from cua.actions import Click
from cua.datasets.base import LoadStats, register_loader, to_hf
from cua.datasets.schema import Sample
from cua.errors import ConfigError

SOURCE = "oracle_demos"


def _seeds(n: int, start: int, held_out: bool) -> list[int]:
    from cua.eval.live import HELD_OUT_SEED_START

    if n < 1:
        raise ConfigError(f"oracle_demos needs n >= 1 seeds per task, got {n}")
    first = start + (HELD_OUT_SEED_START if held_out else 0)
    seeds = list(range(first, first + n))
    if not held_out and seeds[-1] >= HELD_OUT_SEED_START:
        raise ConfigError(f"oracle_demos training seeds must stay below {HELD_OUT_SEED_START} (held-out worlds); "
                          f"got {first}..{seeds[-1]}")
    return seeds


def _bbox(observation: Any, action: Any) -> list[float]:
    """The smallest clickable element of ``observation`` holding a click's point ([] for other actions)."""
    if not isinstance(action, Click):
        return []
    holding = [e.bounds for e in observation.elements or ()
               if e.clickable and e.bounds[0] <= action.x <= e.bounds[2] and e.bounds[1] <= action.y <= e.bounds[3]]
    if not holding:
        return []
    best = min(holding, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    return [float(v) for v in best]


def episode_samples(task_id: str, seed: int, traj: Any) -> list[Sample]:
    """One sample per recorded step of a finished oracle episode (see the module docstring)."""
    samples: list[Sample] = []
    for i, step in enumerate(traj.steps):
        obs = step.observation
        if obs is None or step.action is None:
            raise ValueError(f"{task_id} seed {seed}: step {i} has no observation or action")
        point = [float(step.action.x), float(step.action.y)] if isinstance(step.action, Click) else []
        samples.append(Sample(
            image=obs.image, width=obs.width, height=obs.height, goal=traj.goal, action=step.action,
            history=[s.action for s in traj.steps[:i]], bbox=_bbox(obs, step.action), point=point, source=SOURCE,
            episode_id=f"{task_id}-s{seed}", step_index=i,
            extra={"task": task_id, "seed": seed, "episode_steps": len(traj.steps)}))
    return samples


def iter_oracle_demos(tasks: Sequence[str] | str, n: int = 10, *, start: int = 0, held_out: bool = False,
                      device: str = "sandbox", device_options: dict[str, Any] | None = None,
                      max_steps: int | None = None, skip_bad: bool = True,
                      stats: LoadStats | None = None) -> Iterator[Sample]:
    """Samples of oracle episodes on seeds ``start .. start + n - 1`` of every task (module docstring)."""
    from cua.agent import run_task
    from cua.devices.registry import make_device
    from cua.policies.oracle import OraclePolicy
    from cua.task import get_task

    ids = [tasks] if isinstance(tasks, str) else list(tasks)
    classes = [get_task(t) for t in ids]
    seeds = _seeds(n, start, held_out)
    stats = stats if stats is not None else LoadStats()
    with make_device(device, **dict(device_options or {})) as dev:
        for task_id, cls in zip(ids, classes):
            for seed in seeds:
                task = cls.from_seed(seed)
                traj = run_task(dev, OraclePolicy(task), task, max_steps=max_steps)
                if traj.status == "infra_error" or (traj.success or 0.0) < 1.0:
                    message = f"{task_id} seed {seed}: the oracle's episode ended {traj.status} " \
                              f"(success {traj.success}): {traj.error or ''}"
                    if not skip_bad:
                        raise ConfigError(message)
                    stats.skip(message)
                    continue
                made = episode_samples(task_id, seed, traj)
                stats.samples += len(made)
                yield from made


@register_loader("oracle_demos", iter_oracle_demos)
def load_oracle_demos(tasks: Sequence[str] | str, n: int = 10, *, start: int = 0, held_out: bool = False,
                      device: str = "sandbox", device_options: dict[str, Any] | None = None,
                      max_steps: int | None = None, streaming: bool = False) -> Any:
    """Oracle demonstrations as a Hugging Face dataset (see the module docstring)."""
    from cua.task import get_task

    ids = [tasks] if isinstance(tasks, str) else list(tasks)
    for t in ids:
        get_task(t)
    _seeds(n, start, held_out)
    kwargs = dict(tasks=ids, n=n, start=start, held_out=held_out, device=device,
                  device_options=dict(device_options or {}), max_steps=max_steps)
    return to_hf(iter_oracle_demos, kwargs, streaming=streaming)
