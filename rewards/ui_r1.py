"""UI-R1 rewards (Lu et al. 2025; lll6gg/UI-R1 ``src/ui_r1/src/open_r1/grpo_json_action_coord.py``).

R = R_format + R_type + R_coord, each 0/1, reproducing the released functions:

- type (``accuracy_reward_action``): the action names extracted by ``'action':\\s*'(\\w+)'`` (then
  ``'action':\\s*(\\w+)``) inside ``<answer>`` are equal;
- coord (``accuracy_reward_coord``): the types match and, for ``click``, the first ``[x, y]`` in the answer
  (``\\[(\\d+),\\s*(\\d+)]``), scaled by ``scales`` (original / resized image size) and truncated to int,
  lies in the gt bbox (inclusive); any other matching type scores 1;
- format: ``ui_r1`` uses ``format_reward`` (``<think>.*?</think>\\s*<answer>.*?</answer>`` full match, DOTALL);
  ``ui_r1_action_only`` uses ``action_only_format_reward``, which the released script's ``main`` registers
  as "format" (``<answer>\\[{'action': '.*?', 'coordinate': \\[\\d+, \\d+\\]}\\]</answer>`` full match).

Ground truth comes from the sample: ``action`` (cua JSON, mapped to UI-R1 names: type -> input_text,
back -> navigate_back, home -> navigate_home) or ``extra["ui_r1_action"]``; ``bbox`` in device px;
``width/height`` and ``model_width/model_height`` give the scale.
"""

from __future__ import annotations

import re
from typing import Any

from cua.rewards.registry import box, json_column, register, safe, scales, target

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
ACTION = re.compile(r"'action':\s*'(\w+)'")
ACTION_BARE = re.compile(r"'action':\s*(\w+)")
COORD = re.compile(r"\[(\d+),\s*(\d+)]")
THINK_FORMAT = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.DOTALL)
ACTION_ONLY_FORMAT = re.compile(r"<answer>\[{'action': '.*?', 'coordinate': \[\d+, \d+\]}\]</answer>", re.DOTALL)
NAMES = {"type": "input_text", "back": "navigate_back", "home": "navigate_home"}


def extract_action(text: str) -> str | None:
    """UI-R1's ``extract_action``."""
    m = ANSWER.search(text)
    if not m:
        return None
    answer = m.group(1).strip()
    found = ACTION.search(answer) or ACTION_BARE.search(answer)
    return found.group(1) if found else None


def extract_coord(text: str) -> tuple[list[int], bool]:
    """UI-R1's ``extract_coord``: the first ``[x, y]`` in the answer, or ``([0, 0], False)``."""
    m = ANSWER.search(text)
    if m:
        c = COORD.search(m.group(1).strip())
        if c:
            return [int(c.group(1)), int(c.group(2))], True
    return [0, 0], False


def gt_type(columns: dict[str, Any], i: int) -> str:
    extra = json_column(columns, "extra", i)
    if extra.get("ui_r1_action"):
        return str(extra["ui_r1_action"])
    kind = str(target(columns, i).get("action", ""))
    return NAMES.get(kind, kind)


def type_score(text: str, columns: dict[str, Any], i: int) -> float:
    pred = extract_action(text)
    return 1.0 if pred and pred == gt_type(columns, i) else 0.0


def coord_score(text: str, columns: dict[str, Any], i: int) -> float:
    gt = gt_type(columns, i)
    if extract_action(text) != gt:
        return 0.0
    if gt != "click":
        return 1.0
    (x, y), _ = extract_coord(text)
    sx, sy = scales(columns, i)
    x, y = int(x * sx), int(y * sy)
    b = box(columns, i) or [0.0, 0.0, 0.0, 0.0]
    return 1.0 if b[0] <= x <= b[2] and b[1] <= y <= b[3] else 0.0


def _total(completions: list, columns: dict[str, Any], fmt: re.Pattern) -> list:
    def one(text: str, i: int) -> float:
        return (1.0 if fmt.fullmatch(text) else 0.0) + type_score(text, columns, i) + coord_score(text, columns, i)

    return safe(one)(completions, len(completions))


@register("ui_r1", maximum=3.0)
def ui_r1(completions: list, **columns: Any) -> list:
    """UI-R1: format (think/answer) + type + coordinate, in [0, 3].

    >>> done = "<think>x</think><answer>[{'action': 'click', 'coordinate': [50, 60]}]</answer>"
    >>> ui_r1([done], action=['{"action": "click", "x": 100, "y": 120}'], bbox=[[90, 110, 110, 130]],
    ...       width=[200], height=[200], model_width=[100], model_height=[100])
    [3.0]
    """
    return _total(completions, columns, THINK_FORMAT)


@register("ui_r1_action_only", maximum=3.0)
def ui_r1_action_only(completions: list, **columns: Any) -> list:
    """UI-R1 as the released script's ``main`` registers it (action-only answer format), in [0, 3].

    >>> ui_r1_action_only(["<answer>[{'action': 'scroll', 'coordinate': [0, 0]}]</answer>"],
    ...                   action=['{"action": "scroll", "direction": "down"}'])
    [3.0]
    """
    return _total(completions, columns, ACTION_ONLY_FORMAT)


@register("ui_r1_format")
def ui_r1_format(completions: list, **columns: Any) -> list:
    """UI-R1 ``format_reward`` alone.

    >>> ui_r1_format(["<think>a</think> <answer>b</answer>", "<answer>b</answer>"])
    [1.0, 0.0]
    """
    return safe(lambda t, i: 1.0 if THINK_FORMAT.fullmatch(t) else 0.0)(completions, len(completions))


@register("ui_r1_type")
def ui_r1_type(completions: list, **columns: Any) -> list:
    """UI-R1 ``accuracy_reward_action`` alone.

    >>> ui_r1_type(["<answer>[{'action': 'input_text'}]</answer>"], action=['{"action": "type", "text": "a"}'])
    [1.0]
    """
    return safe(lambda t, i: type_score(t, columns, i))(completions, len(completions))


@register("ui_r1_coord")
def ui_r1_coord(completions: list, **columns: Any) -> list:
    """UI-R1 ``accuracy_reward_coord`` alone.

    >>> ui_r1_coord(["<answer>[{'action': 'click', 'coordinate': [5, 5]}]</answer>"],
    ...             action=['{"action": "click", "x": 1, "y": 1}'], bbox=[[0, 0, 4, 4]])
    [0.0]
    """
    return safe(lambda t, i: coord_score(t, columns, i))(completions, len(completions))
