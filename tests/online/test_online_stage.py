"""The grpo_online stage: live episodes -> trl's GRPO step; curriculum and replay states in checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cua.errors import ConfigError
from cua.train.recipe import parse_recipe

from . import memory_env  # noqa: F401  (registers the buttons device and tasks)

TINY = {"tiny": "qwen3_vl", "seed": 0}


def online_recipe(**online: Any) -> dict[str, Any]:
    spec = {"env": "buttons", "tasks": ["buttons_two", "buttons_two_hard"], "backend": "local", "pool_size": 4,
            "group_size": 2, "groups_per_step": 2, "max_episode_steps": 2, "train_seeds": 50,
            "invalid_penalty": 0.1, **online}
    return {"name": "online_test", "model": TINY, "codec": "grid8", "min_pixels": 65536, "max_pixels": 65536,
            "stages": [{"name": "online", "kind": "grpo_online", "online": spec,
                        "trl": {"max_steps": 2, "save_steps": 1, "logging_steps": 1, "learning_rate": 1e-3,
                                "max_completion_length": 3, "temperature": 1.0}}]}


def metrics(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]


def test_online_stage_trains_on_live_turns_and_checkpoints_its_state(tmp_path: Path) -> None:
    import torch

    from cua.train.runner import train

    seen: list[Any] = []

    def unit_advantages(inputs: Any, outputs: dict[str, Any]) -> Any:
        # The seam issue 13's advantages plug into; here every turn gets +1 so the step must move the weights.
        seen.append(outputs)
        return torch.ones_like(outputs["advantages"])

    recipe = parse_recipe(online_recipe(curriculum={"warmup": 1}, replay=True, loss_normalisation="episode"))
    final = train(recipe, tmp_path / "run", advantage_fn=unit_advantages)
    assert (final / "model.safetensors").is_file() or any(final.glob("*.safetensors"))
    rows = [r for r in metrics(tmp_path / "run") if "online/turns" in r]
    assert len(rows) == 2
    for row in rows:
        assert row["online/episodes"] == 4 and row["online/turns"] == 8  # 2 groups x 2 episodes x 2 steps
        assert row["online/lost_episodes"] == 0
        assert "curriculum/buttons_two/success" in row and row["grad_norm"] > 0
    batch = seen[0]
    # each turn's forward pass sees its own screenshot: one image per turn, its tokens in the recorded prompt
    assert batch["num_images"] == [1] * 8 and batch["image_grid_thw"].shape[0] == 8
    assert int((batch["mm_token_type_ids"] == 1).sum()) == int(batch["image_grid_thw"].prod(-1).sum()) // 4
    from cua.train.callbacks import read_metrics
    from cua.train.plot import _series, plot_run

    drawn = _series(read_metrics(tmp_path / "run"))[0]
    assert {"online/success", "curriculum/buttons_two/success", "curriculum/buttons_two_hard/success"} <= set(drawn)
    assert plot_run(tmp_path / "run").stat().st_size > 1000
    state = json.loads((tmp_path / "run" / "online" / "checkpoint-2" / "cua_online_state.json").read_text())
    assert sum(state["curriculum"]["plays"].values()) == 4
    assert state["replay"]["size"] == 8


def test_max_env_steps_ends_the_stage_after_the_update_that_reaches_it(tmp_path: Path) -> None:
    from cua.train.runner import train

    raw = online_recipe(max_env_steps=9)
    raw["stages"][0]["trl"]["max_steps"] = 10
    train(parse_recipe(raw), tmp_path / "run")
    rows = [r for r in metrics(tmp_path / "run") if "online/turns" in r]
    # each update plays 2 groups x 2 episodes x 2 steps = 8 device steps: 8 < 9, then 16 >= 9 ends the stage
    assert [r["online/env_steps"] for r in rows] == [8.0, 8.0]
    assert [r["online/env_steps_total"] for r in rows] == [8.0, 16.0]
    assert (tmp_path / "run" / "online" / "DONE").is_file()
    assert not (tmp_path / "run" / "online" / "checkpoint-3").exists()
    state = json.loads((tmp_path / "run" / "online" / "checkpoint-2" / "cua_online_state.json").read_text())
    assert state["env_steps"] == 16


@pytest.mark.parametrize("change, match", [
    ({"online": None}, "needs an `online:` mapping"),
    ({"online": {"env": "buttons", "tasks": ["buttons_two"], "loss_normalisation": "sample"}}, "loss_normalisation"),
    ({"online": {"env": "buttons", "tasks": ["buttons_two"], "typo": 1}}, "unknown key"),
    ({"online": {"env": "buttons", "tasks": ["buttons_two"], "max_env_steps": 0}}, "max_env_steps"),
])
def test_bad_online_stages_are_config_errors(change: dict[str, Any], match: str) -> None:
    raw = online_recipe()
    raw["stages"][0].update(change)
    with pytest.raises(ConfigError, match=match):
        parse_recipe(raw)


@pytest.mark.parametrize("key, value", [("beta", 0.04), ("num_iterations", 2), ("gradient_accumulation_steps", 4)])
def test_online_stage_refuses_what_it_cannot_train_yet(tmp_path: Path, key: str, value: Any) -> None:
    from cua.train.runner import train

    raw = online_recipe()
    raw["stages"][0]["trl"][key] = value
    with pytest.raises(ConfigError, match=key):
        train(parse_recipe(raw), tmp_path / "run")


def test_keep_best_hands_on_the_best_validation_model_not_the_last(tmp_path: Path, monkeypatch) -> None:
    """A stage with live_eval.keep_best: the best validation check's model is saved, loaded back by the trainer at
    the end, saved as the stage's final and scored on the test episodes; the choice survives in the checkpoint."""
    import torch
    from safetensors.torch import load_file

    import cua.train.live_eval as live_eval
    from cua.train.runner import train

    scores = iter([0.5, 0.75, 0.25, 0.6])  # validation at steps 1, 2, 3 (the last), then the test check
    snapshots: list[dict[str, Any]] = []

    def scripted(model: Any, processor: Any, codec: Any, jobs: Any, slots: Any, **kw: Any) -> dict[str, float]:
        snapshots.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return {"eval/live_success": next(scores), "live_eval/n": float(len(jobs)), "live_eval/lost": 0.0,
                "live_eval/invalid_rate": 0.0}

    monkeypatch.setattr(live_eval, "live_success", scripted)
    raw = online_recipe()
    raw["stages"][0]["trl"].update(max_steps=3, save_steps=100)
    raw["stages"][0]["live_eval"] = {"every": 1, "every_n": 2, "keep_best": True}
    raw["live_eval"] = {"tasks": ["buttons_two"], "episodes": 3, "env": "buttons", "env_options": {}, "slots": 1}
    final = train(parse_recipe(raw), tmp_path / "run",
                  advantage_fn=lambda inputs, outputs: torch.ones_like(outputs["advantages"]))  # every step moves
    stage = tmp_path / "run" / "online"
    # the bests (steps 1 and 2) and the trainer's own save at the end
    assert sorted(p.name for p in stage.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2", "checkpoint-3"]
    state = json.loads((stage / "checkpoint-2" / "trainer_state.json").read_text())
    assert (state["best_metric"], state["best_global_step"]) == (0.75, 2)
    assert state["best_model_checkpoint"].endswith("checkpoint-2")
    weights = load_file(str(next(final.glob("*.safetensors"))))
    step2, step3, test = snapshots[1], snapshots[2], snapshots[3]
    assert any(not torch.equal(step2[k], step3[k]) for k in step2)  # step 3 changed the model...
    assert all(torch.equal(test[k], step2[k]) for k in step2)  # ...the test check played step 2's
    assert len(weights) and all(torch.equal(v, step2[k]) for k, v in weights.items() if k in step2)
    records = [json.loads(x) for x in (tmp_path / "run" / "live_eval.jsonl").read_text().splitlines()]
    assert [(r["step"], r.get(live_eval.VALIDATION_KEY), r.get("eval/live_success"), r.get("live_eval/model_step"))
            for r in records] == [(1, 0.5, None, None), (2, 0.75, None, None), (3, 0.25, None, None), (3, None, 0.6, 2)]
    from cua.train.plot import live_table

    assert "| online | 3 (model of step 2) | 3 | 0.600 |" in live_table(tmp_path / "run")


def test_keep_best_survives_a_kill_and_resume(tmp_path: Path, monkeypatch) -> None:
    """The best check is part of the checkpointed trainer state: after a kill and --resume, a worse last check
    still hands on the best step's model."""
    import shutil

    import torch
    from safetensors.torch import load_file

    import cua.train.live_eval as live_eval
    from cua.train.runner import train

    scores = iter([0.5, 0.75, 0.1, 0.25, 0.3])  # run 1: steps 1, 2 (its last), test; run 2: step 3 (last), test

    def scripted(model: Any, processor: Any, codec: Any, jobs: Any, slots: Any, **kw: Any) -> dict[str, float]:
        return {"eval/live_success": next(scores), "live_eval/n": float(len(jobs)), "live_eval/lost": 0.0,
                "live_eval/invalid_rate": 0.0}

    monkeypatch.setattr(live_eval, "live_success", scripted)
    raw = online_recipe()
    raw["stages"][0]["live_eval"] = {"every": 1, "keep_best": True}
    raw["stages"][0]["trl"]["lr_scheduler_type"] = "constant"  # the resumed step 3 still learns
    raw["live_eval"] = {"tasks": ["buttons_two"], "episodes": 2, "env": "buttons", "env_options": {}, "slots": 1}
    unit = lambda inputs, outputs: torch.ones_like(outputs["advantages"])  # noqa: E731  every update moves
    run, stage = tmp_path / "run", tmp_path / "run" / "online"
    train(parse_recipe(raw), run, advantage_fn=unit)
    shutil.rmtree(stage / "final")  # as if killed right after checkpoint-2
    (stage / "DONE").unlink()
    raw["stages"][0]["trl"]["max_steps"] = 3
    final = train(parse_recipe(raw), run, resume=True, advantage_fn=unit)
    weights = load_file(str(next(final.glob("*.safetensors"))))
    best = load_file(str(stage / "checkpoint-2" / "model.safetensors"))
    last = load_file(str(stage / "checkpoint-3" / "model.safetensors"))
    assert all(weights[k].equal(best[k]) for k in weights)
    assert any(not weights[k].equal(last[k]) for k in weights)
    records = [json.loads(x) for x in (run / "live_eval.jsonl").read_text().splitlines()]
    assert (records[-1]["step"], records[-1]["live_eval/model_step"]) == (3, 2)
