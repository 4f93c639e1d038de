"""Many live episodes stepped together: one batched propose per step, device calls in parallel threads."""

from __future__ import annotations

import threading
from typing import Any, Sequence

import pytest
import torch

from cua.actions import Click, Terminate
from cua.agent import EpisodeJob, run_episodes
from cua.errors import DeviceDisconnected
from cua.policies.model import TOKENS_KEY, QwenVLPolicy
from cua.policy import Proposal

from unit.fakes import ClickTask, MemoryDevice


class CountingPolicy:
    """Clicks until the goal's count is reached, then terminates; records every batch it is asked for."""

    name = "counting"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def reset(self, goal: str) -> None:
        pass

    def propose(self, goal: str, observation: Any, history: Sequence[Any]) -> Proposal:
        raise AssertionError("the batched form must be used")

    def propose_batch(self, requests: Sequence[tuple[str, Any, Any]]) -> list[Proposal]:
        self.batches.append([goal for goal, _, _ in requests])
        out = []
        for goal, _, history in requests:
            n = int(goal.split()[1])
            action = Click(x=5, y=5) if len(history) < n else Terminate()
            out.append(Proposal(text=action.kind, action=action))
        return out


def test_live_episodes_share_one_propose_per_step() -> None:
    tasks = [ClickTask({"n": n}, seed=i) for i, n in enumerate([1, 3, 2, 3])]
    devices = [MemoryDevice() for _ in tasks]
    policy = CountingPolicy()
    trajs, batcher = run_episodes([EpisodeJob(device=d, task=t) for d, t in zip(devices, tasks)], policy)
    # Step k proposes for every episode still live: 4, 4, 3 (n=1 done), 2 (n=2 done) then the n=3 ones end.
    assert batcher.batches == [4, 4, 3, 2]
    assert [len(b) for b in policy.batches] == [4, 4, 3, 2]
    assert [t.success for t in trajs] == [1.0, 1.0, 1.0, 1.0]
    assert [len(t.steps) for t in trajs] == [2, 4, 3, 4]
    assert all(t.status == "terminated" for t in trajs)


def test_a_lost_device_ends_only_its_episode() -> None:
    tasks = [ClickTask({"n": 3}, seed=i) for i in range(3)]
    devices = [MemoryDevice(), MemoryDevice(fail_observe_at=1), MemoryDevice()]
    trajs, batcher = run_episodes([EpisodeJob(device=d, task=t) for d, t in zip(devices, tasks)], CountingPolicy())
    assert [t.status for t in trajs] == ["terminated", "infra_error", "terminated"]
    assert trajs[1].steps[-1].error_kind == "device" and trajs[0].success == 1.0
    assert batcher.batches == [3, 2, 2, 2]


class BarrierDevice(MemoryDevice):
    """Observes only when all its peers observe at the same time (proves the calls run in parallel)."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def observe(self, *, timeout: float | None = None) -> Any:
        self.barrier.wait(timeout=10)
        return super().observe(timeout=timeout)


def test_devices_are_observed_in_parallel() -> None:
    barrier = threading.Barrier(3)
    jobs = [EpisodeJob(device=BarrierDevice(barrier), task=ClickTask({"n": 2}, seed=i)) for i in range(3)]
    trajs, _ = run_episodes(jobs, CountingPolicy())
    assert all(t.status == "terminated" and t.success == 1.0 for t in trajs)


def test_a_policy_bug_is_raised_after_every_episode_ended() -> None:
    class Broken(CountingPolicy):
        def propose_batch(self, requests: Sequence[Any]) -> list[Proposal]:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        run_episodes([EpisodeJob(device=MemoryDevice(), goal="click 2 times") for _ in range(2)], Broken())


def test_a_model_policy_generates_once_per_step_for_all_episodes(tiny_model: tuple[Any, Any]) -> None:
    model, processor = tiny_model
    policy = QwenVLPolicy.from_model(model, processor, codec="qwen3_mobile_use", sample=True, max_new_tokens=6)
    calls = []
    original = model.generate

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    model.generate = counted
    try:
        torch.manual_seed(0)
        jobs = [EpisodeJob(device=MemoryDevice(), goal=f"goal {i}", max_steps=2) for i in range(3)]
        trajs, batcher = run_episodes(jobs, policy)
    finally:
        del model.generate
    assert calls == [3, 3] and batcher.batches == [3, 3]
    for traj in trajs:
        assert len(traj.steps) == 2
        assert all(isinstance(s.info[TOKENS_KEY].prompt_ids, list) for s in traj.steps)
