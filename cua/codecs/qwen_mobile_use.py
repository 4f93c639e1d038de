"""Qwen-VL ``mobile_use`` function calling: ``qwen25_mobile_use``, ``qwen3_mobile_use``, ``qwen2_mobile_use``.

Format (Qwen2.5-VL cookbook ``mobile_agent`` / MobileAgent-v3 ``gui_owl.py`` / InfiGUI-R1 AndroidControl eval)::

    <tool_call>
    {"name": "mobile_use", "arguments": {"action": "click", "coordinate": [x, y]}}
    </tool_call>

Prompts are the published ones, word for word (:mod:`cua.codecs.qwen_published`): ``qwen25_mobile_use`` the
Qwen2.5-VL cookbook's (``mobile_use`` tool in Qwen-Agent's Nous block after "You are a helpful assistant.";
user turn "The user query:  ..." then "Task progress ...: Step 1: <call>; "); ``qwen3_mobile_use`` the
Qwen3-VL cookbook's (tool block, then its "# Response format"; its user turn); ``qwen2_mobile_use`` the
Qwen2.5-VL one in the relative frame (Qwen2-VL has no published mobile agent prompt; the screen is given as
``999x999``, as Qwen3-VL's relative-frame prompt does). cua's additions, appended in the published style:
the actions the published list lacks (``answer`` for Qwen2.5-VL, ``key`` and ``open`` for Qwen3-VL, each with
its published wording from the sibling prompt) at the end of the action description and enum; the device's
tools as further functions in the ``<tools>`` block; with ``history_images``, one line saying which
screenshots follow. A parsed answer may carry Qwen3-VL's "Thought: ... Action: ..." lines before the call.

Actions: ``key(text)``, ``click(coordinate)``, ``long_press(coordinate, time)``,
``swipe(coordinate, coordinate2)``, ``type(text)``, ``system_button(button: Back|Home|Menu|Enter)``,
``open(text)``, ``wait(time)``, ``terminate(status)``, ``answer(text)`` (GUI-Owl). Mapping to cua: Back/Home
buttons are :class:`Back`/:class:`Home`; Menu/Enter are ``Key("menu")``/``Key("enter")``. The format has no
scroll: a :class:`Scroll` (content direction) is written as the finger swipe that performs it
(:func:`cua.actions.scroll_to_swipe`, the inverse motion) and therefore parses back as a :class:`Swipe`.
A :class:`ToolCall` is a ``<tool_call>`` naming the tool itself. The history describes each earlier action as
its call JSON (``{"name": "mobile_use", "arguments": {...}}``), as the cookbook does.

Frames: ``qwen25_mobile_use`` uses absolute pixels of the smart-resized image (factor 28, the Qwen2.5-VL
default); ``qwen3_mobile_use`` uses [0, 1000] relative coordinates (factor 32, the Qwen3-VL default);
``qwen2_mobile_use`` uses [0, 1000] with factor 28 (Qwen2-VL's grounding convention).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from cua.actions import (
    Action, Answer, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Terminate, ToolCall, Type, Wait,
    scroll_to_swipe,
)
from cua.codecs import qwen_published as published
from cua.codecs._literal import tagged_literal
from cua.codecs.base import (
    Codec, Verb, build, frame_size, number, point_from_device, point_to_device, text_arg, unsupported,
)
from cua.coords import Frame, Geometry
from cua.errors import ActionParseError

_BUTTONS = {"Back": Back, "Home": Home, "Menu": "menu", "Enter": "enter"}
_KEY_BUTTONS = {"menu": "Menu", "enter": "Enter"}


def extract_tool_call(text: str) -> tuple[str, Mapping[str, Any]]:
    """The one ``<tool_call>`` in ``text`` as ``(name, arguments)``; ActionParseError otherwise."""
    obj = tagged_literal(text, "tool_call")
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        raise ActionParseError("a tool call must be a JSON object with a string 'name'")
    args = obj.get("arguments", {})
    if not isinstance(args, dict):
        raise ActionParseError("tool call 'arguments' must be a JSON object")
    if set(obj) - {"name", "arguments"}:
        raise ActionParseError(f"unknown tool call keys {sorted(set(obj) - {'name', 'arguments'})}")
    return obj["name"], args


def render_tool_call(name: str, arguments: Mapping[str, Any]) -> str:
    body = json.dumps({"name": name, "arguments": dict(arguments)}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


class QwenFunctionCallCodec(Codec):
    """Shared by Qwen2.5-VL's function-call codecs: one function (``function``) whose ``arguments`` carry the
    action; a call to any other name is a device tool (ToolCall). Subclasses map Actions to and from arguments.
    """

    function: str = ""
    _ARGS: frozenset[str] = frozenset()
    #: Which published prompt: ``qwen25`` (Qwen2.5-VL cookbooks) or ``qwen3`` (Qwen3-VL cookbook).
    prompt: str = "qwen25"

    def function_spec(self, geometry: Geometry) -> dict[str, Any]:
        """The published function (description and parameters) with cua's additions, for this screen."""
        raise NotImplementedError

    def system_prompt(self, geometry: Geometry, tools: Sequence[Any] = ()) -> str:
        """The published system prompt: the function, then the device's tools, in the Nous tool block."""
        legacy = self.prompt == "qwen25"
        functions = [self.function_spec(geometry)] + [
            published.function(t.name, t.description, dict(t.parameters), qwen_agent_fields=legacy) for t in tools]
        if legacy:
            return published.tool_block(published.QWEN25_SYSTEM, functions)
        return published.tool_block("", functions) + published.QWEN3_RESPONSE_FORMAT

    def user_text(self, goal: str, history: Sequence[str], n_images: int) -> str:
        """The published user turn (query, then the task progress); cua's line about earlier screenshots."""
        text = (published.qwen25_query if self.prompt == "qwen25" else published.qwen3_query)(goal, history)
        if n_images:
            text += f"\nThe last {n_images} screenshots before this step follow (oldest first), then the current one."
        return text

    def arguments(self, action: Action, geometry: Geometry) -> dict[str, Any]:
        raise NotImplementedError

    def from_arguments(self, args: Mapping[str, Any], geometry: Geometry) -> Action:
        raise NotImplementedError

    def shared_arguments(self, action: Action) -> dict[str, Any]:
        """Arguments of the actions both functions spell alike (wait, terminate, answer); else unsupported."""
        if isinstance(action, Wait):
            return {"action": "wait", "time": action.seconds}
        if isinstance(action, Terminate):
            return {"action": "terminate", "status": action.status}
        if isinstance(action, Answer):
            return {"action": "answer", "text": action.text}
        raise unsupported(self.name, action)

    def call(self, action: Action, geometry: Geometry) -> tuple[str, dict[str, Any]]:
        """``(function name, arguments)`` of the call that performs ``action``."""
        if isinstance(action, ToolCall):
            return action.name, dict(action.arguments)
        return self.function, self.arguments(action, geometry)

    def answer_payload(self, action: Action, geometry: Geometry) -> str:
        """The call as JSON, ``{"name": ..., "arguments": {...}}`` (the cookbook's history steps)."""
        name, args = self.call(action, geometry)
        return json.dumps({"name": name, "arguments": args}, ensure_ascii=False)

    def format(self, action: Action, geometry: Geometry) -> str:
        return render_tool_call(*self.call(action, geometry))

    def parse(self, text: str, geometry: Geometry) -> Action:
        name, args = extract_tool_call(text)
        if name != self.function:
            return build(ToolCall, name=name, arguments=args)
        unknown = set(args) - self._ARGS
        if unknown:
            raise ActionParseError(f"{self.function} does not take {sorted(unknown)}")
        return self.from_arguments(args, geometry)


