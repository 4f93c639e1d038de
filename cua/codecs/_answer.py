"""Shared by the R1-style codecs (``ui_r1``, ``gui_r1``): ``<think>...</think><answer>[{...}]</answer>``."""

from __future__ import annotations

from typing import Any

from cua.actions import Action
from cua.codecs._literal import tagged_literal
from cua.codecs.base import Codec
from cua.coords import Geometry
from cua.errors import ActionParseError

def answer_dict(text: str) -> dict[str, Any]:
    """The single action dict inside the one ``<answer>`` block (a list of one dict, or a bare dict)."""
    value = tagged_literal(text, "answer")
    if isinstance(value, list):
        if len(value) != 1:
            raise ActionParseError(f"expected one action in the answer list, found {len(value)}")
        value = value[0]
    if not isinstance(value, dict) or not isinstance(value.get("action"), str):
        raise ActionParseError("the answer must be a dict with a string 'action'")
    return value


def py_literal(value: Any) -> str:
    """Render a dict/list/str/number the way these models write them (Python repr of plain data)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
        return "'" + escaped.replace("\t", "\\t") + "'"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    return repr(value)


def think_answer(thought: str, payload: dict[str, Any]) -> str:
    return f"<think>{thought}</think><answer>[{py_literal(payload)}]</answer>"


class ThinkAnswerCodec(Codec):
    """An R1-style codec: absolute pixels of the smart-resized Qwen2.5-VL image; subclasses map an Action to the
    answer dict (``payload``) and back (``parse``). The gold completion's thought names the next step."""

    frame = "model"
    factor = 28
    families = ("qwen2_vl", "qwen2_5_vl")

    def payload(self, action: Action, geometry: Geometry) -> dict[str, Any]:
        raise NotImplementedError

    def answer_payload(self, action: Action, geometry: Geometry) -> str:
        return py_literal(self.payload(action, geometry))

    def format(self, action: Action, geometry: Geometry) -> str:
        payload = self.payload(action, geometry)
        return think_answer(f"The next step is {payload['action']}.", payload)
