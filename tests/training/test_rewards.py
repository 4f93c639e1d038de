"""Codec-generic rewards (codec_hit, codec_format) and reward-name resolution."""

from __future__ import annotations

import pytest

from cua.errors import ConfigError
import cua.train  # noqa: F401  (registers the grid8 codec)
from cua.rewards.codec_format import codec_format
from cua.rewards.gta1 import codec_hit
from cua.train.rewards import completion_text, resolve_reward

COLS = dict(codec=["grid8"] * 4, width=[256] * 4, height=[256] * 4, model_width=[256] * 4, model_height=[256] * 4,
            bbox=[[96, 160, 128, 192]] * 4)


@pytest.mark.parametrize("completion, hit, fmt", [
    ("35", 1.0, 1.0),                                 # cell centre (112, 176) inside the box
    ([{"role": "assistant", "content": "35"}], 1.0, 1.0),  # trl conversational completion
    ("36", 0.0, 1.0),                                 # neighbour cell: parses, misses
    ("x", 0.0, 0.0),
    ("", 0.0, 0.0),
])
def test_hit_and_format_table(completion, hit, fmt):
    cols = {k: v[:1] for k, v in COLS.items()}
    assert codec_hit([completion], **cols) == [hit]
    assert codec_format([completion], **{k: v for k, v in cols.items() if k != "bbox"}) == [fmt]


def test_completion_text_forms():
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "ab"}]}]) == "ab"
    assert completion_text(None) == ""


def test_unknown_reward_is_config_error_naming_valid_ones():
    with pytest.raises(ConfigError, match="codec_hit"):
        resolve_reward("no_such_reward")


def test_resolved_reward_carries_recipe_name():
    assert resolve_reward("codec_hit").__name__ == "codec_hit"
