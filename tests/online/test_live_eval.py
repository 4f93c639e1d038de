"""Live held-out evaluation (cua.train.live_eval) on button_chain episodes through in-process web slots."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from cua.actions import Click
from cua.errors import ConfigError
from cua.eval import button_chain as bc
from cua.policy import Proposal
from cua.train.live_eval import LiveEval, held_out_jobs, live_eval_callback, live_success, play_held_out
from cua.train.recipe import LiveEvalSpec, load_recipe
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
    assert [(r["stage"], r["step"], r["live_eval/n"], r["live_eval/jobs"]) for r in records] == [("sft", 5, 2.0, 2)]
    assert "eval/live_success" in json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])


def test_recipe_live_eval_builds_the_callback():
    recipe = load_recipe("online_proof", ["live_eval.episodes=7", "live_eval.slots=3"])
    cb = live_eval_callback(recipe, "/tmp/run", "grid8")
    assert cb.stages == {s.name: s.live_eval for s in recipe.stages} and set(cb.stages) == {"sft", "online"}
    # `live_eval: {}` opts a stage in with the defaults: one check at its end (the SFT stage stops on its proxy).
    assert cb.stages["sft"] == LiveEvalSpec() and cb.stages["online"].every > 0
    assert recipe.stages[0].stop_at_hit_rate is not None
    assert cb.jobs == held_out_jobs(["button_chain.2"], 7) and cb.n_slots == 3 and cb.codec == "grid8"
    assert cb.max_new_tokens == recipe.eval_max_new_tokens == 3
    assert cb.hierarchical == frozenset()
    two_levels = live_eval_callback(load_recipe("online_proof", ["stages.online.online.hierarchical=true"]), "/r")
    assert two_levels.hierarchical == {"online"}  # the stage that trains both levels is scored with both
    assert live_eval_callback(load_recipe("online_proof", ["stages.sft.live_eval=null",
                                                           "stages.online.live_eval=null"]), "/tmp/run") is None


@pytest.mark.parametrize("override, message", [
    ("live_eval=null", "has no `live_eval:`"),
    ("stages.sft.live_eval.stop_at=2", "stop_at in [0, 1]"),
    ("stages.sft.live_eval.often=3", "unknown key"),
    ("live_eval.tasks=[]", "non-empty list"),
])
def test_bad_live_eval_blocks_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_recipe("online_proof", [override])


def test_unknown_live_eval_task_is_refused_before_training(tmp_path):
    with pytest.raises(ConfigError, match="unknown task 'no_such_task'"):
        live_eval_callback(load_recipe("online_proof", ["live_eval.tasks=[no_such_task]"]), tmp_path)


def test_the_end_of_stage_evaluation_is_not_repeated_after_a_stop(tmp_path, slots):
    cb = LiveEval(tmp_path, "grid8", {"sft": LiveEvalSpec(every=5), "online": LiveEvalSpec(every=5, every_n=1)},
                  tasks=["button_chain.2"], episodes=3, slots=1)
    calls = []
    cb.run = lambda model, processor, stage, step, n=None, extra=None: calls.append(
        (stage, step, n)) or cb.records.append(
        {"stage": stage, "step": step, "eval/live_success": 0.0, "live_eval/jobs": len(cb.jobs[:n])})
    args = SimpleNamespace(output_dir=str(tmp_path / "sft"))
    state = SimpleNamespace(global_step=5, max_steps=100, is_world_process_zero=True)
    cb.on_step_end(args, state, SimpleNamespace(should_training_stop=False))
    cb.on_train_end(args, state, SimpleNamespace())
    state.global_step = 7
    cb.on_train_end(args, state, SimpleNamespace())
    online = SimpleNamespace(output_dir=str(tmp_path / "online"))
    state.global_step = 10
    cb.on_step_end(online, state, SimpleNamespace(should_training_stop=False))
    cb.on_train_end(online, state, SimpleNamespace())  # the periodic check saw 1 of 3 episodes: all 3 now
    assert calls == [("sft", 5, None), ("sft", 7, None), ("online", 10, 1), ("online", 10, None)]


@pytest.mark.slow
def test_a_hierarchical_stage_is_evaluated_with_both_levels(tmp_path, slots, tiny_model, monkeypatch):
    from cua.policies.hierarchical import HierarchicalPolicy

    calls = []
    real = HierarchicalPolicy.propose_batch

    def spy(self, requests):
        calls.append(len(requests))
        return real(self, requests)

    monkeypatch.setattr(HierarchicalPolicy, "propose_batch", spy)
    model, processor = tiny_model
    cb = LiveEval(tmp_path, "grid8", {"sft": LiveEvalSpec(), "online": LiveEvalSpec()}, tasks=["button_chain.2"],
                  episodes=2, slots=2, hierarchical=["online"])
    cb._slots = list(slots)
    cb.run(model, processor, "sft", 1)
    assert calls == []  # a flat stage: the model policy alone
    cb.run(model, processor, "online", 2)
    assert calls and all(n == 2 for n in calls)  # both episodes of the wave, one batched call per step
    records = [json.loads(line) for line in (tmp_path / "live_eval.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["live_eval/policy"], r["live_eval/n"]) for r in records] == [
        ("sft", "model", 2.0), ("online", "hierarchical", 2.0)]


@pytest.mark.slow
def test_cua_eval_plays_the_hierarchical_policy_of_a_saved_model(tmp_path, tiny_q3):
    from typer.testing import CliRunner

    from cua.eval.cli import app
    from cua.trajectory import Trajectory

    result = CliRunner().invoke(app, ["button-chain", "--policy", "hierarchical", "--model", str(tiny_q3),
                                      "--max-new-tokens", "3", "--tasks", "button_chain.2", "--seeds", "2",
                                      "--workers", "2", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(records) == 2 and not any(r["infra_error"] for r in records)
    assert {r["policy"] for r in records} == {f"hierarchical:model:{tiny_q3}"}
    for r in records:  # every step of every episode carries the high level's subgoal
        steps = Trajectory.load(tmp_path / "run" / r["trajectory"]).steps
        assert steps and all(s.subgoal is not None for s in steps)


def test_keep_best_checks_validation_seeds_and_marks_the_best_step_for_saving(tmp_path):
    from cua.train.live_eval import VALIDATION_KEY, validation_jobs

    cb = LiveEval(tmp_path, "grid8", {"online": LiveEvalSpec(every=5, every_n=4, keep_best=True)},
                  tasks=["button_chain.2", "button_chain.3"], episodes=6, slots=1)
    # validation seeds come right after the test seeds: never trained on, never in the test
    assert validation_jobs(cb.jobs, cb.tasks, 4) == [("button_chain.2", 1_000_003), ("button_chain.3", 1_000_003),
                                                     ("button_chain.2", 1_000_004), ("button_chain.3", 1_000_004)]
    scores = iter([0.5, 0.25, 0.5, 0.0, 0.75])
    calls = []

    def run(model, processor, stage, step, n=None, *, validation=False, extra=None):
        calls.append((step, n, validation, extra))
        record = {"stage": stage, "step": step, "live_eval/jobs": n or len(cb.jobs), **(extra or {}),
                  (VALIDATION_KEY if validation else "eval/live_success"): next(scores)}
        cb.records.append(record)
        return record

    cb.run = run
    args = SimpleNamespace(output_dir=str(tmp_path / "online"))
    state = SimpleNamespace(global_step=0, max_steps=100, is_world_process_zero=True, best_metric=None,
                            best_global_step=None, best_model_checkpoint=None)
    saved = []
    for step, stop in [(3, False), (5, False), (10, False), (15, False), (17, True)]:
        state.global_step = step
        control = SimpleNamespace(should_training_stop=stop, should_save=False)
        cb.on_step_end(args, state, control)
        saved.append(control.should_save)
    # step 3: no check; 5: 0.5 best; 10: 0.25 worse; 15: 0.5 ties, the later model wins; 17 (last): 0.0 worse
    assert [c[:3] for c in calls] == [(5, 4, True), (10, 4, True), (15, 4, True), (17, 4, True)]
    assert saved == [False, True, False, True, False]
    assert (state.best_metric, state.best_global_step) == (0.5, 15)
    assert state.best_model_checkpoint == str(tmp_path / "online" / "checkpoint-15")
    cb.on_train_end(args, state, SimpleNamespace())  # train() has loaded step 15's model: the test scores it
    assert calls[-1] == (17, None, False, {"live_eval/model_step": 15})


def test_keep_best_needs_periodic_checks():
    with pytest.raises(ConfigError, match="keep_best needs periodic checks"):
        load_recipe("online_proof", ["stages.online.live_eval.every=0", "stages.online.live_eval.keep_best=true"])
