"""Every shipped recipe: its codec's rendering of the gold action earns its rewards' maximum; a wrong action less.

Built through the training data path (``cua.train.data.to_trl_row``) on synthetic screens, so the columns are
exactly what trl passes to rewards (device-px bbox, model-image size, codec name). The score of a completion is
the recipe's weighted sum over its offline rewards (the recipe's, and those of its ``grpo`` stages). Recipes
trained on step data (AndroidControl-style loaders) are also checked on every other action kind those datasets
hold; grounding recipes (ScreenSpot-style, synthetic) on clicks.
"""

from __future__ import annotations

import json

import pytest

import cua.train  # noqa: F401  (registers the grid8 codec the smoke recipe uses)
from cua import rewards
from cua.actions import Action, Back, Click, Home, Key, OpenApp, Scroll, Terminate, Type, Wait
from cua.codecs import get_codec
from cua.datasets.synthetic import make_sample
from cua.errors import ActionUnsupported
from cua.train.data import Pixels, to_trl_row
from cua.train.recipe import Recipe, load_recipe, shipped_recipes

GROUNDING_LOADERS = {"screenspot", "synthetic"}
RECIPES = {path.stem: load_recipe(path) for path in shipped_recipes()}

# (gold, wrong) pairs of the non-click kinds step datasets hold (AndroidControl: type, scroll, open_app,
# navigate_back/home, wait, terminate; GUI-R1 adds enter). The wrong action is of another kind: UI-R1's reward
# checks only the type for these (as the paper), GUI-R1's accepts near texts (F1 > 0.5).
STEP_PAIRS = [
    (Type(text="hello world"), Back()), (Scroll(direction="down"), Type(text="down")), (OpenApp(app="Clock"), Back()),
    (Back(), Home()), (Home(), Back()), (Key(key="enter"), Back()), (Wait(), Back()),
    (Terminate(status="success"), Back()),
]


def offline_rewards(recipe: Recipe) -> list[tuple[str, float]]:
    """The rewards the recipe's offline ``grpo`` stages score completions with (online stages score episodes)."""
    specs: list = []
    for stage in recipe.stages:
        if stage.kind == "grpo":
            specs += [s for s in recipe.stage_rewards(stage) if s not in specs]
    return [(s.name, s.weight) for s in specs]


def score(recipe: Recipe, row: dict, completion: str) -> float:
    cols = {k: [v] for k, v in row.items() if k not in ("prompt", "completion", "images")}
    return sum(w * rewards.get(name)([completion], **cols)[0] for name, w in offline_rewards(recipe))


def best(recipe: Recipe) -> float:
    return sum(w * rewards.maximum(name) for name, w in offline_rewards(recipe))


def rows(recipe: Recipe, size: str, action: Action | None = None) -> list[tuple[dict, Action]]:
    """trl rows for synthetic screens, with their gold action (the sample's click unless ``action``)."""
    codec = get_codec(recipe.codec)
    pixels = Pixels(codec.factor, recipe.min_pixels or 4 * 28 * 28, recipe.max_pixels or 1024 * 28 * 28)
    out = []
    for i in range(3):
        sample = make_sample(i, task="attribute", size=size)
        raw = sample.to_row() | {"image": sample.image}
        if action is not None:
            raw |= {"action": json.dumps(action.to_dict()), "bbox": None, "point": None}
        gold = action or sample.action
        out.append((to_trl_row(raw, i, codec, pixels, with_completion=True), gold))
    return out


def missed_click(row: dict) -> Click:
    """A click in the screen corner farthest from the gt box."""
    x1, y1, x2, y2 = row["bbox"]
    w, h = row["width"], row["height"]
    return Click(x=0 if x1 + x2 > w else w - 1, y=0 if y1 + y2 > h else h - 1)


OFFLINE = sorted(n for n, r in RECIPES.items() if offline_rewards(r))
STEP_RECIPES = [n for n in OFFLINE if {s.loader for s in RECIPES[n].data} - GROUNDING_LOADERS]


def _sizes(recipe: Recipe) -> list[str]:
    """The synthetic screen sizes a recipe trains on, else a small and a phone screen."""
    sizes = {s.args.get("size") for s in recipe.data if s.loader == "synthetic"} - {None}
    return sorted(sizes) or ["small", "phone"]


def test_every_shipped_recipe_is_checked():
    """The offline recipes are all here; the others train only online (episode rewards, no completion score)."""
    assert {"gta1", "gui_r1", "mobile_r1", "smoke", "ui_r1"} <= set(OFFLINE)
    assert set(STEP_RECIPES) == {"gui_r1", "mobile_r1", "ui_r1"}
    for name in set(RECIPES) - set(OFFLINE):
        assert all(stage.kind != "grpo" for stage in RECIPES[name].stages), name


@pytest.mark.parametrize("name,size", [(n, s) for n in OFFLINE for s in _sizes(RECIPES[n])])
def test_gold_click_scores_the_maximum_and_a_miss_less(name, size):
    recipe = RECIPES[name]
    codec = get_codec(recipe.codec)
    for row, gold in rows(recipe, size):
        geometry = Pixels(codec.factor, recipe.min_pixels or 4 * 28 * 28,
                          recipe.max_pixels or 1024 * 28 * 28).geometry(row["width"], row["height"])
        assert row["completion"][0]["content"] == codec.format(gold, geometry)
        assert score(recipe, row, row["completion"][0]["content"]) == pytest.approx(best(recipe)), name
        assert score(recipe, row, codec.format(missed_click(row), geometry)) < best(recipe) - 1e-9, name


def _expressible(name: str, action: Action) -> bool:
    try:
        get_codec(RECIPES[name].codec).format(action, Pixels(28, 3136, 802816).geometry(1080, 2400))
    except ActionUnsupported:
        return False
    return True


STEP_CASES = [(n, g, w) for n in STEP_RECIPES for g, w in STEP_PAIRS if _expressible(n, g)]


@pytest.mark.parametrize("name,gold,wrong", STEP_CASES, ids=[f"{n}-{g.describe()}" for n, g, _ in STEP_CASES])
def test_step_recipes_score_every_gold_kind_at_the_maximum(name, gold, wrong):
    recipe = RECIPES[name]
    codec = get_codec(recipe.codec)
    row, _ = rows(recipe, "phone", gold)[0]
    geometry = Pixels(codec.factor, 4 * 28 * 28, 1024 * 28 * 28).geometry(row["width"], row["height"])
    assert score(recipe, row, codec.format(gold, geometry)) == pytest.approx(best(recipe)), gold
    assert score(recipe, row, codec.format(wrong, geometry)) < best(recipe) - 1e-9, wrong
