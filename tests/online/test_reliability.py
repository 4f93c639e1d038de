"""Reliability of online RL: a pool worker killed mid-rollout shrinks its group and rollouts go on; a training
run killed with -9 resumes with its curriculum state and replay buffer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import pytest

from cua.actions import Click
from cua.policies.model import TOKENS_KEY, TurnTokens
from cua.policy import Proposal
from cua.train.rollout import Roller

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


class KillingPolicy:
    """Clicks the screen centre; on batch ``at`` it SIGKILLs the worker process of ``victim`` first."""

    name = "killer"

    def __init__(self, victim: Any, at: int) -> None:
        self.victim, self.at, self.calls = victim, at, 0

    def reset(self, goal: str) -> None:
        pass

    def propose_batch(self, requests: Sequence[Any]) -> list[Proposal]:
        self.calls += 1
        if self.calls == self.at:
            os.kill(self.victim._worker.proc.pid, signal.SIGKILL)
        tokens = TurnTokens(prompt_ids=[1], completion_ids=[2], logprobs=[-0.5])
        return [Proposal(text="click", action=Click(x=540, y=1200), info={TOKENS_KEY: tokens}) for _ in requests]


def test_a_worker_killed_mid_rollout_shrinks_its_group_and_rollouts_go_on() -> None:
    from cua.devices.pool import EnvPool

    with EnvPool("sandbox", size=3, backend="process", call_timeout=60) as pool:
        policy = KillingPolicy(pool.slots[1], at=2)
        roller = Roller(pool.slots, policy, group_size=3, max_episode_steps=3)
        group = roller.collect([("notes_delete", 1)]).groups[0]
        # the killed worker's episode left the group; the advantage is computed over the two survivors
        assert group.lost == 1 and len(group.episodes) == 2 and len(group.advantages) == 2 and not group.dropped
        assert all(e.num_steps == 3 for e in group.episodes)
        assert pool.slots[1].alive  # restarted after the loss
        again = roller.collect([("notes_delete", 2)])
        assert again.lost_episodes == 0 and len(again.groups[0].episodes) == 3


RUN = """
import json, sys
import online.memory_env
from cua.train.recipe import parse_recipe
from cua.train.runner import train
train(parse_recipe(json.loads(sys.argv[1])), sys.argv[2], resume=sys.argv[3] == "1")
"""


def _recipe(max_steps: int) -> dict[str, Any]:
    online = {"env": "buttons", "tasks": ["buttons_two", "buttons_two_hard"], "backend": "local", "pool_size": 2,
              "group_size": 2, "groups_per_step": 1, "max_episode_steps": 1, "train_seeds": 50,
              "curriculum": {"warmup": 1}, "replay": {"size": 32, "min_success": -1.0}}
    return {"name": "kill9", "model": {"tiny": "qwen3_vl"}, "codec": "grid8", "min_pixels": 65536,
            "max_pixels": 65536, "stages": [{"name": "online", "kind": "grpo_online", "online": online, "trl": {
                "max_steps": max_steps, "save_steps": 1, "logging_steps": 1, "max_completion_length": 3}}]}


def _state(run: Path, step: int) -> dict[str, Any]:
    return json.loads((run / "online" / f"checkpoint-{step}" / "cua_online_state.json").read_text())


def test_resume_after_kill_9_restores_curriculum_and_replay(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    recipe = json.dumps(_recipe(40))
    proc = subprocess.Popen([sys.executable, "-c", RUN, recipe, str(run), "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marker = run / "online" / "checkpoint-2" / "trainer_state.json"
    deadline = time.monotonic() + 240
    while not marker.is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert marker.is_file(), proc.stderr.read().decode()[-3000:] if proc.stderr else "no checkpoint"
    assert not (run / "online" / "DONE").exists()
    steps = sorted(int(p.name.split("-")[1]) for p in (run / "online").glob("checkpoint-*")
                   if (p / "trainer_state.json").is_file())
    last = steps[-1]
    before = _state(run, last)
    resumed = subprocess.run([sys.executable, "-c", RUN, json.dumps(_recipe(last + 2)), str(run), "1"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    after = _state(run, last + 2)
    # the environment-step count (online.max_env_steps's budget) went on too: 2 updates x 2 one-step episodes
    assert before["env_steps"] == 2 * last and after["env_steps"] == before["env_steps"] + 4
    # the curriculum went on from its saved plays (2 more groups), not from zero
    assert sum(after["curriculum"]["plays"].values()) == sum(before["curriculum"]["plays"].values()) + 2
    # the replay buffer kept what it held at the checkpoint (FIFO of 32: nothing evicted yet)
    for task_id, stored in before["replay"]["buffers"].items():
        kept = after["replay"]["buffers"][task_id][:len(stored)]
        assert [e["turns"][0]["completion_ids"] for e in kept] == [e["turns"][0]["completion_ids"] for e in stored]
    assert sum(len(b) for b in after["replay"]["buffers"].values()) == sum(
        len(b) for b in before["replay"]["buffers"].values()) + 4


def test_in_process_slots_run_playwright_devices_on_their_own_threads() -> None:
    from cua.train.rollout import LocalEnv

    envs = [LocalEnv("sandbox") for _ in range(2)]
    try:
        roller = Roller(envs, KillingPolicy(None, at=-1), group_size=2, max_episode_steps=2)
        rollout = roller.collect([("notes_delete", 1)])
    finally:
        for env in envs:
            env.close()
    group = rollout.groups[0]
    assert [e.status for e in group.episodes] == ["max_steps", "max_steps"] and rollout.batches == [2, 2]
