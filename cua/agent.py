"""The one agent loop: observe -> propose -> act -> record. It serves ``cua run``, evaluation and online RL.

:func:`run_episode` is a plain function with no global state; callers watch progress through ``on_step``.

Contract:
- The step budget counts every step, valid or not. The wall-clock budget is checked before each step (a step
  that started in time finishes). ``step_timeout`` is passed to each device call (observe, execute); policy
  calls are not interrupted.
- An invalid step (the proposal did not parse, or propose/execute raised an :class:`~cua.errors.ActionError`:
  parse error, out of bounds, denied, unsupported) is recorded with its error and the loop goes on, unless its
  kind is in ``end_on`` (ARPO ends an episode on a format failure: ``end_on={"parse"}``): then the episode
  ends as ``ended_on_error`` (and is still scored).
- A :class:`~cua.errors.DeviceError` ends the episode as ``infra_error``; the trajectory is kept and saved.
- ``Terminate`` ends the episode (status ``terminated``). ``Answer`` and ``Terminate`` are handled by the
  agent and never sent to the device; the last Answer's text goes to ``task.is_successful(device, answer=...)``.
- A proposal without an action is an invalid step of the kind it carries (:attr:`Proposal.error_kind`:
  ``parse``, ``out_of_bounds``, ``unsupported``); an ActionError raised is recorded as its ``kind``.
- A step whose execute result is ``redacted`` (the safety gate saw a password field) has its secret removed
  (:meth:`cua.trajectory.Step.record_result`) before it is recorded anywhere.
- With a task, the episode is scored by :func:`cua.task.score_episode` (the one scoring path, with the answer).
- Any other exception (a bug in a policy or backend, a ConfigError) is saved as ``crashed`` and re-raised.
- ``prefix`` (recorded steps of an earlier play of the same task and seed, on a device started the same way):
  their actions are re-executed first, without calling the policy, and the steps join the trajectory as the
  history the policy sees; the loop then goes on from step ``len(prefix)`` (the step budget counts them). This
  branches a live state on devices without snapshots (:mod:`cua.train.foresight`); a recorded valid action that
  now fails raises :class:`~cua.errors.ReplayDiverged` (``infra_error``). Whether the replay reproduced the
  recorded screen is the caller's check (the next step's observation is in the trajectory).

:func:`run_episodes` plays many episodes together through this same loop: one thread per episode, one
batched propose per step for every live episode (online RL, live evaluation).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection, Sequence

from cua.actions import Answer, Terminate, check_bounds
from cua.device import Device
from cua.errors import ActionError, DeviceError, ReplayDiverged
from cua.policy import Policy, Proposal
from cua.task import score_episode
from cua.threads import map_in_threads
from cua.trajectory import Step, Trajectory

if TYPE_CHECKING:  # pragma: no cover
    from cua.task import Task

DEFAULT_MAX_STEPS = 20

OnStep = Callable[[Step, Trajectory], None]


def run_episode(
    device: Device,
    policy: Policy,
    goal: str | None = None,
    *,
    task: "Task | None" = None,
    max_steps: int | None = None,
    time_budget: float | None = None,
    step_timeout: float | None = None,
    out_dir: str | Path | None = None,
    on_step: OnStep | None = None,
    end_on: Collection[str] = (),
    prefix: Sequence[Step] = (),
) -> Trajectory:
    """Run one episode of ``policy`` on ``device`` toward ``goal`` (default: ``task.goal``).

    The device is used as it is (no reset: see :func:`run_task`). ``max_steps`` defaults to ``task.max_steps``
    or :data:`DEFAULT_MAX_STEPS`; ``time_budget`` is in seconds (None: no limit). With ``out_dir`` the
    trajectory is written step by step. ``on_step(step, trajectory)`` runs after each recorded step. An
    invalid step whose error kind is in ``end_on`` ends the episode (status ``ended_on_error``). ``prefix``:
    recorded steps re-executed before the first live step (see the module docstring). Returns the finished
    trajectory. ActionError and DeviceError never escape; anything else (a bug, a
    ConfigError, KeyboardInterrupt) is saved as ``crashed`` and re-raised.
    """
    if goal is None:
        if task is None:
            raise ValueError("run_episode needs a goal or a task")
        goal = task.goal
    if max_steps is None:
        max_steps = task.max_steps if task is not None else DEFAULT_MAX_STEPS
    traj = Trajectory(
        goal=goal, task_id=getattr(task, "id", None), seed=getattr(task, "seed", None),
        params=dict(getattr(task, "params", {}) or {}), device=str(getattr(device, "spec", "")),
        policy=str(getattr(policy, "name", type(policy).__name__)), max_steps=max_steps,
        out_dir=Path(out_dir) if out_dir is not None else None,
    )
    traj.begin()
    start = time.monotonic()
    status, error = "max_steps", None
    try:
        policy.reset(goal)
        _replay(device, prefix, traj, step_timeout)
        for index in range(len(prefix), max_steps):
            if time_budget is not None and time.monotonic() - start >= time_budget:
                status = "time_budget"
                break
            if _one_step(device, policy, goal, traj, index, step_timeout, on_step):
                status = "terminated"
                break
            if traj.steps[-1].error_kind in end_on:
                status = "ended_on_error"
                break
        if task is not None:
            traj.success = score_episode(task, device, traj)
    except DeviceError as exc:
        status, error = "infra_error", f"{type(exc).__name__}: {exc}"
    except BaseException as exc:
        traj.finish("crashed", error=f"{type(exc).__name__}: {exc}")
        raise
    traj.finish(status, error=error)
    return traj


def _replay(device: Device, prefix: Sequence[Step], traj: Trajectory, step_timeout: float | None) -> None:
    """Re-execute the valid device actions of ``prefix`` and add copies of its steps to ``traj``."""
    for recorded in prefix:
        action = recorded.action
        if isinstance(action, Answer):
            traj.answer = action.text
        elif isinstance(action, Terminate):
            raise ValueError("a replayed prefix cannot hold a Terminate step (the episode ended there)")
        elif recorded.info.get("redacted"):
            raise ReplayDiverged(f"step {recorded.index} typed a redacted secret: it cannot be replayed")
        elif action is not None and recorded.error_kind is None:
            try:
                device.execute(action, timeout=step_timeout)
            except ActionError as exc:
                raise ReplayDiverged(f"replaying step {recorded.index} ({action.describe()}) failed: {exc}") from None
        traj.add(dataclasses.replace(recorded, info=dict(recorded.info)))


def _one_step(
    device: Device, policy: Policy, goal: str, traj: Trajectory, index: int,
    step_timeout: float | None, on_step: OnStep | None,
) -> bool:
    """Run and record one step; True when the episode ends (Terminate). DeviceError propagates, recorded."""
    step = Step(index=index)
    t0 = time.perf_counter()
    try:
        obs = device.observe(timeout=step_timeout)
        step.observation = obs
        step.obs = {"width": obs.width, "height": obs.height, "scale": obs.scale, "app": obs.app, "url": obs.url}
        t1 = time.perf_counter()
        step.timings["observe"] = t1 - t0
        ended = _propose_and_act(device, policy, goal, traj, step, step_timeout, t1)
    except DeviceError as exc:
        step.error_kind, step.error = "device", f"{type(exc).__name__}: {exc}"
        _record(traj, step, on_step)
        raise
    except BaseException as exc:
        step.error_kind, step.error = "crash", f"{type(exc).__name__}: {exc}"
        _record(traj, step, on_step)
        raise
    _record(traj, step, on_step)
    return ended


def _propose_and_act(
    device: Device, policy: Policy, goal: str, traj: Trajectory, step: Step,
    step_timeout: float | None, t1: float,
) -> bool:
    assert step.observation is not None
    try:
        proposal: Proposal = policy.propose(goal, step.observation, traj.steps)
    except ActionError as exc:
        step.timings["propose"] = time.perf_counter() - t1
        step.error_kind, step.error = exc.kind, str(exc)
        return False
    t2 = time.perf_counter()
    step.timings["propose"] = t2 - t1
    step.text, step.action, step.info = proposal.text, proposal.action, dict(proposal.info)
    action = proposal.action
    if action is None:
        step.error_kind, step.error = proposal.error_kind, proposal.error or "the proposal holds no action"
        return False
    if isinstance(action, Terminate):
        traj.claimed = action.status
        return True
    if isinstance(action, Answer):
        traj.answer = action.text
        return False
    try:
        check_bounds(action, step.observation.width, step.observation.height)
        result = device.execute(action, timeout=step_timeout)
        step.record_result(result)
    except ActionError as exc:
        step.error_kind, step.error = exc.kind, str(exc)
    finally:
        step.timings["execute"] = time.perf_counter() - t2
    return False


def _record(traj: Trajectory, step: Step, on_step: OnStep | None) -> None:
    traj.add(step)
    if on_step is not None:
        on_step(step, traj)


def run_task(
    device: Device,
    policy: Policy,
    task: "Task",
    *,
    seed: int | None = None,
    **kwargs: object,
) -> Trajectory:
    """Reset ``device`` (``seed``, default ``task.seed``), ``task.initialize`` it, run the episode, tear down.

    A DeviceError while setting up gives an ``infra_error`` trajectory with no steps (saved when ``out_dir``
    is given). Keyword arguments go to :func:`run_episode`.
    """
    seed = task.seed if seed is None else seed
    try:
        device.reset(seed=seed)
        task.initialize(device)
    except DeviceError as exc:
        out_dir = kwargs.get("out_dir")
        traj = Trajectory(
            goal=task.goal, task_id=task.id, seed=seed, params=dict(task.params),
            device=str(getattr(device, "spec", "")), policy=str(getattr(policy, "name", "")),
            out_dir=Path(out_dir) if out_dir is not None else None,  # type: ignore[arg-type]
        )
        traj.begin()
        traj.finish("infra_error", error=f"setup failed: {type(exc).__name__}: {exc}")
        return traj
    try:
        return run_episode(device, policy, task=task, **kwargs)  # type: ignore[arg-type]
    finally:
        try:
            task.tear_down(device)
        except DeviceError:
            pass


# --- Many live episodes stepped together (online RL, live evaluation) --------------------------------------------
# Each episode runs the ONE loop above (run_episode) in its own thread; a BatchedPolicy gathers the proposals the
# live episodes ask for into one batched propose per step. Observe and execute therefore run in parallel (one
# thread per episode; the devices must accept calls from that thread: pool proxies do), and a policy with
# ``propose_batch`` (cua.policies.model.QwenVLPolicy) generates for every live episode in one call.


@dataclass(kw_only=True)
class EpisodeJob:
    """One episode for :func:`run_episodes`: a device and a task (or a bare goal), with run_episode's options."""

    device: Device
    task: "Task | None" = None
    goal: str | None = None
    max_steps: int | None = None
    out_dir: str | Path | None = None
    end_on: Collection[str] = ()
    prefix: Sequence[Step] = ()


