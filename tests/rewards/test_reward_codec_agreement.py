"""A codec's rendering of the gt action earns the full reward of the recipe that codec belongs to.

Built through the training data path (``cua.train.data.to_trl_row``) on synthetic samples, so the columns
are exactly what trl passes to rewards (device-px bbox, model-image size, codec name).
"""

from __future__ import annotations

import pytest

from cua import rewards
from cua.codecs import get_codec
from cua.datasets.synthetic import make_sample
from cua.train.data import Pixels, to_trl_row

CASES = [  # (codec, reward, full score)
    ("ui_r1", "ui_r1", 3.0),
    ("gui_r1", "gui_r1", 1.0),
    ("qwen25_mobile_use", "codec_hit", 1.0),
    ("qwen25_mobile_use", "codec_format", 1.0),
    ("qwen3_mobile_use", "codec_hit", 1.0),
]


@pytest.mark.parametrize("codec_name,reward,full", CASES, ids=[f"{c}-{r}" for c, r, _ in CASES])
@pytest.mark.parametrize("size", ["small", "phone"])
def test_gold_completion_scores_full(codec_name, reward, full, size):
    codec = get_codec(codec_name)
    pixels = Pixels(codec.factor, 4 * 28 * 28, 1024 * 28 * 28)
    for i in range(5):
        row = to_trl_row(make_sample(i, task="attribute", size=size).to_row() | {"image": make_sample(
            i, task="attribute", size=size).image}, i, codec, pixels, with_completion=True)
        completion = row["completion"]
        cols = {k: [v] for k, v in row.items() if k not in ("prompt", "completion", "images")}
        assert rewards.get(reward)([completion], **cols) == [full]
