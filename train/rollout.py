"""Rollouts for online RL: groups of G live episodes of one task and seed, scored by the task, with advantages.

Trajectory GRPO (Mobile-R1 stage 3 [arXiv 2506.20332]; ARPO, dvlab-research/ARPO): for each (task, seed) of a
plan, G episodes are played through the environment slots (:class:`cua.devices.pool.EnvPool` slots, or
:class:`LocalEnv` in-process) with the ONE agent loop, all live episodes stepped together
(:func:`cua.agent.run_episodes`: one batched generate per step). Each episode's reward is the task-level reward
(:class:`cua.rewards.task.TaskReward`: the task's checker with the episode's answer, optional step and invalid
penalties, ARPO's -1 for a format failure) and the group-normalised episode advantage
(:func:`cua.rewards.advantages.grpo_advantages` over the group) is given to every turn of the episode.

An episode lost to an infrastructure failure (``infra_error``: a worker died, a call timed out, set-up failed)
leaves its group: the advantage is computed over the survivors, its slot is restarted, and a group left with
fewer than two episodes is dropped (``Rollout.dropped_groups``). Replay (:mod:`cua.train.replay`) may swap one
rollout of an all-failed group for a stored success before advantages are computed.

Advantages are pluggable: ``ADVANTAGES[name](rewards) -> per-episode advantages`` (``grpo``: scaled by the
group's std, ``grpo_unscaled``: Dr. GRPO's mean-only form); a ``step_advantage(group)`` function (issue 13,
:mod:`cua.train.credit`: GiGPO) gives each turn its own advantage instead (``Group.turn_advantages``). A
hierarchical policy's steps give two turns each, the subgoal's and the action's (both levels trained). Hi-Agent's
foresight advantage plays its groups as a trunk with candidate branches per state
(:class:`cua.train.foresight.ForesightRoller`, through :func:`play_wave` with replayed prefixes).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Sequence

from cua.agent import EpisodeJob, run_episodes
from cua.errors import ConfigError, DeviceError
from cua.policies.hierarchical import SUBGOAL_TOKENS_KEY
from cua.policies.model import TOKENS_KEY, TurnTokens
from cua.rewards.advantages import grpo_advantages
from cua.rewards.task import TaskReward
from cua.threads import map_in_threads
from cua.trajectory import Step, Trajectory

AdvantageFn = Callable[[list[float]], list[float]]
#: Trajectory statuses of an episode lost to infrastructure (:attr:`Episode.lost`).
LOST_STATUSES: tuple[str, ...] = ("infra_error", "crashed")

ADVANTAGES: dict[str, AdvantageFn] = {
    "grpo": lambda rewards: grpo_advantages(rewards, len(rewards), scale=True),
    "grpo_unscaled": lambda rewards: grpo_advantages(rewards, len(rewards), scale=False),
}


@dataclass
class Episode:
    """One played episode as training sees it: its turns (token records), task score and shaped reward."""

    task_id: str
    seed: int
    turns: list[TurnTokens]
    success: float
    reward: float
    status: str
    num_steps: int
    replayed: bool = False
    trajectory: Trajectory | None = field(default=None, repr=False)
    #: The anchor state of each turn (:func:`cua.train.credit.screen_anchor`), for step-level groups.
    anchors: list[str | None] = field(default_factory=list)

    @property
    def lost(self) -> bool:
        """Lost to infrastructure (not a task failure): it leaves its group."""
        return self.status in LOST_STATUSES


@dataclass
class Group:
    """The G episodes of one (task, seed); ``episodes`` are the survivors (with any replayed one)."""

    task_id: str
    seed: int
    episodes: list[Episode]
    lost: int = 0
    advantages: list[float] = field(default_factory=list)
    replayed: bool = False
    #: Per episode, the advantage of each of its turns (the episode's advantage on every turn unless a step
    #: advantage is set).
    turn_advantages: list[list[float]] = field(default_factory=list)
    #: Foresight groups (:mod:`cua.train.foresight`): the episode played with the chosen candidates; ``episodes``
    #: are then the scored candidates of its states (one step each).
    trunk: Episode | None = None

    @property
    def dropped(self) -> bool:
        return len(self.episodes) < 2

    @property
    def played(self) -> list[Episode]:
        """The episodes played for this task and seed: the foresight trunk (none when it was lost), else the
        episodes not replayed."""
        if self.trunk is not None:
            return [] if self.trunk.lost else [self.trunk]
        return [e for e in self.episodes if not e.replayed]

    @property
    def mean_success(self) -> float:
        played = [e.success for e in self.played]
        return sum(played) / len(played) if played else 0.0


def episode_reward(shaping: TaskReward, traj: Trajectory) -> float:
    """The task-level reward of a finished trajectory, through the reward's trl-signature function."""
    fn = shaping.reward_fn()
    format_failed = any(s.error_kind == "parse" for s in traj.steps)
    return fn([traj.answer or ""], success=[traj.success or 0.0], num_steps=[len(traj.steps)],
              invalid_steps=[traj.invalid_steps], format_failed=[format_failed])[0]


