"""Live suites: a worker killed mid-episode is an infra error (retried, then reported apart, never a task
failure); ``--samples K --judge J`` reaches the model policy in every live suite (tiny random Qwen2.5-VL)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cua.eval.cli import app
from cua.eval.live import HELD_OUT_SEED_START, Job, LiveOptions, run_live
from cua.eval.live_report import summarize
from cua.policy import make_policy


class KillsItsWorker:
    """The oracle, except that on the first ``kills`` episodes its first step SIGKILLs the slot's worker."""

    def __init__(self, task: Any, state: dict[str, int]) -> None:
        self.oracle, self.task, self.state = make_policy("oracle", task=task), task, state
        self.name = "kills-its-worker"

    def reset(self, goal: str) -> None:
        self.oracle.reset(goal)

    def propose(self, goal: str, observation: Any, history: Any) -> Any:
        if not history and self.state["left"] > 0:
            self.state["left"] -= 1
            os.kill(self.task._pool_env.call("ping"), signal.SIGKILL)  # the worker's pid
        return self.oracle.propose(goal, observation, history)


def _run(tmp_path: Path, kills: int, retries: int) -> list[dict[str, Any]]:
    state = {"left": kills}
    return run_live([Job("sandbox", "apps_open", HELD_OUT_SEED_START)], lambda task: KillsItsWorker(task, state),
                    out_dir=tmp_path, options=LiveOptions(workers=1, retries=retries))


def test_a_killed_worker_is_retried_and_the_episode_then_succeeds(tmp_path: Path) -> None:
    [record] = _run(tmp_path, kills=1, retries=1)
    assert record["attempts"] == 2 and record["success"] and not record["infra_error"]


def test_an_episode_failing_every_attempt_is_an_infra_failure_not_a_task_failure(tmp_path: Path) -> None:
    [record] = _run(tmp_path, kills=1, retries=0)
    assert record["infra_error"] and record["status"] == "infra_error" and not record["success"]
    assert "DeviceDisconnected" in record["error"]
    metrics = summarize([record, {**record, "id": "x", "seed": 2, "infra_error": False, "success": True}])
    assert metrics["infra_failure_rate"] == 0.5 and metrics["success_rate"] == 1.0  # infra left out


@pytest.mark.slow
def test_samples_and_judge_reach_the_model_policy_in_both_live_suites(tmp_path: Path) -> None:
    from cua.models.tiny import save_tiny

    model = str(save_tiny("qwen2_5_vl", tmp_path / "tiny"))
    runs = {
        "sandbox": ["sandbox", "--tasks", "apps_open"],
        "miniwob": ["miniwob", "--tasks", "click-button"],
    }
    for suite, head in runs.items():
        out = tmp_path / suite
        result = CliRunner().invoke(app, [*head, "--seeds", "1", "--model", model, "--samples", "3", "--judge", model,
                                          "--max-steps", "1", "--max-new-tokens", "4", "--out", str(out)])
        assert result.exit_code == 0, result.output
        [record] = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        steps = [json.loads(line) for line in (out / record["trajectory"] / "steps.jsonl").read_text().splitlines()]
        assert steps and steps[0]["info"]["samples"] == 3 and len(steps[0]["info"]["candidates"]) == 3, steps
        meta = json.loads((out / "metrics.json").read_text())["meta"]
        assert meta["samples"] == 3 and meta["judge"] == model and meta["policy"] == "model"
