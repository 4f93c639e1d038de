"""Playing a list of episodes across an :class:`~cua.devices.pool.EnvPool`'s slots, with infra retries.

:func:`run_jobs` (``EnvPool.run``) starts one thread per slot in the parent; each takes the next job, calls
``env.start(task_id, seed)``, builds the policy with ``make_policy(task)``, plays
:func:`cua.agent.run_episode` on ``env.device`` and tears the task down. An episode that ends ``infra_error``
(a worker died, hung past its budget, or could not set the task up) kills the slot's worker and is played
again on a fresh one (a slot's worker is restarted when the slot's next attempt begins), at most ``max_retries`` more times; if every attempt failed so, its result says ``infra_failure`` (an
infrastructure failure, never a task failure). Any other exception (a policy bug, a ConfigError) stops the run:
the slots finish their current episode and the first exception is re-raised.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from cua.agent import run_episode
from cua.errors import ConfigError, DeviceError
from cua.trajectory import Trajectory

if TYPE_CHECKING:  # pragma: no cover
    from cua.devices.pool import EnvPool, PooledEnv
    from cua.policy import Policy
    from cua.task import Task


@dataclass(frozen=True)
class Job:
    """One episode to play: a task id and a seed; ``out_dir`` is its trajectory folder (a retry rewrites it)."""

    task_id: str
    seed: int
    out_dir: str | Path | None = None


@dataclass
class EpisodeResult:
    """How a job ended: the last attempt's trajectory, the number of attempts, and the slot that played it.

    ``infra_failure`` is True when every attempt ended ``infra_error``.
    """

    job: Job
    trajectory: Trajectory
    attempts: int
    slot: int
    infra_failure: bool = False

    @property
    def success(self) -> float | None:
        return self.trajectory.success


def as_job(job: "Job | tuple[Any, ...]") -> Job:
    if isinstance(job, Job):
        return job
    try:
        return Job(*job)
    except TypeError:
        raise ConfigError(f"a pool job is a Job or a (task_id, seed[, out_dir]) tuple, got {job!r}") from None


def run_jobs(
    pool: "EnvPool",
    jobs: "Iterable[Job | tuple[Any, ...]]",
    make_policy: "Callable[[Task], Policy]",
    *,
    on_result: "Callable[[EpisodeResult], None] | None" = None,
    max_retries: int = 1,
    **episode_kwargs: Any,
) -> list[EpisodeResult]:
    """Play every job on ``pool``; results in job order. See the module docstring.

    ``make_policy(task)`` is called for every attempt, in the slot's thread, with the parent-side task; it may
    return one shared policy when that policy is safe to call from several threads. ``on_result`` is called
    (one call at a time) as each job ends. ``episode_kwargs`` (``max_steps``, ``time_budget``,
    ``step_timeout``, ``on_step``) go to :func:`~cua.agent.run_episode`.
    """
    if not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigError(f"max_retries must be an int >= 0, got {max_retries!r}")
    todo = deque(enumerate(as_job(job) for job in jobs))
    results: list[EpisodeResult | None] = [None] * len(todo)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def slot_loop(env: "PooledEnv") -> None:
        while not failures:
            with lock:
                if not todo:
                    return
                index, job = todo.popleft()
            try:
                result = play(env, job, make_policy, max_retries, episode_kwargs)
                with lock:
                    results[index] = result
                    if on_result is not None:
                        on_result(result)
            except BaseException as exc:
                failures.append(exc)
                return

    threads = [threading.Thread(target=slot_loop, args=(env,), name=f"cua-pool-slot-{env.index}", daemon=True)
               for env in pool.slots]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)  # short joins keep Ctrl-C responsive
    except BaseException as exc:
        failures.append(exc)
        raise
    if failures:
        raise failures[0]
    return [r for r in results if r is not None]


def play(
    env: "PooledEnv", job: Job, make_policy: "Callable[[Task], Policy]", max_retries: int,
    episode_kwargs: dict[str, Any],
) -> EpisodeResult:
    """Play ``job`` on ``env``, retrying infra errors (restarting the worker) at most ``max_retries`` times."""
    attempts = 0
    while True:
        attempts += 1
        traj = attempt(env, job, make_policy, episode_kwargs)
        if traj.status != "infra_error":
            return EpisodeResult(job, traj, attempts, env.index)
        env.kill()  # its device may be broken even if it still answers; the next attempt brings a fresh one
        if attempts > max_retries:
            return EpisodeResult(job, traj, attempts, env.index, infra_failure=True)


def attempt(env: "PooledEnv", job: Job, make_policy: "Callable[[Task], Policy]",
            episode_kwargs: dict[str, Any]) -> Trajectory:
    """One attempt: (re)start the slot's worker if it is down, start the task in it, run the episode in this
    thread, tear the task down."""
    try:
        if not env.alive:
            env.restart()
        task = env.start(job.task_id, job.seed)
    except DeviceError as exc:
        return setup_failed(env, job, exc)
    policy = make_policy(task)
    try:
        return run_episode(env.device, policy, task=task, out_dir=job.out_dir, **episode_kwargs)
    finally:
        try:
            task.tear_down(env.device)
        except DeviceError:
            pass


def setup_failed(env: "PooledEnv", job: Job, exc: DeviceError) -> Trajectory:
    """The ``infra_error`` trajectory (no steps) of an attempt whose set-up failed, as ``run_task`` records it."""
    from cua.task import get_task

    task = get_task(job.task_id).from_seed(job.seed)
    traj = Trajectory(goal=task.goal, task_id=task.id, seed=job.seed, params=dict(task.params),
                      device=env.device.spec, policy="", max_steps=task.max_steps,
                      out_dir=Path(job.out_dir) if job.out_dir is not None else None)
    traj.begin()
    traj.finish("infra_error", error=f"setup failed: {type(exc).__name__}: {exc}")
    return traj


__all__ = ["EpisodeResult", "Job", "as_job", "attempt", "play", "run_jobs"]
