"""Hierarchical policy (Hi-Agent): subgoal parsing, a scripted two-level agent solving a sandbox task through the
one loop (subgoals recorded, saved, reported), the tiny model's two batched levels with token records, and
``cua run --model M --hierarchical`` end to end on the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cua.actions import OpenApp, Terminate
from cua.cli import app
from cua.codecs import get_codec
from cua.errors import ConfigError
from cua.policies.hierarchical import HIGH_SYSTEM, SUBGOAL_TOKENS_KEY, HierarchicalPolicy, parse_subgoal
from cua.policies.model import TOKENS_KEY, ModelPolicyBase, TurnTokens
from cua.policy import make_policy
from cua.trajectory import Trajectory

runner = CliRunner()


def test_parse_subgoal() -> None:
    assert parse_subgoal("Let me think.\nSubgoal: Tap the Clock app") == "Tap the Clock app"
    assert parse_subgoal("**Subgoal**: open Settings\n") == "open Settings"
    assert parse_subgoal("subgoal: a\nSubgoal: b") == "b"
    assert parse_subgoal("\n  Tap OK  \nmore") == "Tap OK"
    assert parse_subgoal("   \n") == ""
    assert len(parse_subgoal("x" * 500)) == 200


class ScriptedLevels(ModelPolicyBase):
    """A 'model' answering both role prompts by rule: the planner opens the goal's app, then finishes; the actor
    turns 'Open the X app' into the codec's open call and 'Finish the task' into terminate."""

    name = "scripted"

    def __init__(self) -> None:
        self.codec = get_codec("qwen25_mobile_use")
        self.seen: list[str] = []

    def complete(self, messages: list[dict[str, Any]], *, n: int = 1, sample: bool = False) -> list[str]:
        system = messages[0]["content"][0]["text"]
        user = messages[1]["content"][0]["text"]
        self.seen.append("high" if system == HIGH_SYSTEM else "low")
        if system == HIGH_SYSTEM:
            app_name = re.search(r"Goal: Open the (.+) app", user).group(1)  # type: ignore[union-attr]
            return ["Thinking.\nSubgoal: " + ("Finish the task" if "Step 1:" in user else f"Open the {app_name} app")]
        geometry = None
        match = re.search(r"Open the (.+) app", user)
        action = OpenApp(app=match.group(1)) if match else Terminate(status="success")
        return [self.codec.format(action, geometry)]  # type: ignore[arg-type]


def test_scripted_two_levels_solve_a_sandbox_task(tmp_path: Path) -> None:
    from cua.agent import run_task
    from cua.devices import make_device
    from cua.report import write_report
    from cua.task import get_task

    task = get_task("apps_open").from_seed(2)
    low = ScriptedLevels()
    policy = HierarchicalPolicy(low)
    device = make_device("sandbox")
    try:
        traj = run_task(device, policy, task, out_dir=tmp_path / "ep", max_steps=4)
    finally:
        device.close()
    assert traj.status == "terminated" and traj.success == 1.0
    assert low.seen == ["high", "low", "high", "low"]
    app_name = task.params["app"]
    loaded = Trajectory.load(tmp_path / "ep")
    assert [s.subgoal for s in loaded.steps] == [f"Open the {app_name} app", "Finish the task"]
    assert isinstance(loaded.steps[0].action, OpenApp) and "Subgoal:" in loaded.steps[0].info["subgoal_text"]
    report = write_report(loaded).read_text()
    assert f'<p class="subgoal">subgoal: Open the {app_name} app</p>' in report


def test_an_empty_subgoal_falls_back_to_the_goal(phone_obs) -> None:
    class Silent(ScriptedLevels):
        def complete(self, messages: list[dict[str, Any]], *, n: int = 1, sample: bool = False) -> list[str]:
            if messages[0]["content"][0]["text"] == HIGH_SYSTEM:
                return ["  "]
            self.low_task = messages[1]["content"][0]["text"]
            return ["garbage"]

    low = Silent()
    proposal = HierarchicalPolicy(low).propose("Open the Clock app", phone_obs, [])
    assert proposal.action is None and proposal.error
    assert proposal.info["subgoal"] == "Open the Clock app" and "subgoal_error" in proposal.info
    assert "Open the Clock app" in low.low_task


@pytest.mark.slow
def test_tiny_model_two_batched_levels_with_tokens(tiny_dirs, phone_obs) -> None:
    from cua.policies.model import QwenVLPolicy

    low = QwenVLPolicy(str(tiny_dirs["qwen2_5_vl"]), max_new_tokens=8)
    calls: list[int] = []
    original = low.sample_chats
    low.sample_chats = lambda chats: calls.append(len(chats)) or original(chats)  # type: ignore[method-assign]
    policy = HierarchicalPolicy(low)
    proposals = policy.propose_batch([("Open the Clock app", phone_obs, []), ("Open Settings", phone_obs, [])])
    assert calls == [2, 2]  # one batched generate per level
    for p in proposals:
        high, act = p.info[SUBGOAL_TOKENS_KEY], p.info[TOKENS_KEY]
        assert isinstance(high, TurnTokens) and isinstance(act, TurnTokens)
        assert high.messages[0]["content"][0]["text"] == HIGH_SYSTEM
        assert p.info["subgoal"] in act.messages[1]["content"][0]["text"]
        assert len(high.logprobs) == len(high.completion_ids) > 0


def test_factory_and_cli_refusals(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        make_policy("hierarchical", model="x", samples=4)
    result = runner.invoke(app, ["run", "--device", "sandbox", "--task", "apps_open", "--policy", "oracle",
                                 "--hierarchical", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "--hierarchical" in result.output


@pytest.mark.slow
def test_cua_run_hierarchical_on_the_sandbox(tiny_dirs, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--device", "sandbox", "--model", str(tiny_dirs["qwen2_5_vl"]),
                                 "--hierarchical", "--task", "apps_open", "--max-steps", "2", "--seed", "1",
                                 "--max-new-tokens", "8", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    assert "hierarchical:model:" in result.output
    traj = Trajectory.load(out)
    assert traj.status == "max_steps" and len(traj.steps) == 2 and traj.policy.startswith("hierarchical:")
    for step in traj.steps:
        assert isinstance(step.subgoal, str) and step.subgoal
        assert step.info[SUBGOAL_TOKENS_KEY]["completion_ids"]
    report = (out / "report.html").read_text()
    assert report.count('class="subgoal"') == 2
