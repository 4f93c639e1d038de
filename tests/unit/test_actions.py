"""The action space: plain-dict round trips, validation at construction, and a parser that only raises ActionParseError."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cua.actions import (
    ACTION_TYPES, Answer, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Terminate, ToolCall, Type, Wait,
    action_from_dict, action_to_dict, check_bounds, scroll_to_swipe,
)
from cua.errors import ActionError, ActionOutOfBounds, ActionParseError

ONE_OF_EACH = [
    Click(x=540, y=1200),
    LongPress(x=1, y=2, seconds=2.5),
    Swipe(x=10, y=20, x2=30, y2=40, seconds=0.5),
    Scroll(direction="down"),
    Scroll(direction="left", x=100, y=200),
    Type(text='héllo "wörld" $HOME; rm -rf / 日本'),
    Key(key="enter"),
    Back(),
    Home(),
    OpenApp(app="Settings"),
    Wait(seconds=0),
    Answer(text=""),
    Terminate(status="failure"),
    ToolCall(name="search_contacts", arguments={"query": "Ann", "limit": 3, "nested": {"a": [1, 2]}}),
]


def test_every_kind_is_covered() -> None:
    assert {a.kind for a in ONE_OF_EACH} == set(ACTION_TYPES)


@pytest.mark.parametrize("action", ONE_OF_EACH, ids=lambda a: a.kind)
def test_plain_dict_round_trip(action: Any) -> None:
    data = action_to_dict(action)
    assert data["action"] == action.kind
    assert action_from_dict(json.loads(json.dumps(data))) == action
    assert action.describe().startswith(action.kind + "(")


def test_plain_dict_shapes() -> None:
    assert Click(x=1, y=2).to_dict() == {"action": "click", "x": 1, "y": 2}
    assert Scroll(direction="up").to_dict() == {"action": "scroll", "direction": "up"}
    assert LongPress(x=1, y=2).to_dict() == {"action": "long_press", "x": 1, "y": 2, "seconds": 1.0}
    assert Terminate().to_dict() == {"action": "terminate", "status": "success"}
    assert Key(key=" Ctrl + C ").key == "ctrl+c"


BAD_CONSTRUCTIONS = [
    (Click, {"x": -1, "y": 0}, ActionOutOfBounds),
    (Click, {"x": True, "y": 0}, ActionError),
    (Click, {"x": 1.5, "y": 0}, ActionError),
    (Click, {"x": "1", "y": 0}, ActionError),
    (LongPress, {"x": 1, "y": 1, "seconds": math.nan}, ActionError),
    (LongPress, {"x": 1, "y": 1, "seconds": -1}, ActionError),
    (Wait, {"seconds": math.inf}, ActionError),
    (Wait, {"seconds": 1e9}, ActionError),
    (Wait, {"seconds": False}, ActionError),
    (Wait, {"seconds": 10**400}, ActionError),
    (LongPress, {"x": 1, "y": 1, "seconds": -(10**400)}, ActionError),
    (Swipe, {"x": 1, "y": 1, "x2": -5, "y2": 1}, ActionOutOfBounds),
    (Scroll, {"direction": "sideways"}, ActionError),
    (Scroll, {"direction": "up", "x": 5}, ActionError),
    (Type, {"text": ""}, ActionError),
    (Type, {"text": 5}, ActionError),
    (Key, {"key": " + "}, ActionError),
    (OpenApp, {"app": None}, ActionError),
    (Terminate, {"status": "maybe"}, ActionError),
    (ToolCall, {"name": "t", "arguments": [1]}, ActionError),
    (ToolCall, {"name": "t", "arguments": {"x": math.nan}}, ActionError),
    (ToolCall, {"name": "", "arguments": {}}, ActionError),
]


@pytest.mark.parametrize("cls, kwargs, exc", BAD_CONSTRUCTIONS)
def test_construction_rejects_bad_values(cls: type, kwargs: dict[str, Any], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        cls(**kwargs)


BAD_DICTS = [
    ([1, 2], "JSON object"),
    ({}, "unknown action None"),
    ({"action": "fly"}, "unknown action 'fly'"),
    ({"action": "click", "x": 1}, "bad click"),
    ({"action": "click", "x": 1, "y": 2, "z": 3}, "does not take ['z']"),
    ({"action": "click", "x": -4, "y": 2}, "negative"),
    ({"action": "scroll", "direction": "in"}, "direction"),
    ({"action": "wait", "seconds": "soon"}, "seconds"),
    ({"action": "terminate", "status": 1}, "status"),
]


@pytest.mark.parametrize("data, needle", BAD_DICTS)
def test_action_from_dict_errors_name_the_problem(data: Any, needle: str) -> None:
    with pytest.raises(ActionParseError) as info:
        action_from_dict(data)
    assert needle in str(info.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -(10**400)]) | st.floats()
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
action_like = st.fixed_dictionaries(
    {"action": st.sampled_from(sorted(ACTION_TYPES)) | st.text(max_size=6)},
    optional={k: json_values for k in ("x", "y", "x2", "y2", "seconds", "direction", "text", "key", "app",
                                       "status", "name", "arguments")},
)


@settings(max_examples=300)
@given(data=st.one_of(json_values, action_like))
def test_fuzz_parser_only_raises_action_parse_error(data: Any) -> None:
    try:
        action = action_from_dict(data)
    except ActionParseError:
        return
    assert action_from_dict(action.to_dict()) == action


@pytest.mark.parametrize("action, ok", [
    (Click(x=1079, y=2399), True), (Click(x=1080, y=0), False), (Swipe(x=0, y=0, x2=0, y2=2400), False),
    (Scroll(direction="down"), True), (Scroll(direction="up", x=2000, y=1), False), (Type(text="a"), True),
])
def test_check_bounds(action: Any, ok: bool) -> None:
    if ok:
        check_bounds(action, 1080, 2400)
    else:
        with pytest.raises(ActionOutOfBounds):
            check_bounds(action, 1080, 2400)


@pytest.mark.parametrize("direction, finger", [
    ("down", "up"), ("up", "down"), ("right", "left"), ("left", "right"),
])
def test_scroll_is_content_direction(direction: str, finger: str) -> None:
    swipe = scroll_to_swipe(Scroll(direction=direction), 1080, 2400)  # type: ignore[arg-type]
    dx, dy = swipe.x2 - swipe.x, swipe.y2 - swipe.y
    moved = {"up": dy < 0 and dx == 0, "down": dy > 0 and dx == 0,
             "left": dx < 0 and dy == 0, "right": dx > 0 and dy == 0}
    assert moved[finger]
    check_bounds(swipe, 1080, 2400)


@pytest.mark.parametrize("direction", ["up", "down", "left", "right"])
def test_swipe_scroll_direction_inverts_scroll_to_swipe(direction):
    from cua.actions import Scroll, scroll_to_swipe, swipe_scroll_direction

    swipe = scroll_to_swipe(Scroll(direction=direction), 1080, 2400)
    assert swipe_scroll_direction(swipe.x, swipe.y, swipe.x2, swipe.y2) == direction


def test_xy_lists_the_set_points():
    from cua.actions import Click, Scroll, Swipe, Type

    assert Click(x=1, y=2).xy() == [(1, 2)] and Swipe(x=1, y=2, x2=3, y2=4).xy() == [(1, 2), (3, 4)]
    assert Scroll(direction="up").xy() == [] and Type(text="a").xy() == []
