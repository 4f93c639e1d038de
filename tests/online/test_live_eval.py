"""Live held-out evaluation (cua.train.live_eval) on button_chain episodes through in-process web slots."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from cua.actions import Click
from cua.errors import ConfigError
from cua.eval import button_chain as bc
from cua.policy import Proposal
from cua.train.live_eval import LiveEval, LiveEvalSpec, held_out_jobs, live_success, parse_stage, play_held_out
from cua.train.rollout import LocalEnv


class ReadsTarget:
    """Clicks the target button read from the screen's elements (``wrong``: a corner instead)."""

    name = "reads-target"

    def __init__(self, wrong: bool = False):
        self.wrong = wrong

    def reset(self, goal):
        pass

    def propose(self, goal, observation, history):
        if self.wrong:
            return Proposal(text="corner", action=Click(x=1, y=1))
        (x, y), = [e.center for e in observation.elements if e.resource_id == "target"]
        return Proposal(text="target", action=Click(x=x, y=y))


@pytest.fixture(scope="module")
def slots():
    envs = [LocalEnv(bc.DEVICE, {"viewport": bc.VIEWPORT}) for _ in range(2)]
    yield envs
    for env in envs:
        env.close()


def test_held_out_jobs_take_turns_from_the_held_out_seeds():
    assert held_out_jobs(["a", "b"], 5) == [("a", 1_000_000), ("b", 1_000_000), ("a", 1_000_001),
                                             ("b", 1_000_001), ("a", 1_000_002)]


def test_play_held_out_scores_by_the_task_checker(slots):
    jobs = held_out_jobs(["button_chain.2"], 3)
    right = play_held_out(ReadsTarget(), jobs, slots)
    assert right == {"eval/live_success": 1.0, "live_eval/n": 3.0, "live_eval/lost": 0.0,
                     "live_eval/invalid_rate": 0.0}
    assert play_held_out(ReadsTarget(wrong=True), jobs, slots)["eval/live_success"] == 0.0


@pytest.mark.slow
def test_callback_with_the_trainer_model_logs_and_stops(tmp_path, slots, tiny_model):
    model, processor = tiny_model
    model.train()
    metrics = live_success(model, processor, "grid8", held_out_jobs(["button_chain.2"], 2), slots)
    assert metrics["live_eval/n"] == 2.0 and 0.0 <= metrics["eval/live_success"] <= 1.0
    assert model.training  # eval mode only while playing
    cb = LiveEval(tmp_path, "grid8", {"sft": LiveEvalSpec(every=5, stop_at=0.0)}, tasks=["button_chain.2"],
                  episodes=2, slots=2)
    cb._slots = list(slots)  # the module's slots (the callback would open its own on first use)
    args = SimpleNamespace(output_dir=str(tmp_path / "sft"))
    control = SimpleNamespace(should_training_stop=False)
    state = SimpleNamespace(global_step=3, max_steps=100, is_world_process_zero=True)
    cb.on_step_end(args, state, control, model=model, processing_class=processor)
    assert not control.should_training_stop and not (tmp_path / "live_eval.jsonl").exists()
    state.global_step = 5
    cb.on_step_end(args, state, control, model=model, processing_class=processor)
    assert control.should_training_stop
    other = SimpleNamespace(output_dir=str(tmp_path / "online"))
    cb.on_step_end(other, state, SimpleNamespace(should_training_stop=False), model=model,
                   processing_class=processor)
    records = [json.loads(line) for line in (tmp_path / "live_eval.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["step"], r["live_eval/n"]) for r in records] == [("sft", 5, 2.0)]
    assert "eval/live_success" in json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])


def test_parse_stage():
    assert parse_stage("sft=10:0.2") == ("sft", LiveEvalSpec(every=10, stop_at=0.2, at_start=True))
    assert parse_stage("online=25")[1].stop_at is None
    with pytest.raises(ConfigError):
        parse_stage("sft")
