"""Live evaluation: run (task, seed) episodes on a pool of devices, store each as it ends, resume after a kill.

A suite is a list of :class:`Job` s. :func:`run_live` opens a :class:`cua.devices.pool.EnvPool` of ``workers``
processes (each owns one device) and plays the jobs with ``EnvPool.run``: one parent thread per worker takes a
job, ``env.start(task, seed)`` (reset + initialize in the worker), plays it with the one agent loop
(:func:`cua.agent.run_episode`) through the worker's Device proxy and tears down; each finished episode is
appended at once to ``OUT/results.jsonl`` (:class:`ResultStore`), its trajectory is in
``OUT/episodes/<suite>/<task>-s<seed>/``. Policies stay in the parent: a policy with weights is built once and
shared by the threads behind a lock (:class:`SharedPolicy`; model policies keep no per-episode state); the
oracle is built per episode from the parent-side task (its expert reads only the observation).

Infra errors (the worker died, hung past ``call_timeout``, the device failed) restart that worker and retry the
episode up to ``retries`` times; then the episode is stored with ``infra_error: true`` and never counts as a
task failure. Resume: jobs whose id is already in the store are skipped; an episode cut by a kill has no record
and is played again from scratch (its folder is cleared first), so nothing is redone or duplicated.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from cua.errors import ConfigError
from cua.eval.store import ResultStore

EPISODES_DIR = "episodes"
#: What a run measures (suite, policy, model options, device, budgets); a resume must measure the same.
RUN_FILE = "run.json"
#: Evaluation seeds start here: ``cua eval sandbox --seeds N`` plays seeds HELD_OUT_SEED_START .. +N-1 of every
#: template. Training and demonstrations draw seeds below it (:func:`is_training_seed`), so no evaluated world
#: is trained on.
HELD_OUT_SEED_START = 1_000_000
DEFAULT_RETRIES = 2
DEFAULT_CALL_TIMEOUT = 120.0

#: Builds the policy of one episode from a parent-side task (the oracle needs it; model policies ignore it).
PolicyFactory = Callable[[Any], Any]


@dataclass(frozen=True)
class Job:
    """One episode to play: ``task`` (a registered task id) at ``seed``; ``sample`` repeats a (task, seed)."""

    suite: str
    task: str
    seed: int
    sample: int = 0

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.task}/{self.seed}" + (f"/{self.sample}" if self.sample else "")

    @property
    def folder(self) -> str:
        """The trajectory folder, relative to the run folder."""
        tail = f"-{self.sample}" if self.sample else ""
        return f"{EPISODES_DIR}/{self.suite}/{self.task}-s{self.seed}{tail}"


@dataclass(kw_only=True)
class LiveOptions:
    """How episodes are played: device spec, worker count, budgets, retries (see ``cua eval sandbox --help``)."""

    device: str = "sandbox"
    workers: int = 1
    device_options: dict[str, Any] = field(default_factory=dict)
    max_steps: int | None = None
    time_budget: float | None = None
    step_timeout: float | None = None
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    retries: int = DEFAULT_RETRIES
    #: A task score at or above this is a success (sandbox checkers return 0 or 1).
    success_threshold: float = 1.0
    #: Cap each episode's wall time at its task's ``time_limit`` (MiniWoB++: the page's own limit).
    use_task_time_limit: bool = False
    backend: str = "process"


def held_out_seeds(n: int, start: int = HELD_OUT_SEED_START) -> list[int]:
    """The first ``n`` held-out evaluation seeds."""
    if n < 1:
        raise ConfigError(f"--seeds must be >= 1, got {n}")
    return list(range(start, start + n))


def is_training_seed(seed: int) -> bool:
    """True for seeds training may use (below :data:`HELD_OUT_SEED_START`)."""
    return 0 <= seed < HELD_OUT_SEED_START


class SharedPolicy:
    """One policy object used by several episode threads: ``propose`` calls are serialised by a lock."""

    def __init__(self, policy: Any) -> None:
        self.policy, self.name = policy, getattr(policy, "name", type(policy).__name__)
        self._lock = threading.Lock()

    def reset(self, goal: str) -> None:
        """Model policies keep no per-episode state; the shared object is not reset per episode."""

    def propose(self, goal: str, observation: Any, history: Sequence[Any]) -> Any:
        with self._lock:
            return self.policy.propose(goal, observation, history)


def episode_record(job: Job, traj: Any, *, attempts: int, threshold: float) -> dict[str, Any]:
    """The stored line of one finished episode."""
    infra = traj.status == "infra_error"
    score = traj.success
    step_times = [sum(s.timings.values()) for s in traj.steps]
    return {
        "id": job.id, "suite": job.suite, "task": job.task, "seed": job.seed, "sample": job.sample,
        "success": bool(not infra and score is not None and score >= threshold),
        "reward": score, "steps": len(traj.steps), "invalid_steps": traj.invalid_steps,
        "infra_error": infra, "status": traj.status, "error": traj.error, "claimed": traj.claimed,
        "attempts": attempts, "seconds": round(traj.duration_s or 0.0, 3),
        "step_seconds": round(sum(step_times) / len(step_times), 4) if step_times else None,
        "trajectory": job.folder, "goal": traj.goal, "policy": traj.policy,
    }


def run_live(jobs: Sequence[Job], policy_factory: PolicyFactory, *, out_dir: str | Path, options: LiveOptions,
             on_record: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Play every job not yet stored in ``out_dir``; return all stored records (old and new), in file order.

    Jobs are played by :meth:`cua.devices.pool.EnvPool.run` (one parent thread per slot, infra retries);
    each record is appended the moment its episode ends.
    """
    from cua.devices.pool import EnvPool

    if options.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {options.workers}")
    out = Path(out_dir)
    with ResultStore(out) as store:
        todo = [j for j in _unique(jobs) if j.id not in store.done]
        if todo:
            for job in todo:  # a folder left by a killed run holds a partial episode: start it afresh
                if (out / job.folder).exists():
                    shutil.rmtree(out / job.folder)
            by_folder = {str(out / j.folder): j for j in todo}

            def on_result(result: Any) -> None:
                job = by_folder[str(result.job.out_dir)]
                record = episode_record(job, result.trajectory, attempts=result.attempts,
                                        threshold=options.success_threshold)
                store.add(record)
                if on_record is not None:
                    on_record(record)

            with EnvPool(options.device, size=min(options.workers, len(todo)), backend=options.backend,
                         device_options=options.device_options, call_timeout=options.call_timeout) as pool:
                for budget, group in _by_time_budget(todo, options):
                    pool.run([(j.task, j.seed, out / j.folder) for j in group], policy_factory,
                             on_result=on_result, max_retries=options.retries, max_steps=options.max_steps,
                             time_budget=budget, step_timeout=options.step_timeout)
        return list(store.records())


