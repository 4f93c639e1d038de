"""Held-out metrics: parse rate, click-in-box, chance (area and grid), and the random-button baseline."""

from __future__ import annotations

import json

import pytest

import cua.train  # noqa: F401  (registers grid8)
from cua.train import evaluate as ev


def row(bbox, buttons=None, codec="grid8", size=256):
    extra = {"task": "attribute", "buttons": buttons} if buttons else {"task": "localise", "distractors": 3}
    return {"prompt": [], "images": [], "bbox": bbox, "width": size, "height": size, "model_width": size,
            "model_height": size, "codec": codec, "extra": json.dumps(extra)}


def test_chance_by_area_and_by_grid_cells():
    r = row([0, 0, 128, 64])
    assert ev.chance(r, None) == pytest.approx(0.125)
    # cell centres at 16, 48, 80, ...: columns 0-3 and rows 0-1 fall inside -> 8 of 64 cells
    assert ev.chance(r, 8) == pytest.approx(8 / 64)


def test_metrics_from_completions(monkeypatch):
    rows = [row([0, 0, 31, 31], buttons=4), row([32, 32, 63, 63], buttons=2), row([200, 200, 255, 255], buttons=5)]
    monkeypatch.setattr(ev, "generate", lambda model, processor, rows, n: ["00", "00", "no idea"])

    class Model:
        training = False

        def eval(self):
            pass

        def train(self, mode=True):
            pass

    m = ev.evaluate(Model(), None, rows)
    assert m["eval/n"] == 3
    assert m["eval/parse_rate"] == pytest.approx(2 / 3)
    assert m["eval/hit_rate"] == pytest.approx(1 / 3)  # cell 00's centre (16, 16) is in the first box only
    assert m["eval/random_button"] == pytest.approx((1 / 4 + 1 / 2 + 1 / 5) / 3)
    assert "eval/random_button" not in ev.evaluate(Model(), None, [row([0, 0, 31, 31])] * 3)
