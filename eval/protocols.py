"""Step-matching protocols for offline evaluation: a predicted Action against a gt :class:`Sample`.

Numbers from different papers are not comparable unless the rule is named; each protocol states its rule:

- ``uitars`` (UI-TARS, Qin et al. 2025, AndroidControl / GUI-Odyssey tables, following GUI-Odyssey
  ``src/eval_mm/GUIOdyssey_action_matching.py``): types must match; click/long_press: inside the gt bbox when
  one is known, or the Euclidean distance between predicted and gt point with each axis normalised by the
  screen size (x / width, y / height; GUI-Odyssey's [0, 1000] / 1000) is <= 0.14; scroll/swipe: same
  direction; type: one text contains the other (after strip), or ANLS = 1 - levenshtein / max(len) >= 0.5;
  every other type (open_app included): type match.
- ``infigui`` (InfiGUI-R1, Liu et al. 2025, ``eval/android_control``): click/long_press inside the gt bbox
  enlarged x1.2 about its centre, or (without a bbox, or outside it) within 0.04 * max(width, height) px of the
  gt point; the rest as ``uitars``.
- ``uir1`` (UI-R1, Lu et al. 2025, AndroidControl evaluation): click/long_press within 0.14 * 1080 px
  (151.2 px, Euclidean, device px) of the gt point; the rest as ``uitars``.
- ``screenspot`` (SeeClick / ScreenSpot-Pro): a click point inside the gt bbox (edges included).

A scroll's direction is the content direction (cua's Scroll); a Swipe counts as the scroll it performs
(finger up = content down). Types: ``click``, ``long_press``, ``scroll`` (Scroll or Swipe), ``type``,
``open_app``, ``back``, ``home``, ``key:<name>``, ``wait``, ``terminate``, ``answer``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from cua.actions import Action, Click, Key, LongPress, Scroll, Swipe, Type, swipe_scroll_direction
from cua.datasets.schema import Sample
from cua.errors import ConfigError

UITARS_RADIUS = 0.14
INFIGUI_BOX_SCALE = 1.2
INFIGUI_RADIUS = 0.04
UIR1_RADIUS_PX = 0.14 * 1080
TEXT_ANLS_THRESHOLD = 0.5


@dataclass(frozen=True)
class StepScore:
    """type_match; grounding (None when the gt is not a click/long_press); success = type and arguments."""

    type_match: bool
    grounding: bool | None
    success: bool


def action_type(action: Action | None) -> str:
    if action is None:
        return "invalid"
    if isinstance(action, (Scroll, Swipe)):
        return "scroll"
    if isinstance(action, Key):
        return f"key:{action.key}"
    return action.kind


def direction(action: Action) -> str | None:
    """Content direction of a Scroll, or of the scroll a Swipe performs."""
    if isinstance(action, Scroll):
        return action.direction
    if isinstance(action, Swipe):
        return swipe_scroll_direction(action.x, action.y, action.x2, action.y2)
    return None


def _gt_point(gt: Sample) -> tuple[float, float]:
    if gt.point:
        return gt.point[0], gt.point[1]
    return float(gt.action.x), float(gt.action.y)


def click_uitars(x: float, y: float, gt: Sample) -> bool:
    if click_in_box(x, y, gt):
        return True
    gx, gy = _gt_point(gt)
    return math.hypot((x - gx) / gt.width, (y - gy) / gt.height) <= UITARS_RADIUS


def click_infigui(x: float, y: float, gt: Sample) -> bool:
    if gt.bbox:
        x1, y1, x2, y2 = gt.bbox
        cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * INFIGUI_BOX_SCALE / 2, (y2 - y1) * INFIGUI_BOX_SCALE / 2
        if cx - hw <= x <= cx + hw and cy - hh <= y <= cy + hh:
            return True
    gx, gy = _gt_point(gt)
    return math.hypot(x - gx, y - gy) <= INFIGUI_RADIUS * max(gt.width, gt.height)


def click_uir1(x: float, y: float, gt: Sample) -> bool:
    gx, gy = _gt_point(gt)
    return math.hypot(x - gx, y - gy) <= UIR1_RADIUS_PX


def click_in_box(x: float, y: float, gt: Sample) -> bool:
    if not gt.bbox:
        return False
    x1, y1, x2, y2 = gt.bbox
    return x1 <= x <= x2 and y1 <= y <= y2


CLICK_RULES: dict[str, Callable[[float, float, Sample], bool]] = {
    "uitars": click_uitars, "infigui": click_infigui, "uir1": click_uir1, "screenspot": click_in_box,
}
PROTOCOLS = tuple(CLICK_RULES)


def levenshtein(a: str, b: str) -> int:
    if len(a) > len(b):
        a, b = b, a
    row = list(range(len(a) + 1))
    for j, cb in enumerate(b):
        new = [j + 1]
        for i, ca in enumerate(a):
            new.append(row[i] if ca == cb else 1 + min(row[i], row[i + 1], new[-1]))
        row = new
    return row[-1]


def text_match(gt: str, pred: str) -> bool:
    """GUI-Odyssey ``text_matching``: containment either way, else ANLS >= 0.5."""
    gt, pred = gt.strip(), pred.strip()
    if gt in pred or pred in gt:
        return True
    length = max(len(gt), len(pred))
    return (1.0 - (levenshtein(gt, pred) / length if length else 0.0)) >= TEXT_ANLS_THRESHOLD


def score_step(pred: Action | None, gt: Sample, protocol: str) -> StepScore:
    """Score one prediction under ``protocol`` (see the module docstring)."""
    if protocol not in CLICK_RULES:
        raise ConfigError(f"unknown protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
    pointed = isinstance(gt.action, (Click, LongPress))
    type_ok = pred is not None and action_type(pred) == action_type(gt.action)
    if not type_ok:
        return StepScore(False, False if pointed else None, False)
    if pointed:
        hit = CLICK_RULES[protocol](float(pred.x), float(pred.y), gt)
        return StepScore(True, hit, hit)
    if isinstance(gt.action, (Scroll, Swipe)):
        return StepScore(True, None, direction(pred) == direction(gt.action))
    if isinstance(gt.action, Type):
        return StepScore(True, None, text_match(gt.action.text, pred.text))
    return StepScore(True, None, True)
