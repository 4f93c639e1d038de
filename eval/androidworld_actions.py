"""AndroidWorld ``JSONAction`` <-> cua :mod:`cua.actions`, both ways, with AndroidWorld's own semantics.

Source: google-research/android_world ``env/json_action.py`` (the action vocabulary) and ``env/actuation.py``
(what each action does on the phone). One JSONAction may take several cua actions, so :func:`to_cua` returns
a tuple and :func:`from_cua` accepts one action or such a tuple:

================  ==========================================================================================
JSONAction        cua actions
================  ==========================================================================================
click             ``Click(x, y)``; an element ``index`` resolves to the element's centre pixel (as actuation)
double_tap        ``Click, Click`` at the same point (``adb_utils.double_tap`` taps twice)
long_press        ``LongPress(x, y, seconds=1.0)`` (``input swipe x y x y 1000``)
input_text        ``[Click(x, y)] [Key ctrl+a, Key backspace] Type(text) Key(enter)``: focus the field when a
                  point/index is given, clear it when ``clear_text``, type, then Enter (actuation presses Enter
                  after every input_text; an empty text does nothing). A lone cua ``Type`` goes back as
                  input_text, so on AndroidWorld's own env a cua Type ends with Enter, as for their agents.
keyboard_enter    ``Key("enter")`` (no other key exists in JSONAction: other cua keys are ActionUnsupported)
navigate_home     ``Home()``;  navigate_back: ``Back()``;  open_app: ``OpenApp(app_name)``
scroll            ``Scroll(direction)`` -- *content* direction, on both sides (cua's devices execute it as the
                  inverse finger swipe, as actuation does); with an ``index``, ``Scroll(direction, x, y)`` at
                  the element's centre. Back from cua, a scroll point becomes the index of the smallest
                  (scrollable first) element holding it when elements are known, else a whole-screen scroll.
swipe             ``Swipe`` edge to edge through the screen's middle, exactly actuation's geometry: vertical
                  swipes move the finger in ``direction`` (down: y 0 -> h), horizontal ones the other way
                  (left: x 0 -> w, right: x w -> 0), 500 ms. Back from cua, any Swipe maps by its dominant
                  axis with that same rule (its exact points are not kept: AndroidWorld's swipe has none).
wait              ``Wait(seconds=1.0)`` (actuation sleeps 1 s)
status            ``Terminate("success")`` for goal_status ``complete``, ``Terminate("failure")`` for
                  ``infeasible`` (the two statuses AndroidWorld's agents emit)
answer            ``Answer(text)`` (does not end the episode, as in AndroidWorld)
unknown           ``()``: nothing is executed (actuation prints and does nothing)
================  ==========================================================================================

Coordinates are device pixels on both sides (JSONAction's x/y are screen pixels). ``ToolCall`` has no
AndroidWorld form (ActionUnsupported). ``android_world`` must be importable (see docs/evaluation.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from cua.actions import (
    Action, Answer, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Terminate, Type, Wait,
)
from cua.errors import ActionParseError, ActionUnsupported, ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from android_world.env.json_action import JSONAction

LONG_PRESS_SECONDS = 1.0  # adb_utils.long_press: ``input swipe x y x y 1000``
SWIPE_SECONDS = 0.5  # actuation: generate_swipe_command(..., 500)
WAIT_SECONDS = 1.0  # actuation: time.sleep(1.0)
STATUS_TO_CUA = {"complete": "success", "infeasible": "failure"}
STATUS_FROM_CUA = {v: k for k, v in STATUS_TO_CUA.items()}
CLEAR_KEYS = ("ctrl+a", "backspace")  # actuation: keycombination 113 29 (CTRL_LEFT A), keyevent 67 (DEL)
INSTALL_HINT = ("AndroidWorld is not importable: install it as docs/evaluation.md says (pip install -e "
                "'.[androidworld]' and their repository: pip install -e PATH/TO/android_world)")


def json_action_module() -> Any:
    """AndroidWorld's ``env.json_action`` module; ConfigError with the install steps when it is missing."""
    try:
        from android_world.env import json_action
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{INSTALL_HINT}: {exc}") from None
    return json_action


