"""The agent loop under test with an in-memory device: the loop, not a backend, is what is checked here."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cua.actions import Answer, Click, Scroll, Terminate, Type, Wait
from cua.agent import run_episode, run_task
from cua.errors import (
    ActionDenied, ActionOutOfBounds, ActionParseError, ActionUnsupported, ConfigError, DatasetError, DeviceTimeout,
)
from cua.policies.model import ModelPolicyBase
from cua.policy import Proposal
from cua.trajectory import Trajectory

from .fakes import W, ClickTask, ListPolicy, MemoryDevice

def test_invalid_steps_are_recorded_and_the_loop_goes_on(tmp_path: Any) -> None:
    device = MemoryDevice()
    policy = ListPolicy([
        Proposal(text="garbage", error="no JSON"),
        Click(x=W, y=10),
        ActionParseError("bad text"),
        Click(x=1, y=1),
        Terminate(),
    ])
    traj = run_episode(device, policy, "click once", max_steps=10, out_dir=tmp_path)
    assert traj.status == "terminated"
    assert [s.error_kind for s in traj.steps] == ["parse", "out_of_bounds", "parse", None, None]
    assert traj.steps[0].text == "garbage" and traj.steps[0].error == "no JSON"
    assert device.executed == [Click(x=1, y=1)]
    assert traj.steps[3].output == "did click"
    assert traj.invalid_steps == 3
    assert traj.claimed == "success" and traj.success is None


def test_an_error_kind_in_end_on_ends_the_episode_and_it_is_still_scored(tmp_path: Any) -> None:
    steps = [Click(x=W, y=10), Click(x=1, y=1), Proposal(text="garbage", error="no JSON"), Click(x=1, y=1)]
    traj = run_episode(MemoryDevice(), ListPolicy(list(steps)), task=ClickTask({"n": 1}), max_steps=10, out_dir=tmp_path,
                       end_on={"parse"})  # ARPO: a format failure ends the episode; out of bounds does not
    assert traj.status == "ended_on_error"
    assert [s.error_kind for s in traj.steps] == ["out_of_bounds", None, "parse"]
    assert traj.success == 1.0  # the task's checker still judges the state the episode left
    assert Trajectory.load(tmp_path).status == "ended_on_error"
    goes_on = run_episode(MemoryDevice(), ListPolicy(list(steps)), task=ClickTask({"n": 1}), max_steps=10)
    assert goes_on.status == "max_steps" and len(goes_on.steps) == 10


@pytest.mark.parametrize("exc, kind", [
    (ActionDenied("no"), "denied"), (ActionUnsupported("nope"), "unsupported"),
])
def test_execute_action_errors_are_invalid_steps(exc: Exception, kind: str) -> None:
    traj = run_episode(MemoryDevice(fail_execute=exc), ListPolicy([Click(x=1, y=1)]), "g", max_steps=3)
    assert traj.status == "max_steps"
    assert [s.error_kind for s in traj.steps] == [kind] * 3


def test_device_error_is_infra_error_and_saved(tmp_path: Any) -> None:
    device = MemoryDevice(fail_observe_at=2)
    traj = run_episode(device, ListPolicy([Click(x=1, y=1)]), "g", max_steps=10, out_dir=tmp_path)
    assert traj.status == "infra_error"
    assert "DeviceDisconnected" in (traj.error or "")
    assert [s.error_kind for s in traj.steps] == [None, None, "device"]
    loaded = Trajectory.load(tmp_path)
    assert loaded.status == "infra_error" and len(loaded.steps) == 3
    assert (tmp_path / "step_000.png").exists() and not (tmp_path / "step_002.png").exists()


def test_execute_device_timeout_ends_episode() -> None:
    traj = run_episode(MemoryDevice(fail_execute=DeviceTimeout("slow")), ListPolicy([Wait()]), "g", max_steps=5)
    assert traj.status == "infra_error" and len(traj.steps) == 1
    assert traj.steps[0].action == Wait() and traj.steps[0].error_kind == "device"


def test_step_budget_ends_episode_and_task_checks() -> None:
    task = ClickTask.from_seed(3)
    device = MemoryDevice()
    traj = run_episode(device, ListPolicy([Click(x=5, y=5)]), task=task, max_steps=task.params["n"])
    assert traj.status == "max_steps" and len(traj.steps) == task.params["n"]
    assert traj.success == 1.0 and traj.goal == task.goal and traj.task_id == "memory_clicks"
    traj = run_episode(device, ListPolicy([Click(x=5, y=5)]), task=task, max_steps=1)
    assert traj.success == 0.0


def test_default_budget_comes_from_task() -> None:
    task = ClickTask.from_seed(0)
    traj = run_episode(MemoryDevice(), ListPolicy([Wait(seconds=0)]), task=task)
    assert len(traj.steps) == task.max_steps == traj.max_steps


def test_time_budget_ends_episode() -> None:
    class Slow(ListPolicy):
        def propose(self, *a: Any) -> Proposal:
            time.sleep(0.05)
            return super().propose(*a)

    traj = run_episode(MemoryDevice(), Slow([Wait(seconds=0)]), "g", max_steps=1000, time_budget=0.2)
    assert traj.status == "time_budget"
    assert 2 <= len(traj.steps) <= 6


def test_answer_goes_to_checker_and_is_not_executed() -> None:
    seen: list[str | None] = []

    class AnswerTask(ClickTask):
        def is_successful(self, device: Any, answer: str | None = None) -> float:
            seen.append(answer)
            return float(answer == "42")

    device = MemoryDevice()
    policy = ListPolicy([Answer(text="41"), Answer(text="42"), Terminate(status="failure")])
    traj = run_episode(device, policy, task=AnswerTask.from_seed(1), max_steps=9)
    assert seen == ["42"] and traj.success == 1.0 and traj.answer == "42" and traj.claimed == "failure"
    assert device.executed == []


def test_step_timeout_reaches_device_and_on_step_sees_each_step() -> None:
    device = MemoryDevice()
    calls: list[int] = []
    run_episode(device, ListPolicy([Wait(seconds=0)]), "g", max_steps=3, step_timeout=1.5,
                on_step=lambda step, traj: calls.append(step.index))
    assert calls == [0, 1, 2] and device.timeouts == [1.5] * 3


def test_policy_bug_propagates_after_saving(tmp_path: Any) -> None:
    policy = ListPolicy([Click(x=1, y=1), ZeroDivisionError("bug")])
    with pytest.raises(ZeroDivisionError):
        run_episode(MemoryDevice(), policy, "g", max_steps=5, out_dir=tmp_path)
    loaded = Trajectory.load(tmp_path)
    assert loaded.status == "crashed" and "ZeroDivisionError" in (loaded.error or "")
    assert [s.error_kind for s in loaded.steps] == [None, "crash"]


def test_config_error_from_policy_propagates() -> None:
    with pytest.raises(ConfigError):
        run_episode(MemoryDevice(), ListPolicy([ConfigError("bad")]), "g", max_steps=2)


def test_run_task_resets_with_seed_and_saves(tmp_path: Any) -> None:
    task = ClickTask.from_seed(7)
    device = MemoryDevice()
    device.clicks = 99
    traj = run_task(device, ListPolicy([Click(x=2, y=2)]), task, max_steps=task.params["n"], out_dir=tmp_path)
    assert device.seed == 7 and traj.success == 1.0 and traj.seed == 7
    assert Trajectory.load(tmp_path).success == 1.0


def test_trajectory_round_trip(tmp_path: Any) -> None:
    device = MemoryDevice()
    policy = ListPolicy([
        Click(x=3, y=4), Proposal(text="<oops>", error="bad", info={"candidates": ["a", "b"]}),
        Scroll(direction="down"), Type(text="héllo \"$;'"), Answer(text="x"), Terminate(status="failure"),
    ])
    traj = run_episode(device, policy, "round trip", max_steps=9, out_dir=tmp_path)
    traj.steps[0].reward["format"] = 1.0
    loaded = Trajectory.load(tmp_path)
    assert loaded.header() | {"duration_s": 0} == traj.header() | {"duration_s": 0}
    assert [s.to_dict() for s in loaded.steps][1:] == [s.to_dict() for s in traj.steps][1:]
    assert [s.action for s in loaded.steps] == [s.action for s in traj.steps]
    for step in loaded.steps:
        obs = loaded.observation(step)
        assert obs is not None and obs.png == traj.steps[step.index].observation.png
    assert loaded.steps[1].info == {"candidates": ["a", "b"]}


def test_in_memory_trajectory_save_to(tmp_path: Any) -> None:
    traj = run_episode(MemoryDevice(), ListPolicy([Click(x=1, y=2)]), "g", max_steps=2)
    assert traj.out_dir is None
    traj.save_to(tmp_path)
    loaded = Trajectory.load(tmp_path)
    assert len(loaded.steps) == 2 and (tmp_path / "step_001.png").read_bytes() == traj.steps[1].observation.png


@pytest.mark.parametrize("line, needle", [
    ("{not json", "line 2: invalid JSON"),
    ('{"index": 1, "action": {"action": "fly"}}', "line 2: unknown action"),
    ('{"index": -1}', "line 2: step index"),
    ('[1, 2]', "line 2: a step must be a JSON object"),
])
def test_malformed_steps_file_names_file_and_line(tmp_path: Any, line: str, needle: str) -> None:
    run_episode(MemoryDevice(), ListPolicy([Click(x=1, y=2)]), "g", max_steps=1, out_dir=tmp_path)
    with open(tmp_path / "steps.jsonl", "a") as fh:
        fh.write(line + "\n")
    with pytest.raises(DatasetError) as info:
        Trajectory.load(tmp_path)
    assert "steps.jsonl" in str(info.value) and needle in str(info.value)


def test_missing_or_bad_episode_file(tmp_path: Any) -> None:
    with pytest.raises(DatasetError, match="episode.json: missing"):
        Trajectory.load(tmp_path)
    (tmp_path / "episode.json").write_text('{"version": 1, "status": "exploded"}')
    with pytest.raises(DatasetError, match="unknown status"):
        Trajectory.load(tmp_path)


def test_redacted_result_is_redacted_before_recording(tmp_path: Any) -> None:
    class SecretDevice(MemoryDevice):
        def execute(self, action: Any, *, timeout: float | None = None) -> Any:
            from cua.device import ActionResult

            return ActionResult(redacted=True, info={"field": "password"})

    secret = 'hunter"2'
    policy = ListPolicy([Proposal(text=f'type {json.dumps(secret)} now', action=Type(text=secret))])
    run_episode(SecretDevice(), policy, "log in", max_steps=1, out_dir=tmp_path)
    saved = (tmp_path / "steps.jsonl").read_text()
    assert "hunter" not in saved
    step = Trajectory.load(tmp_path).steps[0]
    assert step.action == Type(text="[redacted]") and step.info["redacted"] is True


def test_policy_extras_are_saved_as_json(tmp_path: Any) -> None:
    import numpy as np

    info = {"score": np.float32(0.5), "ids": np.arange(3), "seen": {"b"}, "raw": b"\x00\x01", "action": Click(x=1, y=1)}
    policy = ListPolicy([Proposal(text="x", action=Wait(seconds=0), info=info)])
    run_episode(MemoryDevice(), policy, "g", max_steps=1, out_dir=tmp_path)
    saved = Trajectory.load(tmp_path).steps[0].info
    assert saved == {"score": 0.5, "ids": [0, 1, 2], "seen": ["b"], "raw": "<2 bytes>",
                     "action": {"action": "click", "x": 1, "y": 1}}


class TextModel(ModelPolicyBase):
    """A model policy whose completions are fixed strings: the real codec parses them (prompts unused)."""

    name = "text-model"

    def __init__(self, texts: list[str]) -> None:
        from cua.codecs import get_codec

        self.codec, self.texts = get_codec("qwen25_mobile_use"), list(texts)

    def complete(self, messages: Any, *, n: int = 1, sample: bool = False) -> list[str]:
        return [self.texts.pop(0)]


def _mobile_use(arguments: dict[str, Any]) -> str:
    return f'<tool_call>{json.dumps({"name": "mobile_use", "arguments": arguments})}</tool_call>'


def test_model_proposals_record_the_error_kind_the_policy_found(tmp_path: Any) -> None:
    texts = [
        _mobile_use({"action": "click", "coordinate": [5000, 10]}),  # parses, but off the 90x200 screen
        "I would tap the button",  # no tool call at all
        _mobile_use({"action": "click", "coordinate": [10, 10]}),
        _mobile_use({"action": "terminate", "status": "success"}),
    ]
    traj = run_episode(MemoryDevice(), TextModel(texts), "tap", max_steps=5, out_dir=tmp_path)
    assert [s.error_kind for s in traj.steps] == ["out_of_bounds", "parse", None, None]
    assert traj.steps[0].text == texts[0] and traj.steps[0].action is None
    assert [s.error_kind for s in Trajectory.load(tmp_path).steps] == ["out_of_bounds", "parse", None, None]


@pytest.mark.parametrize("exc", [ActionUnsupported("no such verb"), ActionOutOfBounds("off"), ActionParseError("?")])
def test_a_proposal_carries_its_typed_error(exc: Exception) -> None:
    proposal = Proposal.invalid("raw", exc)
    assert proposal.action is None and proposal.error == str(exc) and proposal.error_kind == exc.kind
    traj = run_episode(MemoryDevice(), ListPolicy([proposal]), "g", max_steps=1)
    assert traj.steps[0].error_kind == exc.kind and traj.steps[0].error == str(exc)


def test_the_older_redacted_info_flag_still_redacts() -> None:
    from cua.device import ActionResult

    assert ActionResult(info={"redacted": True}).redacted and not ActionResult(info={"redacted": "no"}).redacted
