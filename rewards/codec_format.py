"""Codec-generic rewards: the completion read by the codec the row names (column ``codec``).

``codec_format``: 1.0 when that codec reads the completion as an action, else 0.0. A point outside the screen
is a well-formed answer (``ActionOutOfBounds`` scores 1: the format is fine, the click is not; the accuracy
rewards, e.g. ``codec_hit`` in :mod:`cua.rewards.gta1`, score it 0); anything else the codec rejects, and a row
without a known codec, scores 0. Geometry comes from the ``width``/``height`` and ``model_width``/
``model_height`` columns (:func:`cua.rewards.registry.geometry`).
"""

from __future__ import annotations

from typing import Any

from cua.actions import Action
from cua.errors import ActionOutOfBounds
from cua.rewards.registry import column, geometry, register, safe


def codec_action(text: str, columns: dict[str, Any], i: int) -> Action:
    """Row ``i``'s completion parsed by the row's codec (raises ActionError / ConfigError on failure)."""
    from cua.codecs import get_codec

    return get_codec(str(column(columns, "codec", i))).parse(text, geometry(columns, i))


def _well_formed(text: str, columns: dict[str, Any], i: int) -> float:
    try:
        codec_action(text, columns, i)
    except ActionOutOfBounds:
        return 1.0
    return 1.0


@register("codec_format")
def codec_format(completions: list, **columns: Any) -> list:
    """1.0 when the row's codec parses the completion (an off-screen point included), else 0.0.

    >>> ok = '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [20, 30]}}</tool_call>'
    >>> off = ok.replace("[20, 30]", "[500, 30]")
    >>> codec_format([ok, off, "click here"], codec=["qwen25_mobile_use"] * 3, width=[100] * 3,
    ...              height=[100] * 3, model_width=[100] * 3, model_height=[100] * 3)
    [1.0, 1.0, 0.0]
    """
    return safe(lambda t, i: _well_formed(t, columns, i))(completions, 0)