def step_turns(step: Step) -> tuple[list[TurnTokens], list[str | None]]:
    """The trained turns of one step (a hierarchical policy's subgoal turn, then the action turn) and the
    anchor state of each (``high:``/``low:`` + :func:`~cua.train.credit.screen_anchor`)."""
    from cua.train.credit import screen_anchor

    anchor = screen_anchor(step.observation)
    turns: list[TurnTokens] = []
    anchors: list[str | None] = []
    for level, key in (("high", SUBGOAL_TOKENS_KEY), ("low", TOKENS_KEY)):
        if isinstance(step.info.get(key), TurnTokens):
            turns.append(step.info[key])
            anchors.append(None if anchor is None else f"{level}:{anchor}")
    return turns, anchors


def to_episode(task_id: str, seed: int, traj: Trajectory, shaping: TaskReward) -> Episode:
    turns: list[TurnTokens] = []
    anchors: list[str | None] = []
    for s in traj.steps:
        more, keys = step_turns(s)
        turns += more
        anchors += keys
    return Episode(task_id=task_id, seed=seed, turns=turns, success=float(traj.success or 0.0),
                   reward=episode_reward(shaping, traj), status=traj.status, num_steps=len(traj.steps),
                   trajectory=traj, anchors=anchors)


class LocalEnv:
    """An in-process environment slot with :class:`~cua.devices.pool.PooledEnv`'s interface (``start``,
    ``device``, ``restart``, ``alive``). The device is built, and every call to it runs, on the slot's own
    thread (Playwright-backed devices only accept calls from the thread that created them)."""

    def __init__(self, spec: str, options: dict[str, Any] | None = None) -> None:
        self.spec, self.options = spec, dict(options or {})
        self._exec = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cua-local-{spec}")
        self._device: Any = None
        self.device = _ThreadBound(self)
        self._run(self._build)

    @property
    def alive(self) -> bool:
        return self._device is not None

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._exec.submit(fn, *args, **kwargs).result()

    def _build(self) -> None:
        from cua.devices.registry import make_device

        self._device = make_device(self.spec, **self.options)

    def start(self, task: Any, seed: int | None = None) -> Any:
        from cua.task import get_task

        def go() -> Any:
            obj = get_task(task).from_seed(0 if seed is None else seed) if isinstance(task, str) else task
            self._device.reset(seed=obj.seed if seed is None else seed)
            obj.initialize(self._device)
            return _LocalTask(obj, self)

        return self._run(go)

    def restart(self) -> None:
        def go() -> None:
            try:
                if self._device is not None:
                    self._device.close()
            finally:
                self._device = None
                self._build()

        self._run(go)

    def close(self) -> None:
        def go() -> None:
            if self._device is not None:
                self._device.close()
                self._device = None

        try:
            self._run(go)
        finally:
            self._exec.shutdown(wait=True)


class _ThreadBound:
    """The Device view of a :class:`LocalEnv`: every call marshalled onto the slot's thread."""

    def __init__(self, env: LocalEnv) -> None:
        self._env = env

    @property
    def spec(self) -> str:
        return self._env.spec

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._env._device, name)
        if not callable(attr):
            return attr
        return lambda *a, **k: self._env._run(attr, *a, **k)


