"""The shared key vocabulary (cua.devices.keys) and execute prelude (cua.devices.prelude) of the backends."""

from __future__ import annotations

import time

import pytest

from cua.actions import Answer, Click, OpenApp, Terminate, ToolCall, Wait
from cua.devices.keys import ALIASES, NAMED, PLAYWRIGHT, VNCDOTOOL, spell, spellings
from cua.devices.prelude import run_action, unsupported
from cua.errors import ActionError, ActionOutOfBounds, ActionUnsupported
from cua.tools import ToolRegistry


@pytest.mark.parametrize("chord, playwright, vnc", [
    ("control+escape", ["Control", "Escape"], ["ctrl", "esc"]),
    ("cmd+a", ["Meta", "a"], ["super", "a"]),
    ("win", ["Meta"], ["super"]),
    ("backspace", ["Backspace"], ["bsp"]),
    ("page_down", ["PageDown"], ["pgdn"]),
    ("shift+f5", ["Shift", "F5"], ["shift", "f5"]),
])
def test_one_chord_spelled_for_each_backend(chord: str, playwright: list[str], vnc: list[str]) -> None:
    assert spell(chord, PLAYWRIGHT) == playwright
    assert spell(chord, VNCDOTOOL) == vnc


def test_every_alias_names_a_canonical_key_and_every_table_spells_only_canonical_keys() -> None:
    assert set(ALIASES.values()) <= set(NAMED)
    assert set(PLAYWRIGHT) == set(NAMED), "Playwright needs a name for every canonical key"
    assert set(VNCDOTOOL) <= set(NAMED)


def test_vncdotool_knows_every_spelled_name() -> None:
    from vncdotool.keys import KEYMAP

    assert set(spellings(VNCDOTOOL).values()) <= set(KEYMAP)


@pytest.mark.parametrize("bad", ["hyperdrive", "ctrl+", "", "ctrl+warp"])
def test_unknown_keys_are_action_errors_naming_the_key(bad: str) -> None:
    with pytest.raises(ActionError, match="unknown key"):
        spell(bad, PLAYWRIGHT)


def test_backend_names_pass_through_as_extra() -> None:
    assert spell("ctrl+kp0", VNCDOTOOL, extra={"kp0"}) == ["ctrl", "kp0"]


def test_prelude_checks_bounds_before_performing() -> None:
    seen = []
    with pytest.raises(ActionOutOfBounds):
        run_action(Click(x=100, y=5), (100, 50), seen.append, tools=None, device="t")
    assert seen == []


def test_prelude_handles_answer_terminate_wait_and_tools_itself() -> None:
    seen = []
    tools = ToolRegistry()
    tools.add_function(lambda: "pong", name="ping", description="Answer pong.")
    for action in (Answer(text="42"), Terminate(status="success")):
        assert run_action(action, (10, 10), seen.append, tools=tools, device="t").output is None
    start = time.perf_counter()
    result = run_action(Wait(seconds=0.05), (10, 10), seen.append, tools=tools, device="t")
    assert result.elapsed >= 0.05 and time.perf_counter() - start >= 0.05
    assert run_action(ToolCall(name="ping"), (10, 10), seen.append, tools=tools, device="t").output == "pong"
    assert seen == []
    assert run_action(Click(x=1, y=2), (10, 10), lambda a: ("done", a.kind), tools=None, device="t").output == ("done", "click")


def test_a_kind_or_tool_call_the_device_lacks_is_action_unsupported() -> None:
    with pytest.raises(ActionUnsupported, match="vnc:h:1 cannot perform tool_call"):
        run_action(ToolCall(name="ping"), (10, 10), lambda a: None, tools=None, device="vnc:h:1")
    error = unsupported(OpenApp(app="x"), "web:u", "use goto")
    assert isinstance(error, ActionUnsupported) and str(error) == "web:u cannot perform open_app; use goto"