def _box(element: Any) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of an AndroidWorld UIElement (``bbox_pixels``) or a cua one (``bounds``)."""
    bbox = getattr(element, "bbox_pixels", None)
    if bbox is not None:
        return int(bbox.x_min), int(bbox.y_min), int(bbox.x_max), int(bbox.y_max)
    bounds = getattr(element, "bounds", None)
    if bounds is None:
        raise ActionParseError(f"element {element!r} has no bounding box")
    left, top, right, bottom = bounds
    return int(left), int(top), int(right), int(bottom)


def _element(action: "JSONAction", elements: Sequence[Any]) -> Any:
    index = int(action.index)
    if not 0 <= index < len(elements):
        raise ActionParseError(f"element index {index} is not on screen (0..{len(elements) - 1})")
    return elements[index]


def _point(action: "JSONAction", elements: Sequence[Any]) -> tuple[int, int] | None:
    """The pixel the action targets: its element's centre (as actuation: int of the float centre), or x/y."""
    if action.index is not None:
        left, top, right, bottom = _box(_element(action, elements))
        return int((left + right) / 2.0), int((top + bottom) / 2.0)
    if action.x is not None and action.y is not None:
        return int(action.x), int(action.y)
    return None


def _needs_point(action: "JSONAction", elements: Sequence[Any]) -> tuple[int, int]:
    point = _point(action, elements)
    if point is None:
        raise ActionParseError(f"{action.action_type} needs an element index or x and y: {action!r}")
    return point


def _swipe(direction: str, width: int, height: int) -> Swipe:
    """actuation.py's swipe geometry on a width x height screen (its far edges clamped onto the screen)."""
    mid_x, mid_y, right, bottom = int(0.5 * width), int(0.5 * height), width - 1, height - 1
    start, end = {
        "down": ((mid_x, 0), (mid_x, bottom)),
        "up": ((mid_x, bottom), (mid_x, 0)),
        "left": ((0, mid_y), (right, mid_y)),
        "right": ((right, mid_y), (0, mid_y)),
    }[direction]
    return Swipe(x=start[0], y=start[1], x2=end[0], y2=end[1], seconds=SWIPE_SECONDS)


