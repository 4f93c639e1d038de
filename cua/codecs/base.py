"""The Codec base: one prompt/answer convention between cua's Action space and a model's text.

A codec states its coordinate ``frame`` (:mod:`cua.coords`) and the smart-resize ``factor`` of the models it
fits (28 for Qwen2/2.5-VL, 32 for Qwen3-VL). ``messages`` builds chat messages in the transformers /
qwen-vl-utils format (images as ``{"type": "image", "image": PIL.Image}``); ``format`` renders the completion a
perfect model would produce (SFT targets); ``parse`` turns model text into a device-pixel Action.

Parse contract: malformed text raises :class:`~cua.errors.ActionParseError`; a well-formed action whose point
lies off the screen raises :class:`~cua.errors.ActionOutOfBounds` (both are ``ActionError``: the agent records
an invalid step). Nothing else escapes, and model text is never evaluated. ``format`` raises
:class:`~cua.errors.ActionUnsupported` for an action the convention cannot express.

The action-space text in each system prompt is generated from :data:`cua.actions.ACTION_TYPES` (the docstring
of each kind) plus the codec's own names (:class:`Verb`), and the device's :class:`~cua.tools.ToolSpec` list.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from cua.actions import ACTION_TYPES, Action, build_action
from cua.coords import Frame, Geometry, from_device, to_device
from cua.errors import ActionError, ActionParseError, ActionUnsupported

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from cua.observation import Observation
    from cua.tools import ToolSpec


@dataclass(frozen=True)
class Verb:
    """One action name of a codec: the cua kinds it expresses and how its arguments are written."""

    name: str
    kinds: tuple[str, ...]
    args: str = ""
    note: str = ""

    def describe(self) -> str:
        docs = " / ".join((ACTION_TYPES[k].__doc__ or k).strip().splitlines()[0] for k in self.kinds)
        text = f"`{self.name}`" + (f" ({self.args})" if self.args else "") + f": {self.note or docs}"
        return text


def build(cls: type, **kwargs: Any) -> Action:
    """Construct an Action; bad values become ActionParseError (off-screen stays ActionOutOfBounds)."""
    return build_action(cls, kwargs, off_screen=True)


def number(value: object, what: str) -> float:
    """A finite JSON number (not a bool), else ActionParseError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ActionParseError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def text_arg(args: Mapping[str, Any], key: str, action: str) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        raise ActionParseError(f"{action} needs a string {key!r}, got {value!r}")
    return value


def point_to_device(value: object, frame: Frame, geometry: Geometry, what: str = "coordinate") -> tuple[int, int]:
    """A model-frame ``[x, y]`` as device pixels (ActionParseError if malformed, ActionOutOfBounds if off)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ActionParseError(f"{what} must be [x, y], got {value!r}")
    x, y = number(value[0], what), number(value[1], what)
    return to_device(x, y, frame, geometry)


def point_from_device(x: int, y: int, frame: Frame, geometry: Geometry) -> list[int]:
    """A device point written in ``frame`` as integers (rounded, kept inside the frame's range)."""
    mx, my = from_device(x, y, frame, geometry)
    if frame == "device":
        return [int(mx), int(my)]
    w, h = (geometry.model_width, geometry.model_height) if frame == "model" else (1000, 1000)
    return [min(max(round(mx), 0), w - 1), min(max(round(my), 0), h - 1)]


def frame_size(frame: Frame, geometry: Geometry) -> tuple[int, int]:
    """The (width, height) a model sees in ``frame``: device size, smart-resized size, or 1000 x 1000."""
    if frame == "device":
        return geometry.width, geometry.height
    if frame == "model":
        return geometry.model_width, geometry.model_height
    return 1000, 1000


def unsupported(codec: str, action: Action) -> ActionUnsupported:
    return ActionUnsupported(f"codec {codec} cannot express {action.describe()}")


def tools_json(tools: Sequence["ToolSpec"]) -> list[str]:
    """Tool specs as Qwen function-signature JSON lines."""
    return [json.dumps({"type": "function", "function": t.to_dict()}, ensure_ascii=False) for t in tools]


class Codec:
    """Base class; subclasses set ``name``, ``frame``, ``factor``, ``families``, ``verbs`` and the hooks."""

    name: str = ""
    frame: Frame = "model"
    factor: int = 28
    families: tuple[str, ...] = ("qwen2_vl", "qwen2_5_vl")
    verbs: tuple[Verb, ...] = ()

    def __repr__(self) -> str:
        return f"<codec {self.name}: frame={self.frame} factor={self.factor}>"

    def action_space(self) -> str:
        """The generated list of this codec's actions, one per line."""
        return "\n".join(f"* {v.describe()}" for v in self.verbs)

    def system_prompt(self, geometry: Geometry, tools: Sequence["ToolSpec"] = ()) -> str:
        raise NotImplementedError

    def user_text(self, goal: str, history: Sequence[str], n_images: int) -> str:
        """The user turn's text: the goal, the previous actions, and which screenshots follow."""
        past = "\n".join(f"Step {i + 1}: {h}" for i, h in enumerate(history)) or "None"
        shots = (f"The last {n_images} screenshots before this step follow (oldest first), then the current one."
                 if n_images else "The current screenshot follows.")
        return f"Task: {goal}\nPrevious actions:\n{past}\n{shots}"

    def describe(self, action: Action | None, geometry: Geometry) -> str:
        """One line for the action history in this codec's own terms (frame included)."""
        if action is None:
            return "(invalid action, nothing happened)"
        try:
            return self.answer_payload(action, geometry)
        except ActionError:
            return action.describe()

    def answer_payload(self, action: Action, geometry: Geometry) -> str:
        """The action part of ``format`` (no reasoning, no wrapper tags)."""
        raise NotImplementedError

    def messages(
        self,
        goal: str,
        observation: "Observation",
        geometry: Geometry,
        *,
        history: Sequence[Action | None] = (),
        history_images: Sequence["Image.Image"] = (),
        tools: Sequence["ToolSpec"] = (),
    ) -> list[dict[str, Any]]:
        """System prompt (action space + tools) and one user turn: text, earlier screenshots, current one."""
        lines = [self.describe(a, geometry) for a in history]
        content: list[dict[str, Any]] = [{"type": "text", "text": self.user_text(goal, lines, len(history_images))}]
        content += [{"type": "image", "image": img} for img in history_images]
        content.append({"type": "image", "image": observation.image})
        return [
            {"role": "system", "content": [{"type": "text", "text": self.system_prompt(geometry, tools)}]},
            {"role": "user", "content": content},
        ]

    def format(self, action: Action, geometry: Geometry) -> str:
        raise NotImplementedError

    def parse(self, text: str, geometry: Geometry) -> Action:
        raise NotImplementedError

    def try_parse(self, text: str, geometry: Geometry) -> tuple[Action | None, ActionError | None]:
        """``(action, None)`` or ``(None, error)``: the form reward functions want (never raises ActionError)."""
        try:
            return self.parse(text, geometry), None
        except ActionError as exc:
            return None, exc
