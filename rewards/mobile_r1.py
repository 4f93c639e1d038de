"""Mobile-R1 stage-2 rewards (Gu et al. 2025, arXiv 2506.20332; no public code: built from the paper).

R = action + format, each 0/1, on Qwen2.5-VL ``mobile_use`` tool calls in the paper's template (the
``mobile_r1`` codec, :mod:`cua.codecs.mobile_r1`, writes it; the ``mobile_r1`` recipe uses that codec):

- format: ``<think>...</think>``, ``<action>...</action>`` (the natural-language step) and
  ``<tool_call>{json}</tool_call>`` in that order and nothing else, with a tool call naming ``mobile_use``
  and an ``arguments.action``;
- action: the predicted type equals the gt type, and for ``click``/``long_press``/``swipe`` the (start)
  point, scaled from the model image to device px, lies in the gt bbox; for ``type`` the text and for
  ``system_button`` the button match exactly; ``open`` matches the app name exactly; other types score on
  type alone. A gt ``scroll`` without a bbox matches a swipe whose finger motion reveals that direction.
"""

from __future__ import annotations

import re
from typing import Any

from cua.actions import swipe_scroll_direction
from cua.codecs._literal import parse_literal
from cua.rewards.registry import box, register, safe, scales, target

FORMAT = re.compile(r"\s*<think>.*?</think>\s*<action>.*?</action>\s*<tool_call>(.*?)</tool_call>\s*", re.DOTALL)
TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
BUTTONS = {"back": "Back", "home": "Home"}
POINTED = ("click", "long_press", "swipe")


def _call(text: str) -> dict[str, Any] | None:
    m = TOOL_CALL.search(text)
    if not m:
        return None
    value = parse_literal(m.group(1).strip())
    if not isinstance(value, dict) or not isinstance(value.get("arguments"), dict):
        return None
    args = value["arguments"]
    return args if isinstance(args.get("action"), str) else None


def format_score(text: str) -> float:
    m = FORMAT.fullmatch(text)
    if not m:
        return 0.0
    value = parse_literal(m.group(1).strip())
    ok = isinstance(value, dict) and value.get("name") == "mobile_use" and isinstance(value.get("arguments"), dict)
    return 1.0 if ok and isinstance(value["arguments"].get("action"), str) else 0.0


def _gt(columns: dict[str, Any], i: int) -> tuple[str, dict[str, Any]]:
    gt = target(columns, i)
    kind = str(gt.get("action", ""))
    if kind in BUTTONS:
        return "system_button", {"button": BUTTONS[kind]}
    if kind == "key" and gt.get("key") in ("enter", "menu"):
        return "system_button", {"button": str(gt["key"]).capitalize()}
    if kind == "open_app":
        return "open", {"text": gt.get("app")}
    return kind, gt


def _reveals(args: dict[str, Any], direction: str) -> bool:
    (x, y), (x2, y2) = args["coordinate"], args["coordinate2"]
    return swipe_scroll_direction(float(x), float(y), float(x2), float(y2)) == direction


def action_score(text: str, columns: dict[str, Any], i: int) -> float:
    args = _call(text)
    if args is None:
        return 0.0
    kind, gt = _gt(columns, i)
    pred = args["action"]
    if kind == "scroll" and pred == "swipe" and not box(columns, i):
        return 1.0 if _reveals(args, str(gt.get("direction"))) else 0.0
    if pred != kind and not (kind == "scroll" and pred == "swipe"):
        return 0.0
    if pred in POINTED:
        b = box(columns, i)
        sx, sy = scales(columns, i)
        x, y = float(args["coordinate"][0]) * sx, float(args["coordinate"][1]) * sy
        return 1.0 if b and b[0] <= x <= b[2] and b[1] <= y <= b[3] else 0.0
    if pred == "type":
        return 1.0 if args.get("text") == gt.get("text") else 0.0
    if pred == "system_button":
        return 1.0 if args.get("button") == gt.get("button") else 0.0
    if pred == "open":
        return 1.0 if args.get("text") == gt.get("text") else 0.0
    return 1.0


@register("mobile_r1_action", maximum=2.0)
def mobile_r1_action(completions: list, **columns: Any) -> list:
    """Mobile-R1 stage 2: action + format, in [0, 2].

    >>> good = ('<think>t</think><action>tap it</action><tool_call>{"name": "mobile_use", '
    ...         '"arguments": {"action": "click", "coordinate": [5, 5]}}</tool_call>')
    >>> mobile_r1_action([good], action=['{"action": "click", "x": 10, "y": 10}'], bbox=[[0, 0, 20, 20]],
    ...                  width=[100], height=[100], model_width=[50], model_height=[50])
    [2.0]
    """
    return safe(lambda t, i: action_score(t, columns, i) + format_score(t))(completions, 0)


@register("mobile_r1_format")
def mobile_r1_format(completions: list, **columns: Any) -> list:
    """Mobile-R1 format reward alone.

    >>> mobile_r1_format(['<tool_call>{"name": "mobile_use", "arguments": {"action": "wait"}}</tool_call>'])
    [0.0]
    """
    return safe(lambda t, i: format_score(t))(completions, 0)
