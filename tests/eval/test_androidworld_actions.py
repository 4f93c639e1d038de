"""Every AndroidWorld JSONAction type, translated to cua actions and back (a table), checked against their own
actuation code (the adb requests their ``execute_adb_action`` issues for the same JSONAction)."""

from __future__ import annotations

from androidworld_support import RecordingController  # (AndroidWorld on sys.path, or skip)
import pytest

from android_world.env import actuation, json_action
from android_world.env.json_action import JSONAction

from cua.actions import (
    Answer, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Terminate, ToolCall, Type, Wait,
)
from cua.errors import ActionParseError, ActionUnsupported
from cua.eval.androidworld_actions import from_cua, to_cua
from cua.observation import UIElement

W, H = 1080, 2400
#: index 0: a list (scrollable) filling the middle; index 1: a button inside it.
ELEMENTS = (
    UIElement(text="list", role="ListView", bounds=(0, 400, 1080, 2000), extra={"scrollable": True}),
    UIElement(text="Send", role="Button", bounds=(900, 2100, 1060, 2200), clickable=True),
)

# (JSONAction fields, the cua actions, the JSONAction fields that come back when they differ)
TABLE = [
    (dict(action_type="click", x=10, y=20), (Click(x=10, y=20),), None),
    (dict(action_type="click", index=1), (Click(x=980, y=2150),), dict(action_type="click", x=980, y=2150)),
    (dict(action_type="double_tap", x=5, y=6), (Click(x=5, y=6), Click(x=5, y=6)), None),
    (dict(action_type="long_press", x=300, y=400), (LongPress(x=300, y=400, seconds=1.0),), None),
    (dict(action_type="input_text", text="Hi 'there'\n"), (Type(text="Hi 'there'\n"), Key(key="enter")), None),
    (dict(action_type="input_text", text="abc", x=50, y=60),
     (Click(x=50, y=60), Type(text="abc"), Key(key="enter")), None),
    (dict(action_type="input_text", text="abc", x=50, y=60, clear_text=True),
     (Click(x=50, y=60), Key(key="ctrl+a"), Key(key="backspace"), Type(text="abc"), Key(key="enter")), None),
    (dict(action_type="keyboard_enter"), (Key(key="enter"),), None),
    (dict(action_type="navigate_home"), (Home(),), None),
    (dict(action_type="navigate_back"), (Back(),), None),
    (dict(action_type="open_app", app_name="Contacts"), (OpenApp(app="Contacts"),), None),
    (dict(action_type="scroll", direction="down"), (Scroll(direction="down"),), None),
    (dict(action_type="scroll", direction="left"), (Scroll(direction="left"),), None),
    (dict(action_type="scroll", direction="up", index=0), (Scroll(direction="up", x=540, y=1200),), None),
    (dict(action_type="swipe", direction="down"), (Swipe(x=540, y=0, x2=540, y2=H - 1, seconds=0.5),), None),
    (dict(action_type="swipe", direction="up"), (Swipe(x=540, y=H - 1, x2=540, y2=0, seconds=0.5),), None),
    (dict(action_type="swipe", direction="left"), (Swipe(x=0, y=1200, x2=W - 1, y2=1200, seconds=0.5),), None),
    (dict(action_type="swipe", direction="right"), (Swipe(x=W - 1, y=1200, x2=0, y2=1200, seconds=0.5),), None),
    (dict(action_type="wait"), (Wait(seconds=1.0),), None),
    (dict(action_type="status", goal_status="complete"), (Terminate(status="success"),), None),
    (dict(action_type="status", goal_status="infeasible"), (Terminate(status="failure"),), None),
    (dict(action_type="answer", text="42 apples"), (Answer(text="42 apples"),), None),
    (dict(action_type="unknown"), (), None),
]


def test_the_table_covers_every_json_action_type() -> None:
    assert {fields["action_type"] for fields, _, _ in TABLE} == set(json_action._ACTION_TYPES)


@pytest.mark.parametrize("fields,cua,back", TABLE, ids=[f"{f['action_type']}-{i}" for i, (f, _, _) in enumerate(TABLE)])
def test_json_action_to_cua_and_back(fields: dict, cua: tuple, back: dict | None) -> None:
    action = JSONAction(**fields)
    assert to_cua(action, screen_size=(W, H), elements=ELEMENTS) == cua
    again = from_cua(cua, elements=ELEMENTS)
    assert again.as_dict() == (back or fields)
    if len(cua) == 1:  # a single cua action translates on its own too
        assert from_cua(cua[0], elements=ELEMENTS).as_dict() == (back or fields)


