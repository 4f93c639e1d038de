"""The one action space: frozen, keyword-only dataclasses, and their plain-dict form.

Every coordinate here is in **device pixels** (see :mod:`cua.coords` for the other frames). The plain-dict form
``{"action": KIND, ...}`` is what trajectories and script files hold; :func:`action_from_dict` is the only
place that parses it, and it raises :class:`~cua.errors.ActionParseError` on anything malformed.

``Scroll(direction="down")`` means *reveal content below* (the finger moves up), as in AndroidWorld.
``Swipe`` is a raw finger motion from (x, y) to (x2, y2).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Mapping, Union

from cua.errors import ActionError, ActionOutOfBounds, ActionParseError

Direction = Literal["up", "down", "left", "right"]
DIRECTIONS: tuple[str, ...] = ("up", "down", "left", "right")
TERMINATE_STATUSES: tuple[str, ...] = ("success", "failure")
MAX_SECONDS = 60.0

ACTION_TYPES: dict[str, type["ActionBase"]] = {}


def _register(cls: type["ActionBase"]) -> type["ActionBase"]:
    ACTION_TYPES[cls.kind] = cls
    return cls


def _check_coord(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ActionError(f"{name} must be an int (device pixels), got {value!r}")
    if value < 0:
        raise ActionOutOfBounds(f"{name}={value} is negative")


def _check_seconds(value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise ActionError(f"seconds must be a finite number, got {value!r}")
    if not 0 <= value <= MAX_SECONDS:
        raise ActionError(f"seconds must lie in [0, {MAX_SECONDS}], got {value}")


def _check_text(name: str, value: object, *, empty_ok: bool = False) -> None:
    if not isinstance(value, str):
        raise ActionError(f"{name} must be a string, got {value!r}")
    if not empty_ok and not value:
        raise ActionError(f"{name} must not be empty")


@dataclass(frozen=True, kw_only=True)
class ActionBase:
    """Common behaviour: validation hook, ``kind``, plain-dict form."""

    kind: ClassVar[str] = ""
    #: Names of fields holding device-pixel points, as (x-field, y-field) pairs.
    points: ClassVar[tuple[tuple[str, str], ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form: ``{"action": kind, **fields}`` (None-valued optional fields omitted)."""
        out: dict[str, Any] = {"action": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    def xy(self) -> list[tuple[int, int]]:
        """The device-pixel points the action holds, in ``points`` order (unset optional points left out)."""
        return [(getattr(self, fx), getattr(self, fy)) for fx, fy in self.points if getattr(self, fx) is not None]

    def describe(self) -> str:
        """A short human-readable form, e.g. ``click(540, 1200)``; used in prompts' history and reports."""
        args = ", ".join(
            json.dumps(v, ensure_ascii=False) if isinstance(v, (str, dict)) else str(v)
            for k, v in self.to_dict().items()
            if k != "action"
        )
        return f"{self.kind}({args})"


@_register
@dataclass(frozen=True, kw_only=True)
class Click(ActionBase):
    """Tap or left-click at (x, y)."""

    kind: ClassVar[str] = "click"
    points: ClassVar[tuple[tuple[str, str], ...]] = (("x", "y"),)
    x: int
    y: int

    def __post_init__(self) -> None:
        _check_coord("x", self.x)
        _check_coord("y", self.y)


@_register
@dataclass(frozen=True, kw_only=True)
class LongPress(ActionBase):
    """Press and hold at (x, y) for ``seconds``."""

    kind: ClassVar[str] = "long_press"
    points: ClassVar[tuple[tuple[str, str], ...]] = (("x", "y"),)
    x: int
    y: int
    seconds: float = 1.0

    def __post_init__(self) -> None:
        _check_coord("x", self.x)
        _check_coord("y", self.y)
        _check_seconds(self.seconds)


@_register
@dataclass(frozen=True, kw_only=True)
class Swipe(ActionBase):
    """Raw finger motion from (x, y) to (x2, y2) over ``seconds``."""

    kind: ClassVar[str] = "swipe"
    points: ClassVar[tuple[tuple[str, str], ...]] = (("x", "y"), ("x2", "y2"))
    x: int
    y: int
    x2: int
    y2: int
    seconds: float = 0.3

    def __post_init__(self) -> None:
        for name in ("x", "y", "x2", "y2"):
            _check_coord(name, getattr(self, name))
        _check_seconds(self.seconds)


@_register
@dataclass(frozen=True, kw_only=True)
class Scroll(ActionBase):
    """Reveal content in ``direction`` (content direction, AndroidWorld semantics), optionally at (x, y)."""

    kind: ClassVar[str] = "scroll"
    points: ClassVar[tuple[tuple[str, str], ...]] = (("x", "y"),)
    direction: Direction
    x: int | None = None
    y: int | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ActionError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if (self.x is None) != (self.y is None):
            raise ActionError("scroll takes both x and y, or neither")
        if self.x is not None:
            _check_coord("x", self.x)
            _check_coord("y", self.y)


@_register
@dataclass(frozen=True, kw_only=True)
class Type(ActionBase):
    """Type ``text`` into the focused field."""

    kind: ClassVar[str] = "type"
    text: str

    def __post_init__(self) -> None:
        _check_text("text", self.text)


@_register
@dataclass(frozen=True, kw_only=True)
class Key(ActionBase):
    """Press a key or chord, e.g. ``enter``, ``backspace``, ``ctrl+c`` (lower case, '+' joins a chord)."""

    kind: ClassVar[str] = "key"
    key: str

    def __post_init__(self) -> None:
        _check_text("key", self.key)
        if self.key != self.key.strip().lower() or " " in self.key:
            object.__setattr__(self, "key", "+".join(p.strip().lower() for p in self.key.replace(" ", "+").split("+") if p.strip()))
        if not self.key:
            raise ActionError("key must not be empty")


@_register
@dataclass(frozen=True, kw_only=True)
class Back(ActionBase):
    """System back (Android BACK, browser back)."""

    kind: ClassVar[str] = "back"


@_register
@dataclass(frozen=True, kw_only=True)
class Home(ActionBase):
    """Go to the home screen (Android HOME, the web device's start page)."""

    kind: ClassVar[str] = "home"


@_register
@dataclass(frozen=True, kw_only=True)
class OpenApp(ActionBase):
    """Open an app by name or package."""

    kind: ClassVar[str] = "open_app"
    app: str

    def __post_init__(self) -> None:
        _check_text("app", self.app)


@_register
@dataclass(frozen=True, kw_only=True)
class Wait(ActionBase):
    """Do nothing for ``seconds``."""

    kind: ClassVar[str] = "wait"
    seconds: float = 1.0

    def __post_init__(self) -> None:
        _check_seconds(self.seconds)


@_register
@dataclass(frozen=True, kw_only=True)
class Answer(ActionBase):
    """Report an answer to an information-seeking goal (does not end the episode by itself)."""

    kind: ClassVar[str] = "answer"
    text: str

    def __post_init__(self) -> None:
        _check_text("text", self.text, empty_ok=True)


@_register
@dataclass(frozen=True, kw_only=True)
class Terminate(ActionBase):
    """End the episode, claiming success or failure."""

    kind: ClassVar[str] = "terminate"
    status: Literal["success", "failure"] = "success"

    def __post_init__(self) -> None:
        if self.status not in TERMINATE_STATUSES:
            raise ActionError(f"status must be one of {TERMINATE_STATUSES}, got {self.status!r}")


@_register
@dataclass(frozen=True, kw_only=True)
class ToolCall(ActionBase):
    """A programmatic tool call (hybrid action), dispatched through the device's tool registry only."""

    kind: ClassVar[str] = "tool_call"
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_text("name", self.name)
        if not isinstance(self.arguments, Mapping):
            raise ActionError(f"arguments must be a JSON object, got {self.arguments!r}")
        try:
            json.dumps(dict(self.arguments), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ActionError(f"arguments must be plain JSON: {exc}") from None

    def __hash__(self) -> int:
        return hash((self.kind, self.name, json.dumps(dict(self.arguments), sort_keys=True)))


Action = Union[Click, LongPress, Swipe, Scroll, Type, Key, Back, Home, OpenApp, Wait, Answer, Terminate, ToolCall]


def action_from_dict(data: object) -> Action:
    """Build an Action from its plain-dict form; raise ActionParseError on anything malformed."""
    if not isinstance(data, Mapping):
        raise ActionParseError(f"an action must be a JSON object, got {type(data).__name__}")
    kind = data.get("action")
    if not isinstance(kind, str) or kind not in ACTION_TYPES:
        raise ActionParseError(f"unknown action {kind!r}; valid: {', '.join(ACTION_TYPES)}")
    cls = ACTION_TYPES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    extra = set(data) - names - {"action"}
    if extra:
        raise ActionParseError(f"{kind} does not take {sorted(extra)}; it takes {sorted(names)}")
    return build_action(cls, {k: v for k, v in data.items() if k != "action"})


def build_action(cls: type[ActionBase], fields: Mapping[str, Any], *, off_screen: bool = False) -> Action:
    """``cls(**fields)``, every invalid value as ActionParseError (``bad <kind>: ...``); with ``off_screen`` a
    negative point stays ActionOutOfBounds (a model pointed off the screen) instead of malformed data."""
    try:
        return cls(**fields)  # type: ignore[return-value]
    except ActionOutOfBounds as exc:
        if off_screen:
            raise
        raise ActionParseError(f"bad {cls.kind}: {exc}") from None
    except ActionParseError:
        raise
    except (ActionError, TypeError) as exc:
        raise ActionParseError(f"bad {cls.kind}: {exc}") from None


def action_to_dict(action: Action) -> dict[str, Any]:
    """The plain-dict form of ``action``."""
    return action.to_dict()


def check_bounds(action: Action, width: int, height: int) -> None:
    """Raise ActionOutOfBounds if any of the action's points lies off a width x height screen."""
    for x, y in action.xy():
        if not (0 <= x < width and 0 <= y < height):
            raise ActionOutOfBounds(f"{action.describe()} is outside the {width}x{height} screen")


def swipe_scroll_direction(x: float, y: float, x2: float, y2: float) -> str:
    """The content direction a finger swipe from (x, y) to (x2, y2) scrolls (the inverse of :func:`scroll_to_swipe`).

    The larger motion axis wins (a tie is vertical): finger up = content ``down``, finger left = content ``right``.
    """
    dx, dy = x2 - x, y2 - y
    if abs(dx) > abs(dy):
        return "left" if dx > 0 else "right"
    return "up" if dy > 0 else "down"


def scroll_to_swipe(action: Scroll, width: int, height: int, *, fraction: float = 0.5) -> Swipe:
    """The finger motion that performs ``action`` (content direction -> inverse swipe), as AndroidWorld.

    The swipe is centred on (x, y) when given, else the screen centre, and spans ``fraction`` of the screen.
    """
    cx = action.x if action.x is not None else width // 2
    cy = action.y if action.y is not None else height // 2
    dx, dy = int(width * fraction / 2), int(height * fraction / 2)
    clamp_x = lambda v: max(0, min(width - 1, v))  # noqa: E731 - the swipe stays on screen
    clamp_y = lambda v: max(0, min(height - 1, v))  # noqa: E731
    if action.direction == "down":
        return Swipe(x=cx, y=clamp_y(cy + dy), x2=cx, y2=clamp_y(cy - dy))
    if action.direction == "up":
        return Swipe(x=cx, y=clamp_y(cy - dy), x2=cx, y2=clamp_y(cy + dy))
    if action.direction == "right":
        return Swipe(x=clamp_x(cx + dx), y=cy, x2=clamp_x(cx - dx), y2=cy)
    return Swipe(x=clamp_x(cx - dx), y=cy, x2=clamp_x(cx + dx), y2=cy)
