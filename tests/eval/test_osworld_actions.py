"""cua actions -> OSWorld ``pyautogui`` code and ``computer_13`` dicts: the templates, and the code executed on
Xvfb against a real Tk window through OSWorld's own ``PythonController`` (speaking their VM-server protocol)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

import osworld_support  # noqa: F401  (puts tests/ on sys.path)
import pytest
from desktop_env.actions import ACTION_SPACE, KEYBOARD_KEYS
from desktop_env.controllers.python import PythonController
from support_x11 import ENTRY_BOX, TkApp, XServer, tk_app, x_server  # noqa: F401

from cua.actions import (
    Answer, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Terminate, ToolCall, Type, Wait,
)
from cua.errors import ActionError, ActionUnsupported, ConfigError
from cua.eval.osworld_actions import to_computer13, to_osworld, to_pyautogui

NASTY = "it's \"quoted\" \\ back'); import os; os.system('touch /tmp/cua_pwned') #"

TABLE = [
    (Click(x=10, y=20), ["pyautogui.click(10, 20)"],
     [{"action_type": "CLICK", "parameters": {"button": "left", "x": 10, "y": 20, "num_clicks": 1}}]),
    (LongPress(x=5, y=6, seconds=0.5), ["pyautogui.mouseDown(5, 6); time.sleep(0.5); pyautogui.mouseUp(5, 6)"],
     [{"action_type": "MOVE_TO", "parameters": {"x": 5, "y": 6}}, {"action_type": "MOUSE_DOWN", "parameters": {"button": "left"}},
      "WAIT", {"action_type": "MOUSE_UP", "parameters": {"button": "left"}}]),
    (Swipe(x=1, y=2, x2=30, y2=40, seconds=0.3),
     ["pyautogui.moveTo(1, 2); pyautogui.dragTo(30, 40, duration=0.3, button='left')"],
     [{"action_type": "MOVE_TO", "parameters": {"x": 1, "y": 2}}, {"action_type": "DRAG_TO", "parameters": {"x": 30, "y": 40}}]),
    (Scroll(direction="down"), ["pyautogui.vscroll(-5)"], [{"action_type": "SCROLL", "parameters": {"dy": -5}}]),
    (Scroll(direction="right", x=7, y=8), ["pyautogui.moveTo(7, 8); pyautogui.hscroll(5)"],
     [{"action_type": "MOVE_TO", "parameters": {"x": 7, "y": 8}}, {"action_type": "SCROLL", "parameters": {"dx": 5}}]),
    (Type(text=NASTY), [f"pyautogui.write({NASTY!r})"], [{"action_type": "TYPING", "parameters": {"text": NASTY}}]),
    (Key(key="enter"), ["pyautogui.press('enter')"], [{"action_type": "PRESS", "parameters": {"key": "enter"}}]),
    (Key(key="ctrl+shift+t"), ["pyautogui.hotkey('ctrl', 'shift', 't')"],
     [{"action_type": "HOTKEY", "parameters": {"keys": ["ctrl", "shift", "t"]}}]),
    (Back(), ["pyautogui.hotkey('alt', 'left')"], [{"action_type": "HOTKEY", "parameters": {"keys": ["alt", "left"]}}]),
    (Home(), ["pyautogui.press('winleft')"], [{"action_type": "PRESS", "parameters": {"key": "winleft"}}]),
    (Wait(seconds=2.0), ["time.sleep(2.0)"], ["WAIT"]),
    (Terminate(status="success"), ["DONE"], ["DONE"]),
    (Terminate(status="failure"), ["FAIL"], ["FAIL"]),
]


@pytest.mark.parametrize("action,code,c13", TABLE, ids=[a.kind + str(i) for i, (a, _, _) in enumerate(TABLE)])
def test_templates(action, code: list, c13: list) -> None:
    assert to_pyautogui(action) == code == to_osworld(action, "pyautogui")
    assert to_computer13(action) == c13 == to_osworld(action, "computer_13")
    valid = {spec["action_type"]: set(spec.get("parameters", {})) for spec in ACTION_SPACE}
    for item in c13:  # every dict is in OSWorld's declared computer_13 space
        if isinstance(item, dict):
            assert set(item["parameters"]) <= valid[item["action_type"]], item
            keys = item["parameters"].get("keys", [item["parameters"].get("key", "enter")])
            assert all(k in KEYBOARD_KEYS for k in keys)
    for line in code:  # the code is Python whose only string constants are key names and the typed text
        if line not in ("DONE", "FAIL"):
            strings = {n.value for n in ast.walk(ast.parse(line)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            assert strings <= {"left", "enter", "ctrl", "shift", "t", "alt", "winleft", NASTY}


@pytest.mark.parametrize("action", [Answer(text="x"), OpenApp(app="Files"), ToolCall(name="ls"), Type(text="héllo")])
def test_actions_osworld_cannot_express(action) -> None:
    for space in ("pyautogui", "computer_13"):
        with pytest.raises(ActionUnsupported):
            to_osworld(action, space)


def test_unknown_keys_and_spaces_are_errors() -> None:
    with pytest.raises(ActionError):
        to_pyautogui(Key(key="hyper+q"))
    with pytest.raises(ConfigError):
        to_osworld(Click(x=1, y=1), "claude_computer_use")


@pytest.fixture
def controller(x_server: XServer, tmp_path: Path) -> Iterator[PythonController]:  # noqa: F811
    for server in osworld_support.serve(x_server.env, tmp_path):
        ctl = PythonController(vm_ip="127.0.0.1", server_port=server.port)
        ctl.retry_times = 1
        yield ctl


def _run(ctl: PythonController, action) -> None:
    for code in to_pyautogui(action):
        result = ctl.execute_python_command(code)
        assert result is not None and result["returncode"] == 0, result


@pytest.mark.slow
def test_generated_pyautogui_code_drives_a_real_window(controller: PythonController, tk_app: TkApp) -> None:  # noqa: F811
    cx, cy = (ENTRY_BOX[0] + ENTRY_BOX[2]) // 2, (ENTRY_BOX[1] + ENTRY_BOX[3]) // 2
    _run(controller, Click(x=cx, y=cy))
    tk_app.wait_for(lambda evs: [e for e in evs if e["ev"] == "up" and (e["x"], e["y"]) == (cx, cy) and e["b"] == 1])
    _run(controller, Type(text=NASTY))
    tk_app.wait_for(lambda evs: tk_app.text() == NASTY)  # typed literally, nothing executed
    assert not Path("/tmp/cua_pwned").exists()
    _run(controller, Key(key="enter"))
    tk_app.wait_for(lambda evs: [e for e in evs if e["ev"] == "key" and e["keysym"] == "Return"])
    tk_app.clear()
    _run(controller, Scroll(direction="down", x=640, y=400))  # content down = wheel down = X button 5
    tk_app.wait_for(lambda evs: len([e for e in evs if e["ev"] == "down" and e["b"] == 5]) == 5)
    tk_app.clear()
    _run(controller, Swipe(x=200, y=300, x2=700, y2=500, seconds=0.2))
    tk_app.wait_for(lambda evs: [e for e in evs if e["ev"] == "up" and (e["x"], e["y"]) == (700, 500)])
    downs = [e for e in tk_app.events("down") if e["b"] == 1]
    assert (downs[0]["x"], downs[0]["y"]) == (200, 300)
    tk_app.clear()
    _run(controller, LongPress(x=300, y=600, seconds=0.6))
    down, up = tk_app.wait_for(lambda evs: [e for e in evs if e["ev"] in ("down", "up")][:2] if len(
        [e for e in evs if e["ev"] in ("down", "up")]) >= 2 else None)
    assert (down["ev"], up["ev"], down["x"], down["y"]) == ("down", "up", 300, 600)
    assert up["t"] - down["t"] >= 0.55


@pytest.mark.slow
def test_computer_13_actions_run_through_their_controller(controller: PythonController, tk_app: TkApp) -> None:  # noqa: F811
    cx, cy = (ENTRY_BOX[0] + ENTRY_BOX[2]) // 2, (ENTRY_BOX[1] + ENTRY_BOX[3]) // 2
    for action in (Click(x=cx, y=cy), Type(text="a'b\"c"), Key(key="ctrl+a"), Type(text="z")):
        for item in to_computer13(action):
            controller.execute_action(item)
    tk_app.wait_for(lambda evs: tk_app.text() == "za'b\"c")  # HOTKEY ctrl+a: Tk's start of line, then "z"
    assert any(e["ev"] == "up" and (e["x"], e["y"]) == (cx, cy) for e in tk_app.events())
