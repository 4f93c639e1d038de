"""Hi-Agent's foresight advantage in the online stage (``online.advantage: foresight``; Wu et al. 2025, Hi-Agent,
arXiv 2510.14388).

The paper (read here: its abstract, https://arxiv.org/abs/2510.14388, and a review of its method,
https://www.themoonlight.io/review/hi-agent-hierarchical-vision-language-agents-for-mobile-device-control; the
method section itself could not be read): a high-level reasoning model pi_h proposes a subgoal, a low-level action
model pi_l turns it into an action, both optimised jointly with GRPO. Multi-step decision-making is recast as a
sequence of single-step subgoal predictions: at a state, G subgoals are sampled and each is scored by the low
level's execution feedback on it (the "foresight"), so training needs n * G samples for an n-step task instead
of the G ** n paths of GRPO over whole episodes, and no critic (no value function is learnt). A secondary summary
says a reward model judges completion from visual feedback.

What cua computes, for each group (task, seed) of a plan, with G = ``group_size`` environment slots:

1. A **trunk** episode advances one state at a time. At state t (the trunk's first t recorded steps), each of the
   G slots starts the task with the group's seed and replays the trunk's t recorded actions
   (:func:`cua.agent.run_episode`'s ``prefix``: cua devices have no snapshots; tasks are seeded, so the same
   actions reproduce the state), then plays ONE live step of the hierarchical policy: one batched high-level
   generate gives the G subgoal candidates, one batched low-level generate their actions (every group of the
   wave in the same two generates), and each slot executes its candidate's action. After the step each slot's
   task checker scores the state (the branch is scored as an episode) and its screen is read.
2. **Branch check**: a branch's screen before its live step must hash to the trunk's screen of that state
   (:func:`cua.train.credit.screen_anchor` of the screen read after the chosen candidate's step; at t = 0 the
   anchor most of the branches agree on). A branch that differs, or whose replay failed
   (:class:`~cua.errors.ReplayDiverged`), is **lost** (``Rollout.diverged``, ``online/diverged_branches``), as
   is one lost to infrastructure; a state keeps its surviving candidates and is trained when at least two survive.
3. **Feedback** of a candidate (:meth:`cua.rewards.task.TaskReward.foresight`): the task checker's score after
   its step, or ``online.foresight_progress`` when the step was valid and changed the screen without solving the
   task, else 0; an invalid step loses ``invalid_penalty``; an unparseable answer gets ``format_failure`` when set.
4. **Advantage**: the feedback normalised over the state's surviving candidates
   (:func:`cua.rewards.advantages.foresight_advantages`, GRPO's scaled rule, one execution per candidate). Both
   turns of a candidate (its subgoal, its action) get it: the (subgoal, action) pair is what the feedback judges,
   so both levels of the one model are trained jointly in the same update.
5. The trunk goes on with the **best** candidate (highest feedback, the first among equals); it ends as any
   episode does: a Terminate, an ``end_on`` error, or the step budget (``max_episode_steps`` or the task's).
   The trunk's checker score is the group's success (curriculum, ``online/success``).

Departures from the paper, forced by the devices or by what could be read: the feedback is the task checker plus
a screen-change progress term (no learnt or judge reward model); one low-level execution per candidate (the
existing pure function accepts several); the trunk continues greedily with the best candidate; one model plays
both levels (:mod:`cua.policies.hierarchical`). Cost per group of an n-step trunk: G * n live steps (generates)
and G * n (n + 1) / 2 executed actions with the replays (``online/env_steps``), G * n task starts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Collection, Sequence

from cua.errors import ConfigError, DeviceError, ReplayDiverged
from cua.rewards.advantages import foresight_advantages
from cua.rewards.task import TaskReward
from cua.task import get_task
from cua.train.credit import screen_anchor
from cua.train.rollout import LOST_STATUSES, Episode, Group, Rollout, play_wave, step_turns, to_episode
from cua.trajectory import Step, Trajectory


@dataclass
class Trunk:
    """One group's trunk while it is played: its recorded steps, the anchor the next replays must reproduce,
    and the scored candidates of its states so far."""

    task_id: str
    seed: int
    slots: list[Any]
    budget: int
    steps: list[Step] = field(default_factory=list)
    expected: str | None = None
    candidates: list[Episode] = field(default_factory=list)
    advantages: list[float] = field(default_factory=list)
    lost: int = 0
    diverged: int = 0
    final: Trajectory | None = None
    done: bool = False
    cut: bool = False


class ForesightRoller:
    """Plays plans of (task, seed) groups with foresight candidates (see the module docstring); the
    :class:`~cua.train.rollout.Roller` interface: ``collect(plan) -> Rollout``."""

    def __init__(self, slots: Sequence[Any], policy: Any, *, group_size: int, max_episode_steps: int | None = None,
                 reward: TaskReward = TaskReward(), progress: float = 0.5, step_timeout: float | None = None,
                 end_on: Collection[str] = ()) -> None:
        if group_size < 2:
            raise ConfigError(f"group_size must be >= 2 (foresight compares G candidates), got {group_size}")
        if len(slots) < group_size:
            raise ConfigError(f"foresight executes the {group_size} candidates of a state together: it needs at "
                              f"least group_size slots, got {len(slots)}")
        self.slots, self.policy, self.group_size = list(slots), policy, group_size
        self.max_episode_steps, self.reward, self.progress = max_episode_steps, reward, progress
        self.step_timeout, self.end_on = step_timeout, tuple(end_on)

    def collect(self, plan: Sequence[tuple[str, int]]) -> Rollout:
        """Play every (task, seed) of ``plan`` as a trunk with G candidates per state; score the candidates."""
        out = Rollout(groups=[])
        per_wave = len(self.slots) // self.group_size
        g = self.group_size
        for start in range(0, len(plan), per_wave):
            trunks = [Trunk(task_id=t, seed=s, slots=self.slots[i * g:(i + 1) * g], budget=self._budget(t, s))
                      for i, (t, s) in enumerate(plan[start:start + per_wave])]
            while live := [t for t in trunks if not t.done]:
                self._step(live, out)
            out.groups += [self._group(t, out) for t in trunks]
        return out

    def _budget(self, task_id: str, seed: int) -> int:
        if self.max_episode_steps is not None:
            return self.max_episode_steps
        return get_task(task_id).from_seed(seed).max_steps

    def _step(self, live: list[Trunk], out: Rollout) -> None:
        """One state of every live trunk: G branches each, played together in one wave."""
        g = self.group_size
        ends: dict[int, str | None] = {}

        def read_end(slot: Any, traj: Trajectory) -> None:  # a failure makes the branch lost, its slot restarted
            if traj.status in LOST_STATUSES:
                return
            try:
                ends[id(traj)] = screen_anchor(slot.device.observe(timeout=self.step_timeout))
            except DeviceError as exc:
                traj.finish("infra_error", error=f"reading the end screen failed: {type(exc).__name__}: {exc}")

        results, batcher = play_wave(
            [s for t in live for s in t.slots], [(t.task_id, t.seed) for t in live for _ in range(g)], self.policy,
            max_steps=[len(t.steps) + 1 for t in live for _ in range(g)], step_timeout=self.step_timeout,
            end_on=self.end_on, prefixes=[t.steps for t in live for _ in range(g)], after=read_end)
        out.add_wave(results, batcher)
        for i, trunk in enumerate(live):
            self._advance(trunk, results[i * g:(i + 1) * g], ends)

    def _advance(self, trunk: Trunk, branches: list[Trajectory], ends: dict[int, str | None]) -> None:
        """Check the branches of one state, score the survivors, continue the trunk with the best."""
        t = len(trunk.steps)
        alive: list[tuple[Trajectory, str | None, str | None]] = []
        for traj in branches:
            if traj.status in LOST_STATUSES or len(traj.steps) <= t or ends.get(id(traj)) is None:
                trunk.lost += 1
                trunk.diverged += int((traj.error or "").startswith(ReplayDiverged.__name__))
                continue
            alive.append((traj, screen_anchor(traj.steps[t].observation), ends[id(traj)]))
        reference = trunk.expected
        if reference is None and alive:
            reference = Counter(before for _, before, _ in alive).most_common(1)[0][0]
        kept = [b for b in alive if b[1] == reference]
        trunk.lost += len(alive) - len(kept)
        trunk.diverged += len(alive) - len(kept)
        if not kept:  # every branch of this state was lost: the trunk cannot go on
            trunk.done = trunk.cut = True
            return
        feedback = [self._feedback(traj.steps[t], traj, before != after) for traj, before, after in kept]
        if len(kept) >= 2:
            high, _ = foresight_advantages([[f] for f in feedback])
            for (traj, _, _), f, a in zip(kept, feedback, high):
                turns, anchors = step_turns(traj.steps[t])
                trunk.candidates.append(Episode(
                    task_id=trunk.task_id, seed=trunk.seed, turns=turns, success=float(traj.success or 0.0),
                    reward=f, status=traj.status, num_steps=1, anchors=anchors))
                trunk.advantages.append(a)
        best = max(range(len(kept)), key=lambda i: feedback[i])
        chosen, _, after = kept[best]
        trunk.steps, trunk.expected, trunk.final = list(chosen.steps), after, chosen
        trunk.done = chosen.status != "max_steps" or len(chosen.steps) >= trunk.budget

    def _feedback(self, step: Step, traj: Trajectory, changed: bool) -> float:
        return self.reward.foresight(float(traj.success or 0.0), valid=step.valid, changed=changed,
                                     format_failed=step.error_kind == "parse", progress=self.progress)

    def _group(self, trunk: Trunk, out: Rollout) -> Group:
        if trunk.final is None:
            played = Episode(task_id=trunk.task_id, seed=trunk.seed, turns=[], success=0.0, reward=0.0,
                             status="infra_error", num_steps=0)
        else:
            played = to_episode(trunk.task_id, trunk.seed, trunk.final, self.reward)
            if trunk.cut:
                played.status = "infra_error"
        group = Group(task_id=trunk.task_id, seed=trunk.seed, episodes=trunk.candidates, lost=trunk.lost,
                      advantages=trunk.advantages, trunk=played,
                      turn_advantages=[[a] * len(e.turns) for e, a in zip(trunk.candidates, trunk.advantages)])
        out.lost_episodes += trunk.lost
        out.diverged += trunk.diverged
        out.dropped_groups += group.dropped
        return group
