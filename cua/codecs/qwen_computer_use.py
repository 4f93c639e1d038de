"""Qwen2.5-VL ``computer_use`` function calling (desktop): the ``qwen25_computer_use`` codec.

Format (Qwen2.5-VL cookbook ``computer_use``)::

    <tool_call>
    {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [x, y]}}
    </tool_call>

The prompt is the Qwen2.5-VL cookbook's, word for word (:mod:`cua.codecs.qwen_published`: the published
``computer_use`` function in Qwen-Agent's Nous block, the user turn of the mobile cookbook: the query, then the
task progress as numbered steps); cua appends the ``answer`` action (and the device's tools as further
functions). Absolute pixels of the smart-resized image (factor 28). Supported: ``left_click(coordinate)``,
``type(text)``, ``key(keys: [..])`` (a chord, joined with ``+`` into :class:`Key`), ``scroll(pixels[,
coordinate])``, ``wait(time)``, ``terminate(status)``, ``answer(text)``. ``scroll``: positive ``pixels``
turn the wheel up and reveal content above, so ``pixels > 0`` is ``Scroll("up")`` and ``pixels < 0`` is
``Scroll("down")`` (content direction, as cua's Scroll); ``format`` writes ``+-SCROLL_PIXELS``; left/right
scrolls cannot be expressed. ``mouse_move``, ``left_click_drag``, ``right_click``, ``middle_click``,
``double_click`` and ``triple_click`` have no cua Action and raise ActionParseError.
"""

from __future__ import annotations

from typing import Any, Mapping

from cua.actions import Action, Answer, Click, Key, Scroll, Terminate, Type, Wait
from cua.codecs.base import (
    Verb, build, frame_size, number, point_from_device, point_to_device, text_arg,
)
from cua.codecs import qwen_published as published
from cua.codecs.qwen_mobile_use import QwenFunctionCallCodec
from cua.coords import Geometry
from cua.errors import ActionParseError

SCROLL_PIXELS = 5
_UNSUPPORTED = ("mouse_move", "left_click_drag", "right_click", "middle_click", "double_click", "triple_click")


class QwenComputerUse(QwenFunctionCallCodec):
    """The desktop ``computer_use`` codec (see the module docstring)."""

    name = "qwen25_computer_use"
    frame = "model"
    factor = 28
    families = ("qwen2_vl", "qwen2_5_vl")
    function = "computer_use"
    _ARGS = frozenset({"action", "coordinate", "text", "keys", "pixels", "time", "status"})
    verbs = (
        Verb("key", ("key",), "keys: list of key names pressed together"),
        Verb("type", ("type",), "text"), Verb("left_click", ("click",), "coordinate"),
        Verb("scroll", ("scroll",), "pixels, optional coordinate",
             "Turn the mouse wheel: positive pixels scroll up, negative scroll down."),
        Verb("wait", ("wait",), "time"), Verb("terminate", ("terminate",), "status: success | failure"),
        Verb("answer", ("answer",), "text"),
    )

    def function_spec(self, geometry: Geometry) -> dict[str, Any]:
        """Qwen2.5-VL's published ``computer_use`` function; cua adds the ``answer`` action at the end."""
        w, h = frame_size(self.frame, geometry)
        params = published.parameters(published.COMPUTER_USE_PARAMETERS, published.COMPUTER_USE_ACTIONS,
                                      (*published.QWEN25_COMPUTER_ACTIONS, "answer"))
        return published.function(self.function, published.COMPUTER_USE_DESCRIPTION.format(width=w, height=h),
                                   params, qwen_agent_fields=True)

    def arguments(self, action: Action, geometry: Geometry) -> dict[str, Any]:
        if isinstance(action, Click):
            return {"action": "left_click", "coordinate": point_from_device(action.x, action.y, self.frame, geometry)}
        if isinstance(action, Type):
            return {"action": "type", "text": action.text}
        if isinstance(action, Key):
            return {"action": "key", "keys": action.key.split("+")}
        if isinstance(action, Scroll) and action.direction in ("up", "down"):
            out: dict[str, Any] = {"action": "scroll",
                                   "pixels": SCROLL_PIXELS if action.direction == "up" else -SCROLL_PIXELS}
            if action.x is not None:
                out["coordinate"] = point_from_device(action.x, action.y, self.frame, geometry)
            return out
        return self.shared_arguments(action)

    def from_arguments(self, args: Mapping[str, Any], geometry: Geometry) -> Action:
        kind = args.get("action")
        if kind == "left_click":
            x, y = point_to_device(args.get("coordinate"), self.frame, geometry)
            return build(Click, x=x, y=y)
        if kind == "type":
            return build(Type, text=text_arg(args, "text", kind))
        if kind == "answer":
            return build(Answer, text=text_arg(args, "text", kind))
        if kind == "key":
            keys = args.get("keys")
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k.strip() for k in keys):
                raise ActionParseError(f"key needs a non-empty list of key names, got {keys!r}")
            return build(Key, key="+".join(k.strip() for k in keys))
        if kind == "scroll":
            return self._scroll(args, geometry)
        if kind == "wait":
            return build(Wait, seconds=number(args.get("time", 1.0), "time"))
        if kind == "terminate":
            return build(Terminate, status=args.get("status", "success"))
        if kind in _UNSUPPORTED:
            raise ActionParseError(f"{kind} has no cua action; supported: {[v.name for v in self.verbs]}")
        raise ActionParseError(f"unknown {self.function} action {kind!r}; valid: {[v.name for v in self.verbs]}")

    def _scroll(self, args: Mapping[str, Any], geometry: Geometry) -> Action:
        pixels = number(args.get("pixels"), "pixels")
        if pixels == 0:
            raise ActionParseError("scroll pixels must not be 0")
        direction = "up" if pixels > 0 else "down"
        if "coordinate" in args:
            x, y = point_to_device(args["coordinate"], self.frame, geometry)
            return build(Scroll, direction=direction, x=x, y=y)
        return build(Scroll, direction=direction)


QWEN25_COMPUTER_USE = QwenComputerUse()