class QwenMobileUse(QwenFunctionCallCodec):
    """The ``mobile_use`` function-call codec in one coordinate frame (see the module docstring)."""

    function = "mobile_use"
    _ARGS = frozenset({"action", "coordinate", "coordinate2", "text", "time", "button", "status"})
    verbs = (
        Verb("key", ("key",), "text"), Verb("click", ("click",), "coordinate"),
        Verb("long_press", ("long_press",), "coordinate, time"),
        Verb("swipe", ("swipe",), "coordinate, coordinate2",
             "Swipe the finger from coordinate to coordinate2 (to scroll, swipe opposite to the content you "
             "want to reveal)."),
        Verb("type", ("type",), "text"),
        Verb("system_button", ("back", "home"), "button: Back | Home | Menu | Enter"),
        Verb("open", ("open_app",), "text"), Verb("wait", ("wait",), "time"),
        Verb("terminate", ("terminate",), "status: success | failure"), Verb("answer", ("answer",), "text"),
    )

    def __init__(self, name: str, frame: Frame, factor: int, families: tuple[str, ...], *, prompt: str = "qwen25"
                 ) -> None:
        self.name, self.frame, self.factor, self.families, self.prompt = name, frame, factor, families, prompt
        if prompt == "qwen25":
            self.actions, self.text = (*published.QWEN25_MOBILE_ACTIONS, "answer"), None
        else:
            self.actions, self.text = (*published.QWEN3_MOBILE_ACTIONS, "key", "open"), published.QWEN3_TEXT_DESCRIPTION

    def function_spec(self, geometry: Geometry) -> dict[str, Any]:
        w, h = frame_size(self.frame, geometry) if self.frame == "model" else (999, 999)
        params = published.parameters(published.MOBILE_USE_PARAMETERS, published.MOBILE_USE_ACTIONS, self.actions,
                                      self.text)
        return published.function(self.function, published.MOBILE_USE_DESCRIPTION.format(width=w, height=h), params,
                                   qwen_agent_fields=self.prompt == "qwen25")

    def arguments(self, action: Action, geometry: Geometry) -> dict[str, Any]:
        """The ``mobile_use`` arguments for ``action`` (ActionUnsupported if it has none)."""
        pt = lambda x, y: point_from_device(x, y, self.frame, geometry)  # noqa: E731
        if isinstance(action, Click):
            return {"action": "click", "coordinate": pt(action.x, action.y)}
        if isinstance(action, LongPress):
            return {"action": "long_press", "coordinate": pt(action.x, action.y), "time": action.seconds}
        if isinstance(action, Scroll):
            action = scroll_to_swipe(action, geometry.width, geometry.height)
        if isinstance(action, Swipe):
            return {"action": "swipe", "coordinate": pt(action.x, action.y), "coordinate2": pt(action.x2, action.y2)}
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, Key):
            if action.key in _KEY_BUTTONS:
                return {"action": "system_button", "button": _KEY_BUTTONS[action.key]}
            return {"action": "key", "text": action.key}
        if isinstance(action, (Back, Home)):
            return {"action": "system_button", "button": "Back" if isinstance(action, Back) else "Home"}
        if isinstance(action, OpenApp):
            return {"action": "open", "text": action.app}
        return self.shared_arguments(action)

    def from_arguments(self, args: Mapping[str, Any], geometry: Geometry) -> Action:
        kind = args.get("action")
        pt = lambda key: point_to_device(args.get(key), self.frame, geometry, key)  # noqa: E731
        if kind == "click":
            x, y = pt("coordinate")
            return build(Click, x=x, y=y)
        if kind == "long_press":
            x, y = pt("coordinate")
            return build(LongPress, x=x, y=y, seconds=number(args.get("time", 1.0), "time"))
        if kind == "swipe":
            (x, y), (x2, y2) = pt("coordinate"), pt("coordinate2")
            return build(Swipe, x=x, y=y, x2=x2, y2=y2)
        if kind in ("type", "key", "open", "answer"):
            text = text_arg(args, "text", kind)
            cls, field = {"type": (Type, "text"), "key": (Key, "key"), "open": (OpenApp, "app"),
                          "answer": (Answer, "text")}[kind]
            return build(cls, **{field: text})
        if kind == "system_button":
            button = _BUTTONS.get(text_arg(args, "button", kind))
            if button is None:
                raise ActionParseError(f"system_button must be one of {list(_BUTTONS)}, got {args['button']!r}")
            return build(Key, key=button) if isinstance(button, str) else build(button)
        if kind == "wait":
            return build(Wait, seconds=number(args.get("time", 1.0), "time"))
        if kind == "terminate":
            return build(Terminate, status=args.get("status", "success"))
        raise ActionParseError(f"unknown {self.function} action {kind!r}; valid: {[v.name for v in self.verbs]}")


QWEN25_MOBILE_USE = QwenMobileUse("qwen25_mobile_use", "model", 28, ("qwen2_vl", "qwen2_5_vl"))
QWEN3_MOBILE_USE = QwenMobileUse("qwen3_mobile_use", "norm1000", 32, ("qwen3_vl",), prompt="qwen3")
QWEN2_MOBILE_USE = QwenMobileUse("qwen2_mobile_use", "norm1000", 28, ("qwen2_vl", "qwen2_5_vl"))
