"""UI-R1's answer format: the ``ui_r1`` codec (Lu et al. 2025, github.com/lll6gg/UI-R1).

Completion::

    <think>...</think><answer>[{'action': 'click', 'coordinate': [x, y]}]</answer>

Python-style single-quoted literals are read by a strict tokenizer (:mod:`cua.codecs._literal`), never
evaluated. Absolute pixels of the smart-resized image (Qwen2.5-VL, factor 28). The action set is
AndroidControl's, as UI-R1 trains on it: ``click(coordinate)``, ``long_press(coordinate)``,
``scroll(direction)`` (content direction, as AndroidControl/AndroidWorld and cua's Scroll),
``input_text(text)``, ``open_app(app_name)``, ``navigate_back``, ``navigate_home``, ``wait``; plus
``terminate(status)`` and ``tool_call(name, arguments)`` so cua episodes can end and use tools.
"""

from __future__ import annotations

from typing import Any, Sequence

from cua.actions import (
    Action, Back, Click, Home, LongPress, OpenApp, Scroll, Terminate, ToolCall, Type, Wait,
)
from cua.codecs._answer import ThinkAnswerCodec, answer_dict
from cua.codecs.base import (
    Verb, build, frame_size, point_from_device, point_to_device, text_arg, tools_json, unsupported,
)
from cua.coords import Geometry
from cua.errors import ActionParseError


class UIR1(ThinkAnswerCodec):
    """The UI-R1 codec (see the module docstring)."""

    name = "ui_r1"
    verbs = (
        Verb("click", ("click",), "'coordinate': [x, y]"), Verb("long_press", ("long_press",), "'coordinate': [x, y]"),
        Verb("scroll", ("scroll",), "'direction': up | down | left | right"),
        Verb("input_text", ("type",), "'text': str"), Verb("open_app", ("open_app",), "'app_name': str"),
        Verb("navigate_back", ("back",)), Verb("navigate_home", ("home",)), Verb("wait", ("wait",)),
        Verb("terminate", ("terminate",), "'status': success | failure"),
        Verb("tool_call", ("tool_call",), "'name': str, 'arguments': dict"),
    )

    def system_prompt(self, geometry: Geometry, tools: Sequence[Any] = ()) -> str:
        w, h = frame_size(self.frame, geometry)
        text = (
            "You are a GUI agent. You see a screenshot of a phone screen "
            f"({w}x{h} pixels) and perform one action per step towards the user's task.\n"
            "Available actions:\n" + self.action_space() + "\n"
            "Output the thinking process in <think> </think> and the final answer in <answer> </answer> tags, "
            "as follows:\n<think> ... </think><answer>[{'action': 'click', 'coordinate': [x, y]}]</answer>\n"
            "Please strictly follow the format."
        )
        if tools:
            text += "\nTools callable with the tool_call action:\n" + "\n".join(tools_json(tools))
        return text

    def user_text(self, goal: str, history: Sequence[str], n_images: int) -> str:
        past = "; ".join(history) or "None"
        return (f"In this UI screenshot, I want to perform the command '{goal}'. Action history: {past}. "
                "Please provide the next action.")

    def payload(self, action: Action, geometry: Geometry) -> dict[str, Any]:
        pt = lambda x, y: point_from_device(x, y, self.frame, geometry)  # noqa: E731
        if isinstance(action, Click):
            return {"action": "click", "coordinate": pt(action.x, action.y)}
        if isinstance(action, LongPress) and action.seconds == 1.0:
            return {"action": "long_press", "coordinate": pt(action.x, action.y)}
        if isinstance(action, Scroll) and action.x is None:
            return {"action": "scroll", "direction": action.direction}
        if isinstance(action, Type):
            return {"action": "input_text", "text": action.text}
        if isinstance(action, OpenApp):
            return {"action": "open_app", "app_name": action.app}
        if isinstance(action, (Back, Home)):
            return {"action": "navigate_back" if isinstance(action, Back) else "navigate_home"}
        if isinstance(action, Wait) and action.seconds == 1.0:
            return {"action": "wait"}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        if isinstance(action, ToolCall):
            return {"action": "tool_call", "name": action.name, "arguments": dict(action.arguments)}
        raise unsupported(self.name, action)

    def parse(self, text: str, geometry: Geometry) -> Action:
        d = answer_dict(text)
        kind = d["action"]
        if kind in ("click", "long_press"):
            x, y = point_to_device(d.get("coordinate"), self.frame, geometry)
            return build(Click if kind == "click" else LongPress, x=x, y=y)
        if kind == "scroll":
            return build(Scroll, direction=text_arg(d, "direction", kind))
        if kind == "input_text":
            return build(Type, text=text_arg(d, "text", kind))
        if kind == "open_app":
            return build(OpenApp, app=text_arg(d, "app_name", kind))
        if kind in ("navigate_back", "navigate_home"):
            return build(Back if kind == "navigate_back" else Home)
        if kind == "wait":
            return build(Wait)
        if kind == "terminate":
            return build(Terminate, status=d.get("status", "success"))
        if kind == "tool_call":
            return build(ToolCall, name=text_arg(d, "name", kind), arguments=d.get("arguments", {}))
        raise ActionParseError(f"unknown ui_r1 action {kind!r}; valid: {[v.name for v in self.verbs]}")


UI_R1 = UIR1()