def check_run_settings(out_dir: str | Path, settings: dict[str, Any]) -> None:
    """Record ``settings`` in ``OUT/run.json``, or, resuming, refuse other settings (ConfigError naming them).

    Episodes of one run folder are pooled into one report, so they must all come from the same settings.
    """
    import json

    path = Path(out_dir) / RUN_FILE
    settings = json.loads(json.dumps(settings, default=str))
    if path.exists():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in set(before) | set(settings) if before.get(k) != settings.get(k))
        if changed:
            what = ", ".join(f"{k}: {before.get(k)!r} -> {settings.get(k)!r}" for k in changed)
            raise ConfigError(f"{out_dir} holds a run with other settings ({what}); resume with the same "
                              f"options or choose another --out")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2, sort_keys=True), encoding="utf-8")


def _unique(jobs: Sequence[Job]) -> list[Job]:
    seen: dict[str, Job] = {}
    for job in jobs:
        seen.setdefault(job.id, job)
    return list(seen.values())


def _by_time_budget(jobs: list[Job], options: LiveOptions) -> list[tuple[float | None, list[Job]]]:
    """Jobs grouped by wall-time budget (``--time-budget``, capped by each task's own limit when asked)."""
    from cua.task import get_task

    groups: dict[float | None, list[Job]] = {}
    for job in jobs:
        limit = None
        if options.use_task_time_limit:
            limit = getattr(get_task(job.task).from_seed(job.seed), "time_limit", None)
        budgets = [b for b in (options.time_budget, limit) if b is not None]
        groups.setdefault(min(budgets) if budgets else None, []).append(job)
    return list(groups.items())