def to_cua(action: "JSONAction", *, screen_size: tuple[int, int], elements: Sequence[Any] = ()) -> tuple[Action, ...]:
    """The cua actions that perform ``action`` (see the module table); ActionParseError when it is incomplete.

    ``screen_size`` = (width, height) in device pixels; ``elements`` = the UI elements its ``index`` refers to.
    """
    kind = action.action_type
    if kind == "click":
        x, y = _needs_point(action, elements)
        return (Click(x=x, y=y),)
    if kind == "double_tap":
        x, y = _needs_point(action, elements)
        return (Click(x=x, y=y), Click(x=x, y=y))
    if kind == "long_press":
        x, y = _needs_point(action, elements)
        return (LongPress(x=x, y=y, seconds=LONG_PRESS_SECONDS),)
    if kind == "input_text":
        if not action.text:
            return ()
        out: list[Action] = []
        point = _point(action, elements)
        if point is not None:
            out.append(Click(x=point[0], y=point[1]))
        if action.clear_text:
            out.extend(Key(key=k) for k in CLEAR_KEYS)
        return (*out, Type(text=action.text), Key(key="enter"))
    if kind == "keyboard_enter":
        return (Key(key="enter"),)
    if kind == "navigate_home":
        return (Home(),)
    if kind == "navigate_back":
        return (Back(),)
    if kind == "open_app":
        if not action.app_name:
            raise ActionParseError("open_app needs an app_name")
        return (OpenApp(app=action.app_name),)
    if kind in ("scroll", "swipe"):
        if action.direction is None:
            raise ActionParseError(f"{kind} needs a direction")
        if kind == "swipe":
            return (_swipe(action.direction, *screen_size),)
        if action.index is not None:
            width, height = screen_size
            left, top, right, bottom = _box(_element(action, elements))
            left, top, right, bottom = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
            return (Scroll(direction=action.direction, x=(left + right) // 2, y=(top + bottom) // 2),)
        return (Scroll(direction=action.direction),)
    if kind == "wait":
        return (Wait(seconds=WAIT_SECONDS),)
    if kind == "status":
        if action.goal_status not in STATUS_TO_CUA:
            raise ActionParseError(f"status goal_status must be one of {sorted(STATUS_TO_CUA)}, got "
                                   f"{action.goal_status!r}")
        return (Terminate(status=STATUS_TO_CUA[action.goal_status]),)  # type: ignore[arg-type]
    if kind == "answer":
        return (Answer(text=action.text or ""),)
    if kind == "unknown":
        return ()
    raise ActionParseError(f"no cua form for AndroidWorld action {kind!r}")


def _contains(box: tuple[int, int, int, int], x: int, y: int) -> bool:
    left, top, right, bottom = box
    return left <= x <= right and top <= y <= bottom


def _scroll_index(x: int, y: int, elements: Sequence[Any]) -> int | None:
    """Index of the smallest element holding (x, y), scrollable ones first; None when none holds it."""
    best: tuple[int, int, int] | None = None
    for i, element in enumerate(elements):
        box = _box(element)
        if not _contains(box, x, y):
            continue
        scrollable = bool(getattr(element, "is_scrollable", False) or
                          (getattr(element, "extra", None) or {}).get("scrollable"))
        key = (0 if scrollable else 1, (box[2] - box[0]) * (box[3] - box[1]), i)
        best = key if best is None or key < best else best
    return None if best is None else best[2]


def _swipe_direction(action: Swipe) -> str:
    dx, dy = action.x2 - action.x, action.y2 - action.y
    if dx == 0 and dy == 0:
        raise ActionUnsupported("a swipe that does not move has no AndroidWorld form")
    if abs(dy) >= abs(dx):
        return "down" if dy > 0 else "up"
    return "left" if dx > 0 else "right"


def _one_from_cua(action: Action, elements: Sequence[Any]) -> "JSONAction":
    JSONAction = json_action_module().JSONAction
    if isinstance(action, Click):
        return JSONAction(action_type="click", x=action.x, y=action.y)
    if isinstance(action, LongPress):
        return JSONAction(action_type="long_press", x=action.x, y=action.y)
    if isinstance(action, Swipe):
        return JSONAction(action_type="swipe", direction=_swipe_direction(action))
    if isinstance(action, Scroll):
        if action.x is not None and action.y is not None:
            index = _scroll_index(action.x, action.y, elements)
            if index is not None:
                return JSONAction(action_type="scroll", direction=action.direction, index=index)
        return JSONAction(action_type="scroll", direction=action.direction)
    if isinstance(action, Type):
        return JSONAction(action_type="input_text", text=action.text)
    if isinstance(action, Key):
        if action.key == "enter":
            return JSONAction(action_type="keyboard_enter")
        raise ActionUnsupported(f"AndroidWorld has no key action for {action.key!r} (only keyboard_enter)")
    if isinstance(action, Back):
        return JSONAction(action_type="navigate_back")
    if isinstance(action, Home):
        return JSONAction(action_type="navigate_home")
    if isinstance(action, OpenApp):
        return JSONAction(action_type="open_app", app_name=action.app)
    if isinstance(action, Wait):
        return JSONAction(action_type="wait")
    if isinstance(action, Answer):
        return JSONAction(action_type="answer", text=action.text)
    if isinstance(action, Terminate):
        return JSONAction(action_type="status", goal_status=STATUS_FROM_CUA[action.status])
    raise ActionUnsupported(f"{action.describe()} has no AndroidWorld JSONAction form")


def from_cua(actions: Action | Sequence[Action], *, elements: Sequence[Any] = ()) -> "JSONAction":
    """The JSONAction for one cua action, or for a tuple :func:`to_cua` produced (see the module table).

    ActionUnsupported for a cua action AndroidWorld cannot express; ActionParseError for a sequence that is
    not one JSONAction's.
    """
    if not isinstance(actions, (tuple, list)):
        return _one_from_cua(actions, elements)  # type: ignore[arg-type]
    seq = list(actions)
    JSONAction = json_action_module().JSONAction
    if not seq:
        return JSONAction(action_type="unknown")
    if len(seq) == 2 and all(isinstance(a, Click) for a in seq) and seq[0] == seq[1]:
        return JSONAction(action_type="double_tap", x=seq[0].x, y=seq[0].y)  # type: ignore[union-attr]
    if len(seq) >= 2 and isinstance(seq[-2], Type) and seq[-1] == Key(key="enter"):
        head, text = seq[:-2], seq[-2].text  # type: ignore[union-attr]
        point = head.pop(0) if head and isinstance(head[0], Click) else None
        clear = [a.key for a in head if isinstance(a, Key)] == list(CLEAR_KEYS) and len(head) == len(CLEAR_KEYS)
        if head and not clear:
            raise ActionParseError(f"not one AndroidWorld action: {[a.describe() for a in seq]}")
        fields: dict[str, Any] = {"text": text}
        if point is not None:
            fields.update(x=point.x, y=point.y)
        if clear:
            fields["clear_text"] = True
        return JSONAction(action_type="input_text", **fields)
    if len(seq) == 1:
        return _one_from_cua(seq[0], elements)
    raise ActionParseError(f"not one AndroidWorld action: {[a.describe() for a in seq]}")
