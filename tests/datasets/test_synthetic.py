"""Synthetic screens: deterministic by seed, targets where the pixels say, fast enough for smoke tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cua.actions import Click
from cua.datasets import LOADERS, Sample
from cua.datasets.synthetic import COLOURS, SIZES, make_sample
from cua.errors import ConfigError


@pytest.mark.parametrize("task", ["localise", "attribute", "labelled"])
@pytest.mark.parametrize("size", list(SIZES))
def test_same_seed_same_pixels_and_target_inside(task, size):
    a, b = make_sample(3, seed=5, task=task, size=size), make_sample(3, seed=5, task=task, size=size)
    assert a.image.tobytes() == b.image.tobytes() and a.goal == b.goal and a.bbox == b.bbox
    assert (a.width, a.height) == SIZES[size] == a.image.size
    x1, y1, x2, y2 = a.bbox
    assert isinstance(a.action, Click) and x1 <= a.action.x <= x2 and y1 <= a.action.y <= y2
    assert make_sample(4, seed=5, task=task, size=size).image.tobytes() != a.image.tobytes()


@settings(max_examples=40)
@given(index=st.integers(0, 10_000), seed=st.integers(0, 100))
def test_attribute_target_has_the_named_colour(index, seed):
    s = make_sample(index, seed=seed, task="attribute")
    colour = s.goal.split()[2]
    assert s.image.getpixel((s.action.x, s.action.y)) == COLOURS[colour]
    assert s.extra["buttons"] >= 2


@settings(max_examples=40)
@given(index=st.integers(0, 10_000))
def test_localise_target_is_the_filled_button(index):
    s = make_sample(index, task="localise")
    assert s.image.getpixel((s.action.x, s.action.y)) == (30, 110, 230)
    assert s.goal == "click the button"


def test_loader_and_row_roundtrip():
    ds = LOADERS["synthetic"](n=6, seed=1, task="attribute", start=100)
    back = [Sample.from_row(r) for r in ds]
    assert [s.episode_id for s in back] == [f"attribute-small-1-{i}" for i in range(100, 106)]
    assert back[0].action == make_sample(100, seed=1, task="attribute").action
    with pytest.raises(ConfigError, match="valid"):
        LOADERS["synthetic"](n=1, task="colour")


def test_curriculum_knobs_no_distractors_and_larger_target():
    easy = [make_sample(i, seed=2, distractors=0, target_scale=1.4) for i in range(40)]
    full = [make_sample(i, seed=2) for i in range(40)]
    for s in easy:
        assert s.extra["distractors"] == 0 and s.episode_id.startswith("localise-d0_0-t1.4-")
        x1, y1, x2, y2 = (int(v) for v in s.bbox)
        pixels = np.asarray(s.image).copy()
        pixels[y1:y2 + 1, x1:x2 + 1] = 245
        assert (pixels == 245).all(), "a screen without distractors shows only the button"
    area = lambda s: (s.bbox[2] - s.bbox[0]) * (s.bbox[3] - s.bbox[1])  # noqa: E731
    assert sum(map(area, easy)) / sum(map(area, full)) > 1.7
    assert all(2 <= s.extra["distractors"] <= 5 for s in full)
    assert full[0].episode_id == "localise-small-2-0", "defaults keep the original stream"
    ranged = LOADERS["synthetic"](n=12, seed=1, distractors=[1, 1])
    assert {Sample.from_row(r).extra["distractors"] for r in ranged} == {1}


@pytest.mark.parametrize("kwargs, fragment", [
    ({"distractors": [3, 1]}, "lo <= hi"), ({"distractors": 9}, "lo <= hi"), ({"target_scale": 5.0}, "0.5..3.0"),
    ({"task": "attribute", "distractors": 0}, "localise task only"),
    ({"task": "attribute", "buttons": 1}, "2 <= lo"), ({"task": "attribute", "buttons": [2, 7]}, "<= 6"),
    ({"buttons": 2}, "attribute task only"),
    ({"task": "attribute", "buttons": 2, "distractors": 0}, "localise task only"),
])
def test_bad_curriculum_knobs_are_config_errors(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        make_sample(0, **kwargs)


def test_attribute_buttons_knob():
    two = [make_sample(i, seed=3, task="attribute", buttons=2) for i in range(20)]
    assert {s.extra["buttons"] for s in two} == {2} and two[0].episode_id == "attribute-b2_2-small-3-0"
    for s in two:
        assert s.image.getpixel((s.action.x, s.action.y)) == COLOURS[s.goal.split()[2]]
    assert make_sample(0, seed=3, task="attribute").episode_id == "attribute-small-3-0"
