"""GTA1 grounding reward (Yang et al. 2025, arXiv 2507.05791; GTA1 ``src/grpo_grounding.py`` ``click_reward``).

``gta1`` reproduces ``click_reward``: every ``(x, y)`` is found with ``\\((-?\\d*\\.?\\d+),\\s*(-?\\d*\\.?\\d+)\\)``
and converted with ``int`` (a decimal point fails, as in the original); more than one point scores 0; the
point (in the resized image the model saw) must lie in the gt box, whose corners are mapped to that image and
truncated with ``int`` (GTA1 stores boxes in [0, 1000] and multiplies by resized size / 1000; cua stores device
px and divides by the device/model scale). Edges count as inside. No format term (β 0 recipe, hit only).

``codec_hit`` applies the same hit rule to answers in any codec's format (GTA1 prints a bare ``(x,y)``;
recipes that answer in, e.g., ``qwen25_mobile_use`` tool calls or ``grid8`` cells need this): the completion
must parse with the row's ``codec`` (column) into an action with exactly one point, and that device point must
lie in the gt box (edges inside); an off-screen point scores 0.
"""

from __future__ import annotations

import re
from typing import Any

from cua.rewards.codec_format import codec_action
from cua.rewards.registry import box, register, safe, scales

POINT = re.compile(r"\((-?\d*\.?\d+),\s*(-?\d*\.?\d+)\)")


def hit(text: str, columns: dict[str, Any], i: int) -> float:
    matches = [tuple(map(int, m)) for m in POINT.findall(text)]
    b = box(columns, i)
    if len(matches) != 1 or not b:
        return 0.0
    sx, sy = scales(columns, i)
    x, y = matches[0]
    x0, y0, x1, y1 = int(b[0] / sx), int(b[1] / sy), int(b[2] / sx), int(b[3] / sy)
    return 1.0 if x0 <= x <= x1 and y0 <= y <= y1 else 0.0


def _codec_hit(text: str, columns: dict[str, Any], i: int) -> float:
    b = box(columns, i)
    points = codec_action(text, columns, i).xy() if b else []
    if len(points) != 1:
        return 0.0
    x, y = points[0]
    return 1.0 if b[0] <= x <= b[2] and b[1] <= y <= b[3] else 0.0


@register("gta1")
def gta1(completions: list, **columns: Any) -> list:
    """GTA1: 1 iff exactly one integer ``(x,y)`` is predicted and it lies in the gt box.

    >>> gta1(["(15, 25)", "(15, 25) or (1, 1)", "(15.5, 25)", "nothing"], bbox=[[10, 20, 30, 40]] * 4)
    [1.0, 0.0, 0.0, 0.0]
    """
    return safe(lambda t, i: hit(t, columns, i))(completions, 0)


@register("codec_hit")
def codec_hit(completions: list, **columns: Any) -> list:
    """GTA1's hit rule on the row codec's answer (see the module docstring).

    >>> ok = '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [20, 30]}}</tool_call>'
    >>> codec_hit([ok, "(20, 30)"], bbox=[[10, 20, 30, 40]] * 2, codec=["qwen25_mobile_use"] * 2,
    ...           width=[100] * 2, height=[100] * 2, model_width=[100] * 2, model_height=[100] * 2)
    [1.0, 0.0]
    """
    return safe(lambda t, i: _codec_hit(t, columns, i))(completions, 0)