class _LocalTask:
    """A task whose checker and tear-down run on its slot's thread, against the slot's device."""

    def __init__(self, task: Any, env: LocalEnv) -> None:
        self._task, self._env = task, env

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return self._env._run(self._task.is_successful, self._env._device, answer=answer)

    def tear_down(self, device: Any) -> None:
        self._env._run(self._task.tear_down, self._env._device)


@dataclass
class Rollout:
    """What one call of :meth:`Roller.collect` produced, with its counters."""

    groups: list[Group]
    dropped_groups: int = 0
    lost_episodes: int = 0
    replayed: int = 0
    batches: list[int] = field(default_factory=list)
    generation_s: float = 0.0
    #: Steps the devices went through (replayed prefixes included).
    env_steps: int = 0
    #: Foresight branches whose replay did not reproduce the trunk's screen (counted in ``lost_episodes`` too).
    diverged: int = 0

    @property
    def trained(self) -> list[Group]:
        return [g for g in self.groups if not g.dropped]

    def add_wave(self, trajectories: Sequence[Trajectory], batcher: Any) -> None:
        """Count one :func:`play_wave`'s environment steps, batch sizes and generation time."""
        self.env_steps += sum(len(t.steps) for t in trajectories)
        if batcher is not None:
            self.batches += batcher.batches
            self.generation_s += sum(batcher.seconds)


class Roller:
    """Plays plans of (task, seed) groups on ``slots`` with ``policy`` (see the module docstring)."""

    def __init__(
        self, slots: Sequence[Any], policy: Any, *, group_size: int, max_episode_steps: int | None = None,
        reward: TaskReward = TaskReward(), advantage: str = "grpo", replay: Any = None,
        step_timeout: float | None = None, step_advantage: Callable[[Group], list[list[float]]] | None = None,
        end_on: Collection[str] = (),
    ) -> None:
        if group_size < 2:
            raise ConfigError(f"group_size must be >= 2 (GRPO needs a group), got {group_size}")
        if advantage not in ADVANTAGES:
            raise ConfigError(f"unknown advantage {advantage!r}; valid: {', '.join(sorted(ADVANTAGES))}")
        self.slots, self.policy = list(slots), policy
        self.group_size, self.max_episode_steps = group_size, max_episode_steps
        self.reward, self.advantage, self.replay = reward, ADVANTAGES[advantage], replay
        self.step_timeout, self.end_on = step_timeout, tuple(end_on)
        self.step_advantage = step_advantage

    def collect(self, plan: Sequence[tuple[str, int]]) -> Rollout:
        """Play every (task, seed) of ``plan`` ``group_size`` times; group, replay, score advantages."""
        jobs = [(t, s) for t, s in plan for _ in range(self.group_size)]
        played: list[Episode] = []
        out = Rollout(groups=[])
        for start in range(0, len(jobs), len(self.slots)):
            wave = jobs[start:start + len(self.slots)]
            played += self._wave(wave, out)
        for g, (task_id, seed) in enumerate(plan):
            members = played[g * self.group_size:(g + 1) * self.group_size]
            out.groups.append(self._group(task_id, seed, members, out))
        return out

    def _group(self, task_id: str, seed: int, members: list[Episode], out: Rollout) -> Group:
        survivors = [e for e in members if not e.lost]
        group = Group(task_id=task_id, seed=seed, episodes=list(survivors), lost=len(members) - len(survivors))
        out.lost_episodes += group.lost
        if group.dropped:
            out.dropped_groups += 1
            return group
        if self.replay is not None:
            stored = self.replay.maybe_replace(task_id, group.episodes, [e.reward for e in group.episodes])
            if stored is not None:
                group.episodes[0] = _as_replayed(stored)
                group.replayed = True
                out.replayed += 1
            for e in survivors:
                self.replay.add(task_id, _as_replayed(e), e.reward)
        group.advantages = list(self.advantage([e.reward for e in group.episodes]))
        group.turn_advantages = (self.step_advantage(group) if self.step_advantage is not None else
                                 [[a] * len(e.turns) for e, a in zip(group.episodes, group.advantages)])
        return group

    def _wave(self, wave: list[tuple[str, int]], out: Rollout) -> list[Episode]:
        results, batcher = play_wave(self.slots[:len(wave)], wave, self.policy, max_steps=self.max_episode_steps,
                                     step_timeout=self.step_timeout, end_on=self.end_on)
        out.add_wave(results, batcher)
        return [to_episode(t, s, traj, self.reward) for (t, s), traj in zip(wave, results)]