@pytest.mark.parametrize("action,expected", [
    (Type(text="x"), dict(action_type="input_text", text="x")),
    (Wait(seconds=3.0), dict(action_type="wait")),
    (Swipe(x=100, y=1500, x2=130, y2=300), dict(action_type="swipe", direction="up")),
    (Swipe(x=900, y=1000, x2=100, y2=1050), dict(action_type="swipe", direction="right")),
    (Scroll(direction="down", x=5, y=5), dict(action_type="scroll", direction="down")),  # on no element
    (Scroll(direction="down", x=950, y=2150), dict(action_type="scroll", direction="down", index=1)),
])
def test_cua_actions_without_an_exact_json_twin(action, expected: dict) -> None:
    assert from_cua(action, elements=ELEMENTS).as_dict() == expected


@pytest.mark.parametrize("action", [Key(key="backspace"), ToolCall(name="list_apps"), Swipe(x=1, y=1, x2=1, y2=1)])
def test_cua_actions_androidworld_cannot_express(action) -> None:
    with pytest.raises(ActionUnsupported):
        from_cua(action)


@pytest.mark.parametrize("fields", [
    dict(action_type="click"), dict(action_type="click", index=7), dict(action_type="open_app"),
    dict(action_type="scroll"), dict(action_type="status", goal_status="done"),
])
def test_incomplete_json_actions_raise_parse_errors(fields: dict) -> None:
    with pytest.raises(ActionParseError):
        to_cua(JSONAction(**fields), screen_size=(W, H), elements=ELEMENTS)


def test_sequences_that_are_no_single_json_action_raise() -> None:
    with pytest.raises(ActionParseError):
        from_cua((Click(x=1, y=2), Click(x=3, y=4)))
    with pytest.raises(ActionParseError):
        from_cua((Back(), Type(text="a"), Key(key="enter")))


def _their_gestures(fields: dict) -> list[tuple]:
    """What AndroidWorld's own actuation does for ``fields``: taps, swipes (x, y, x2, y2) and buttons."""
    from cua.eval.androidworld import to_aw_element

    env = RecordingController()
    actuation.execute_adb_action(JSONAction(**fields), [to_aw_element(e, (W, H)) for e in ELEMENTS], (W, H), env)
    return env.gestures()


def _our_gestures(actions: tuple) -> list[tuple]:
    out: list[tuple] = []
    for a in actions:
        if isinstance(a, Click):
            out.append(("tap", a.x, a.y))
        elif isinstance(a, LongPress):
            out.append(("swipe", a.x, a.y, a.x, a.y))
        elif isinstance(a, Swipe):
            out.append(("swipe", a.x, a.y, a.x2, a.y2))
        elif isinstance(a, (Home, Back)) or a == Key(key="enter"):
            out.append(("button", {Home: "HOME", Back: "BACK", Key: "ENTER"}[type(a)]))
    return out


def _close(ours: list[tuple], theirs: list[tuple]) -> bool:
    """Equal gestures, with AndroidWorld's off-screen far edge (x = width) matching our last pixel."""
    return len(ours) == len(theirs) and all(
        o[0] == t[0] and all(abs(a - b) <= 1 if isinstance(a, int) else a == b for a, b in zip(o[1:], t[1:]))
        for o, t in zip(ours, theirs))


@pytest.mark.parametrize("fields", [
    f for f, _, _ in TABLE
    if f["action_type"] in ("click", "double_tap", "long_press", "swipe", "navigate_home", "navigate_back",
                            "keyboard_enter")
], ids=lambda f: "-".join(map(str, f.values())))
def test_gestures_match_androidworlds_own_actuation(fields: dict) -> None:
    ours = _our_gestures(to_cua(JSONAction(**fields), screen_size=(W, H), elements=ELEMENTS))
    assert _close(ours, _their_gestures(fields)), (ours, _their_gestures(fields))


@pytest.mark.parametrize("fields", [f for f, _, _ in TABLE if f["action_type"] == "scroll"],
                         ids=lambda f: "-".join(map(str, f.values())))
def test_scroll_moves_the_finger_the_way_androidworld_does(fields: dict) -> None:
    """Their scroll is a content direction executed as the inverse swipe; so is cua's (scroll_to_swipe)."""
    from cua.actions import scroll_to_swipe

    (theirs,) = _their_gestures(fields)
    (scroll,) = to_cua(JSONAction(**fields), screen_size=(W, H), elements=ELEMENTS)
    ours = scroll_to_swipe(scroll, W, H)
    sign = lambda v: (v > 0) - (v < 0)  # noqa: E731
    assert (sign(ours.x2 - ours.x), sign(ours.y2 - ours.y)) == (sign(theirs[3] - theirs[1]), sign(theirs[4] - theirs[2]))