class BatchedPolicy:
    """Wraps a policy so that concurrent ``propose`` calls from ``live`` episode threads become ONE batch.

    A step's batch is complete when every live episode is waiting for its proposal; the thread that completes
    it (the last to ask, or the last episode to leave) runs ``policy.propose_batch(requests)`` (or ``propose``
    for each request when the policy has no batched form) and hands every waiting thread its proposal.
    ``batches`` records the size of each batch, ``seconds`` how long each took.
    """

    def __init__(self, policy: Policy, live: int) -> None:
        self.policy, self.live = policy, live
        self.name = str(getattr(policy, "name", type(policy).__name__))
        self.batches: list[int] = []
        self.seconds: list[float] = []
        self._cond = threading.Condition()
        self._pending: list[tuple[tuple[str, Any, Any], dict[str, Any]]] = []

    def reset(self, goal: str) -> None:
        self.policy.reset(goal)

    def propose(self, goal: str, observation: Any, history: Any) -> Proposal:
        slot: dict[str, Any] = {}
        with self._cond:
            self._pending.append(((goal, observation, list(history)), slot))
            self._flush_if_complete()
            while "out" not in slot and "exc" not in slot:
                self._cond.wait()
        if "exc" in slot:
            raise slot["exc"]
        return slot["out"]

    def leave(self) -> None:
        """An episode ended: it no longer takes part in the batches."""
        with self._cond:
            self.live -= 1
            self._flush_if_complete()

    def _flush_if_complete(self) -> None:
        if not self._pending or len(self._pending) < self.live:
            return
        batch, self._pending = self._pending, []
        self.batches.append(len(batch))
        requests = [req for req, _ in batch]
        t0 = time.perf_counter()
        try:
            batched = getattr(self.policy, "propose_batch", None)
            outs = batched(requests) if batched is not None else [self.policy.propose(*r) for r in requests]
            for (_, slot), out in zip(batch, outs):
                slot["out"] = out
        except BaseException as exc:  # every waiting episode sees the failure (recorded by its own loop)
            for _, slot in batch:
                slot["exc"] = exc
        self.seconds.append(time.perf_counter() - t0)
        self._cond.notify_all()


def run_episodes(
    jobs: Sequence[EpisodeJob],
    policy: Policy,
    *,
    time_budget: float | None = None,
    step_timeout: float | None = None,
    on_step: OnStep | None = None,
) -> tuple[list[Trajectory], BatchedPolicy]:
    """Play ``jobs`` together: one thread per episode runs :func:`run_episode`; one batched propose per step.

    Returns the trajectories (in job order) and the :class:`BatchedPolicy` (its ``batches`` list the batch
    size of every step). Failures are per episode, as in :func:`run_episode` (an infrastructure failure ends
    only that episode as ``infra_error``); an unexpected exception ends its episode as ``crashed`` and is
    re-raised here once every episode has finished.
    """
    batcher = BatchedPolicy(policy, live=len(jobs))

    def play(job: EpisodeJob) -> Trajectory:
        try:
            return run_episode(job.device, batcher, job.goal, task=job.task, max_steps=job.max_steps,
                               time_budget=time_budget, step_timeout=step_timeout, out_dir=job.out_dir,
                               on_step=on_step, end_on=job.end_on, prefix=job.prefix)
        finally:
            batcher.leave()

    return map_in_threads(play, jobs, name="cua-episode"), batcher
