"""GUI-R1's answer format: the ``gui_r1`` codec (Luo et al. 2025, github.com/ritzz-ai/GUI-R1).

Completion::

    <think>...</think><answer>[{'action': 'click', 'point': [x, y], 'input_text': 'no input text'}]</answer>

``point`` is ``[-100, -100]`` when the action has no point; ``input_text`` is ``'no input text'`` when it has
no text. Absolute pixels of the smart-resized image (Qwen2.5-VL, factor 28). Actions (GUI-R1's set):
``click``, ``long_press``, ``type`` (input_text = the text), ``scroll`` (input_text = up/down/left/right,
the content direction, as cua's Scroll; the point, if any, is where to scroll), ``press_back``,
``press_home``, ``enter`` (``Key("enter")``), ``open_app`` (input_text = app), ``wait`` (input_text =
seconds), ``complete`` (``Terminate("success")``). ``select`` and ``close/delete`` have no cua action and
raise ActionParseError; tool calls, answers and failure cannot be expressed in this format.
"""

from __future__ import annotations

from typing import Any, Sequence

from cua.actions import Action, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Terminate, Type, Wait
from cua.codecs._answer import ThinkAnswerCodec, answer_dict
from cua.codecs.base import Verb, build, frame_size, number, point_from_device, point_to_device, unsupported
from cua.coords import Geometry
from cua.errors import ActionParseError

NO_POINT = [-100, -100]
NO_TEXT = "no input text"


class GUIR1(ThinkAnswerCodec):
    """The GUI-R1 codec (see the module docstring)."""

    name = "gui_r1"
    verbs = (
        Verb("click", ("click",), "point"), Verb("long_press", ("long_press",), "point"),
        Verb("type", ("type",), "input_text"), Verb("scroll", ("scroll",), "input_text: up | down | left | right"),
        Verb("press_back", ("back",)), Verb("press_home", ("home",)), Verb("enter", ("key",), "", "Press enter."),
        Verb("open_app", ("open_app",), "input_text: app name"), Verb("wait", ("wait",), "input_text: seconds"),
        Verb("complete", ("terminate",), "", "The task is complete."),
    )

    def system_prompt(self, geometry: Geometry, tools: Sequence[Any] = ()) -> str:
        w, h = frame_size(self.frame, geometry)
        return (
            f"You are GUI-R1, a reasoning GUI Agent Assistant. The screenshot is {w}x{h} pixels.\n"
            "Available actions:\n" + self.action_space() + "\n"
            "Output the thinking process in <think> </think> tags, and the final answer in <answer> </answer> "
            "tags as follows:\n<think> ... </think> <answer>[{'action': 'click', 'point': [x, y], "
            "'input_text': 'no input text'}]</answer>\nUse 'point': [-100, -100] for actions without a point."
        )

    def user_text(self, goal: str, history: Sequence[str], n_images: int) -> str:
        past = "; ".join(history) or "None"
        return (f"In this UI screenshot, I want you to continue executing the command '{goal}', with the action "
                f"history being '{past}'.")

    def payload(self, action: Action, geometry: Geometry) -> dict[str, Any]:
        pt = lambda x, y: point_from_device(x, y, self.frame, geometry)  # noqa: E731
        point, text = NO_POINT, NO_TEXT
        if isinstance(action, (Click, LongPress)) and not (isinstance(action, LongPress) and action.seconds != 1.0):
            kind, point = ("click" if isinstance(action, Click) else "long_press"), pt(action.x, action.y)
        elif isinstance(action, Type):
            kind, text = "type", action.text
        elif isinstance(action, Scroll):
            kind, text = "scroll", action.direction
            point = pt(action.x, action.y) if action.x is not None else NO_POINT
        elif isinstance(action, (Back, Home)):
            kind = "press_back" if isinstance(action, Back) else "press_home"
        elif isinstance(action, Key) and action.key == "enter":
            kind = "enter"
        elif isinstance(action, OpenApp):
            kind, text = "open_app", action.app
        elif isinstance(action, Wait):
            kind, text = "wait", f"{action.seconds:g}"
        elif isinstance(action, Terminate) and action.status == "success":
            kind = "complete"
        else:
            raise unsupported(self.name, action)
        return {"action": kind, "point": list(point), "input_text": text}

    def parse(self, text: str, geometry: Geometry) -> Action:
        d = answer_dict(text)
        kind, point, arg = d["action"], d.get("point", NO_POINT), d.get("input_text", NO_TEXT)
        if not isinstance(arg, str):
            raise ActionParseError(f"input_text must be a string, got {arg!r}")
        has_point = not (isinstance(point, list) and len(point) == 2 and point == NO_POINT)
        if kind in ("click", "long_press"):
            if not has_point:
                raise ActionParseError(f"{kind} needs a point")
            x, y = point_to_device(point, self.frame, geometry, "point")
            return build(Click if kind == "click" else LongPress, x=x, y=y)
        if kind == "scroll":
            if has_point:
                x, y = point_to_device(point, self.frame, geometry, "point")
                return build(Scroll, direction=arg.strip().lower(), x=x, y=y)
            return build(Scroll, direction=arg.strip().lower())
        simple = {"press_back": Back, "press_home": Home, "complete": Terminate}
        if kind in simple:
            return build(simple[kind])
        if kind == "enter":
            return build(Key, key="enter")
        if kind in ("type", "open_app"):
            if arg == NO_TEXT:
                raise ActionParseError(f"{kind} needs input_text")
            return build(Type, text=arg) if kind == "type" else build(OpenApp, app=arg)
        if kind == "wait":
            return build(Wait, seconds=number(_float(arg), "wait seconds") if arg != NO_TEXT else 1.0)
        raise ActionParseError(f"unknown gui_r1 action {kind!r}; valid: {[v.name for v in self.verbs]}")


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ActionParseError(f"wait input_text must be a number of seconds, got {text!r}") from None


GUI_R1 = GUIR1()
