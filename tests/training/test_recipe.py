"""Recipe parsing: unknown keys list the valid ones, --set overrides, shipped recipes validate."""

from __future__ import annotations

import pytest
import yaml

from cua.errors import ConfigError
from cua.train.recipe import apply_override, load_recipe, parse_recipe, parse_value, shipped_recipes

BASE = {"name": "t", "model": {"tiny": "qwen3_vl"}, "codec": "grid8",
        "stages": [{"name": "sft", "kind": "sft", "trl": {"max_steps": 1}}]}


def raw(**changes):
    out = yaml.safe_load(yaml.safe_dump(BASE))
    out.update(changes)
    return out


@pytest.mark.parametrize("bad, where, listed", [
    (raw(colour=1), "recipe", "freeze_vision"),
    (raw(model={"tiny": "qwen3_vl", "size": 3}), "recipe.model", "tiny_overrides"),
    (raw(lora={"rank": 8}), "recipe.lora", "target_modules"),
    (raw(data=[{"loader": "x", "count": 3}]), "recipe.data[0]", "weight"),
    (raw(rewards=[{"name": "x", "w": 1}]), "recipe.rewards[0]", "weight"),
    (raw(stages=[{"name": "s", "kind": "sft", "lr": 1}]), "stages[0]", "trl"),
    (raw(stages=[{"name": "s", "kind": "sft", "trl": {"learning_rat": 1}}]), "stages[0].trl", "learning_rate"),
    (raw(stages=[{"name": "g", "kind": "grpo", "trl": {"num_generation": 4}}]), "stages[0].trl", "num_generations"),
])
def test_unknown_keys_name_the_place_and_list_valid_keys(bad, where, listed):
    with pytest.raises(ConfigError) as exc:
        parse_recipe(bad)
    assert where in str(exc.value) and listed in str(exc.value)


@pytest.mark.parametrize("bad, fragment", [
    (raw(stages=[]), "non-empty"),
    (raw(stages=[{"name": "s", "kind": "ppo"}]), "sft, grpo"),
    (raw(model={"tiny": "qwen3_vl", "path": "x"}), "exactly one"),
    (raw(stages=[{"name": "a", "kind": "sft"}, {"name": "a", "kind": "sft"}]), "unique"),
    (raw(stages=[{"name": "a", "kind": "sft", "init": "later"}]), "valid: base"),
])
def test_structural_errors(bad, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_recipe(bad)


@pytest.mark.parametrize("text, value", [
    ("1e-4", 1e-4), ("1.0e-6", 1e-6), ("8", 8), ("true", True), ("null", None), ("[a, b]", ["a", "b"]),
    ("{r: 8}", {"r": 8}), ("qwen3_vl", "qwen3_vl"), ("-3", -3),
])
def test_set_values_parse_as_yaml(text, value):
    assert parse_value(text) == value


def test_set_by_index_stage_name_and_new_keys():
    r = raw()
    apply_override(r, "stages.0.trl.max_steps=7")
    apply_override(r, "stages.sft.trl.learning_rate=1e-3")
    apply_override(r, "lora.r=4")
    apply_override(r, "model={tiny: qwen2_vl}")
    recipe = parse_recipe(r)
    assert recipe.stages[0].trl == {"max_steps": 7, "learning_rate": 1e-3}
    assert recipe.lora.r == 4 and recipe.model.tiny == "qwen2_vl"


@pytest.mark.parametrize("assignment", ["nokey", "=3", "stages.9.trl.x=1", "stages.nope.trl.x=1", "name.x=1"])
def test_bad_set_is_config_error(assignment):
    with pytest.raises(ConfigError):
        apply_override(raw(), assignment)


@pytest.mark.parametrize("path", shipped_recipes(), ids=lambda p: p.stem)
def test_shipped_recipes_validate_and_cite_sources(path):
    recipe = load_recipe(path)
    assert recipe.source and recipe.stages
    for stage in recipe.stages:
        if stage.kind == "grpo":
            assert recipe.stage_rewards(stage)


def test_shipped_recipes_by_name_and_facts():
    ui = load_recipe("ui_r1").stages[0].trl
    assert (ui["num_generations"], ui["beta"], ui["learning_rate"], ui["temperature"],
            ui["max_completion_length"]) == (8, 0.04, 1e-6, 0.9, 256)
    gui = load_recipe("gui_r1").stages[0].trl
    assert (gui["num_generations"], gui["beta"]) == (5, 0.01)
    gta = load_recipe("gta1")
    assert gta.freeze_vision and gta.stages[0].trl["beta"] == 0.0 and gta.stages[0].trl["max_completion_length"] == 128
    assert [s.kind for s in load_recipe("mobile_r1").stages] == ["sft", "grpo", "grpo_online"]
    arpo = load_recipe("arpo").stages[0]
    assert (arpo.online.group_size, arpo.online.max_episode_steps, arpo.online.format_failure) == (8, 15, -1.0)
    assert arpo.online.replay == {"size": 8, "min_success": 0.1, "std_below": 0.05, "mean_below": 0.2}
    assert (arpo.trl["beta"], arpo.trl["epsilon"], arpo.trl["epsilon_high"]) == (0.0, 0.2, 0.3)


def test_missing_recipe_lists_shipped():
    with pytest.raises(ConfigError, match="ui_r1"):
        load_recipe("/nonexistent/recipe.yaml")


def test_stage_overrides_eval_period_and_set():
    stages = [{"name": "a", "kind": "sft", "eval_every": 10, "trl": {"max_steps": 1}},
              {"name": "b", "kind": "sft", "eval_data": [{"loader": "synthetic", "args": {"task": "attribute"}}],
               "trl": {"max_steps": 1}}]
    recipe = parse_recipe(raw(stages=stages, eval_every=40, eval_data=[{"loader": "synthetic"}]))
    a, b = recipe.stages
    assert (a.eval_every, b.eval_every) == (10, None)
    assert recipe.stage_eval_data(a) == recipe.eval_data
    assert recipe.stage_eval_data(b)[0].args == {"task": "attribute"}
    with pytest.raises(ConfigError, match="eval_data"):
        parse_recipe(raw(stages=[{"name": "s", "kind": "sft", "eval_set": []}]))
