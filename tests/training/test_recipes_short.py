"""A short version of every shipped recipe on a tiny model of the recipe's family (few steps, CPU).

Each run must leave per-stage checkpoints with ``cua_processing.json`` that load back through
:func:`cua.models.loading.load_model_and_processor` with the training pixel limits, a final model (or LoRA
adapter), metrics with loss / reward keys, and a plot.
"""

from __future__ import annotations

import json

import pytest

from cua.codecs import get_codec
from cua.models.loading import load_model_and_processor, pixel_limits, read_processing_config
from cua.train.plot import plot_run
from cua.train.recipe import load_recipe, shipped_recipes
from cua.train.runner import train

from .conftest import TINY_GRPO, TINY_STAGE

FAMILY = {28: "qwen2_5_vl", 32: "qwen3_vl"}
PIXELS = {28: 200704, 32: 65536}


def short(name: str) -> list[str]:
    recipe = load_recipe(name)
    factor = get_codec(recipe.codec).factor
    sets = [f"model={{tiny: {FAMILY[factor]}}}", "data=[{loader: toy, args: {n: 8}}]", "eval_data=[]",
            f"max_pixels={PIXELS[factor]}", f"min_pixels={PIXELS[factor]}"]
    for stage in recipe.stages:
        extra = {**TINY_STAGE, **(TINY_GRPO if stage.kind == "grpo" else {})}
        sets += [f"stages.{stage.name}.trl.{k}={json.dumps(v)}" for k, v in extra.items()]
        nulled = ("data", "eval_data", "stop_at_hit_rate", "max_minutes")
        sets += [f"stages.{stage.name}.{key}=null" for key in nulled]
        if stage.kind == "grpo_online":  # live sandbox episodes: 2 workers, one group of 2, 2-step episodes
            online = {"pool_size": 2, "group_size": 2, "groups_per_step": 1, "max_episode_steps": 2}
            sets += [f"stages.{stage.name}.online.{k}={v}" for k, v in online.items()]
            sets += [f"stages.{stage.name}.trl.max_completion_length=8"]
    if recipe.live_eval is not None:  # live held-out evaluation at each stage's end: 2 episodes on 2 slots
        sets += ["live_eval.episodes=2", "live_eval.slots=2"]
    return sets


@pytest.mark.parametrize("name", [p.stem for p in shipped_recipes()])
def test_short_recipe_runs_and_checkpoints_load(tmp_path, name):
    recipe = load_recipe(name, short(name))
    final = train(recipe, tmp_path / "run")
    for stage in recipe.stages:
        ckpt = tmp_path / "run" / stage.name / "checkpoint-2"
        saved = read_processing_config(str(ckpt))
        assert saved is not None and saved.codec == recipe.codec and saved.max_pixels == recipe.max_pixels
    model, processor = load_model_and_processor(str(final))
    assert pixel_limits(processor) == (recipe.min_pixels, recipe.max_pixels)
    if recipe.lora is not None:
        assert (final / "adapter_config.json").is_file()
        base = json.loads((final / "adapter_config.json").read_text())["base_model_name_or_path"]
        previous = recipe.stages[-2].name if len(recipe.stages) > 1 else None
        expected = tmp_path / "run" / previous / "merged" if previous else tmp_path / "run" / "base"
        assert base == str(expected)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in records} == {s.name for s in recipe.stages}
    assert all(any("loss" in r for r in records if r["stage"] == s.name) for s in recipe.stages)
    for stage in recipe.stages:
        if stage.kind == "grpo":
            keys = set().union(*(r for r in records if r["stage"] == stage.name))
            assert {"reward", "grad_norm", "completions/mean_length"} <= keys
            assert any(k.startswith("rewards/") for k in keys)
    live = {r["stage"] for r in records if "eval/live_success" in r and r.get("live_eval/jobs") == 2}
    assert live == {s.name for s in recipe.stages if s.live_eval is not None}
    assert plot_run(tmp_path / "run").stat().st_size > 1000