def play_wave(slots: Sequence[Any], wave: Sequence[tuple[str, int]], policy: Any, *,
              max_steps: int | Sequence[int | None] | None = None, step_timeout: float | None = None,
              end_on: Collection[str] = (), prefixes: Sequence[Sequence[Step]] | None = None,
              after: Callable[[Any, Trajectory], None] | None = None) -> tuple[list[Trajectory], Any]:
    """Play one episode of each (task, seed) of ``wave`` on ``slots[i]``, all together through the one agent
    loop (:func:`cua.agent.run_episodes`: one batched propose per step). Set-up failures become ``infra_error``
    trajectories; every task is torn down and every slot that failed is restarted. ``max_steps`` is one budget
    for all or one per episode; ``prefixes[i]``, when given, is replayed before episode i's first live step
    (:func:`cua.agent.run_episode`'s ``prefix``); ``after(slot, trajectory)`` runs for every started episode
    before its task is torn down (to read the end state). Returns the trajectories (in wave order) and the
    :class:`~cua.agent.BatchedPolicy` (None when no episode could start)."""
    pairs = list(zip(slots, wave))
    limits = list(max_steps) if isinstance(max_steps, Sequence) else [max_steps] * len(pairs)
    paths = list(prefixes) if prefixes is not None else [()] * len(pairs)
    if len(limits) != len(pairs) or len(paths) != len(pairs):
        raise ConfigError("play_wave: one max_steps and one prefix per episode of the wave")
    started = map_in_threads(lambda pair: _start(*pair), pairs, name="cua-task-start")
    jobs = [EpisodeJob(device=slot.device, task=task, max_steps=limit, end_on=tuple(end_on), prefix=tuple(path))
            for slot, task, limit, path in zip(slots, started, limits, paths) if not isinstance(task, Trajectory)]
    trajs: list[Trajectory] = []
    batcher = None
    if jobs:
        trajs, batcher = run_episodes(jobs, policy, step_timeout=step_timeout)
    it = iter(trajs)
    results = [task if isinstance(task, Trajectory) else next(it) for task in started]
    map_in_threads(lambda item: _finish(*item, after=after), list(zip(slots, started, results)),
                   name="cua-task-finish")
    return results, batcher


def _start(slot: Any, job: tuple[str, int]) -> Any:
    """``slot.start(task, seed)``; a DeviceError becomes an ``infra_error`` trajectory (slot restarted later)."""
    task_id, seed = job
    try:
        return slot.start(task_id, seed)
    except DeviceError as exc:
        traj = Trajectory(goal="", task_id=task_id, seed=seed, device=str(getattr(slot.device, "spec", "")))
        traj.finish("infra_error", error=f"setup failed: {type(exc).__name__}: {exc}")
        return traj


def _finish(slot: Any, task: Any, traj: Trajectory, *,
            after: Callable[[Any, Trajectory], None] | None = None) -> None:
    """``after`` (if any), then tear the task down (DeviceError ignored) and restart the slot after an
    infrastructure failure."""
    if not isinstance(task, Trajectory):
        if after is not None:
            after(slot, traj)
        try:
            task.tear_down(slot.device)
        except DeviceError:
            pass
    if traj.status == "infra_error" or not slot.alive:
        slot.restart()


def _as_replayed(episode: Episode) -> Episode:
    return Episode(task_id=episode.task_id, seed=episode.seed, turns=episode.turns, success=episode.success,
                   reward=episode.reward, status=episode.status, num_steps=episode.num_steps, replayed=True,
                   anchors=list(episode.anchors))
