"""GUI-R1 reward (Luo et al. 2025; ritzz-ai/GUI-R1 ``verl/utils/reward_score/r1gui.py``).

overall = 0.8 * accuracy + 0.2 * format, reproducing ``r1gui_compute_score``:

- format: ``<think>.*?</think>\\s*<answer>.*?</answer>`` full match (DOTALL); the answer is a list of dicts
  each with ``action``, ``point``, ``input_text``; ``type``/``select``/``open_app`` need a text, ``scroll`` a
  text in up/down/left/right. The answer is read by cua's strict literal parser (the original ``eval``\\ s it).
- accuracy: action names differ -> 0; ``click``: with a 4-value gt box, the point strictly inside it; with a
  2-value gt point, within 140 px (Euclidean, ``< 140``); ``type``/``select``/``scroll``: token F1 of the
  texts >= 0.5 (``calculate_f1_score``; single tokens match by substring); any other matching type -> 1.
  Departure: ``open_app`` is also scored by F1 >= 0.5 (as GUI-R1's evaluation script and later r1gui.py
  versions do), so a wrong app name is not rewarded.

Frames: GUI-R1 compares in the resized image the model saw, so the gt box / point (device px) is divided by
the device/model scale before comparing. Ground truth: ``extra["gt_action"]``/``gt_input_text`` when the
sample came from GUI-R1 data, else mapped from the cua ``action`` (back -> press_back, home -> press_home,
key enter -> enter, terminate -> complete).
"""

from __future__ import annotations

import math
import re
from typing import Any

from cua.codecs._literal import parse_literal
from cua.rewards.registry import box, json_column, register, safe, scales, target

OUTER = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.DOTALL)
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
CLICK_RADIUS = 140
F1_THRESHOLD = 0.5
TEXT_ACTIONS = ("type", "select", "open_app")
F1_ACTIONS = ("type", "select", "scroll", "open_app")
DIRECTIONS = ("up", "down", "left", "right")
NAMES = {"back": "press_back", "home": "press_home", "terminate": "complete", "long_press": "long_press"}


def calculate_f1_score(predicted: str, truth: str) -> float:
    """GUI-R1's token F1 over lower-cased whitespace tokens ("[" and "]" removed)."""
    p = set(str(predicted).replace("[", "").replace("]", "").lower().split())
    g = set(str(truth).replace("[", "").replace("]", "").lower().split())
    if len(p) == 1 and len(g) == 1:
        a, b = next(iter(p)), next(iter(g))
        if a in b or b in a:
            return 1.0
    common = p & g
    precision = len(common) / len(p) if p else 0.0
    recall = len(common) / len(g) if g else 0.0
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def first_action(text: str) -> dict[str, Any] | None:
    """The first dict of the answer list, or None."""
    m = ANSWER.search(text)
    if not m:
        return None
    value = parse_literal(m.group(1).strip())
    if isinstance(value, dict):
        value = [value]
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else None


def format_score(text: str) -> float:
    if not OUTER.fullmatch(text):
        return 0.0
    value = parse_literal(ANSWER.search(text).group(1).strip())
    if not isinstance(value, list) or not value:
        return 0.0
    for item in value:
        if not isinstance(item, dict) or not {"action", "point", "input_text"} <= set(item):
            return 0.0
        point, action, typed = item["point"], str(item["action"]).lower(), str(item["input_text"])
        if not isinstance(point, list) or len(point) != 2 or not all(isinstance(v, (int, float)) for v in point):
            return 0.0
        if action in TEXT_ACTIONS and typed in ("", "no input text"):
            return 0.0
        if action == "scroll" and typed.lower() not in DIRECTIONS:
            return 0.0
    return 1.0


def ground_truth(columns: dict[str, Any], i: int) -> tuple[str, str, list[float]]:
    """(action name, input text, gt box or point in device px)."""
    extra = json_column(columns, "extra", i)
    if extra.get("gt_action"):
        return str(extra["gt_action"]), str(extra.get("gt_input_text", "")), list(extra.get("gt_bbox") or [])
    gt = target(columns, i)
    kind = str(gt.get("action", ""))
    if kind == "key" and gt.get("key") == "enter":
        return "enter", "", []
    text = str(gt.get("text") or gt.get("direction") or gt.get("app") or "")
    geometry = box(columns, i) or ([float(gt["x"]), float(gt["y"])] if "x" in gt and "y" in gt else [])
    return NAMES.get(kind, kind), text, geometry


def accuracy_score(text: str, columns: dict[str, Any], i: int) -> float:
    pred = first_action(text)
    if pred is None:
        return 0.0
    gt_action, gt_text, gt_geom = ground_truth(columns, i)
    if str(pred.get("action", "")).lower() != gt_action.lower():
        return 0.0
    if gt_action == "click":
        sx, sy = scales(columns, i)
        px, py = float(pred["point"][0]), float(pred["point"][1])
        if len(gt_geom) == 2:
            return 1.0 if math.hypot(px - gt_geom[0] / sx, py - gt_geom[1] / sy) < CLICK_RADIUS else 0.0
        if len(gt_geom) == 4:
            x1, y1, x2, y2 = gt_geom[0] / sx, gt_geom[1] / sy, gt_geom[2] / sx, gt_geom[3] / sy
            return 1.0 if x1 < px < x2 and y1 < py < y2 else 0.0
        return 0.0
    if gt_action in F1_ACTIONS:
        return 1.0 if calculate_f1_score(str(pred.get("input_text", "")), gt_text) >= F1_THRESHOLD else 0.0
    return 1.0


@register("gui_r1")
def gui_r1(completions: list, **columns: Any) -> list:
    """GUI-R1 overall score 0.8 * accuracy + 0.2 * format, in [0, 1].

    >>> good = "<think>t</think><answer>[{'action': 'click', 'point': [50, 50], 'input_text': 'no input text'}]</answer>"
    >>> gui_r1([good, "click(50, 50)"], action=['{"action": "click", "x": 50, "y": 50}'] * 2,
    ...        bbox=[[40, 40, 60, 60]] * 2)
    [1.0, 0.0]
    """
    return safe(lambda t, i: 0.8 * accuracy_score(t, columns, i) + 0.2 * format_score(t))(completions, 0)


@register("gui_r1_format")
def gui_r1_format(completions: list, **columns: Any) -> list:
    """GUI-R1 ``r1gui_format_reward`` alone.

    >>> gui_r1_format(["<think>t</think><answer>[{'action': 'scroll', 'point': [0, 0], 'input_text': 'sideways'}]</answer>"])
    [0.0]
    """
    return safe(lambda t, i: format_score(t))(completions, 0)


@register("gui_r1_accuracy")
def gui_r1_accuracy(completions: list, **columns: Any) -> list:
    """GUI-R1 ``r1gui_accuracy_reward`` alone.

    >>> gui_r1_accuracy(["<answer>[{'action': 'type', 'point': [0, 0], 'input_text': 'hello there'}]</answer>"],
    ...                 action=['{"action": "type", "text": "hello"}'])
    [1.0]
    """
    return safe(lambda t, i: accuracy_score(t, columns, i))(completions, 0)
