"""cua actions -> OSWorld actions: their ``computer_13`` dicts and ``pyautogui`` code, from fixed templates.

Source: xlang-ai/OSWorld ``desktop_env/actions.py`` (the ``computer_13`` action space and ``KEYBOARD_KEYS``),
``desktop_env/controllers/python.py`` (how the VM runs them: computer_13 dicts become pyautogui calls; code
runs as ``python -c "import pyautogui; import time; pyautogui.FAILSAFE = False; CODE"``) and
``desktop_env/desktop_env.py`` (``'WAIT'``, ``'FAIL'``, ``'DONE'`` are special actions in both spaces).

The pyautogui code is written by cua from the typed action through one template per kind: numbers are
formatted from validated ints/floats, strings (typed text, key names) are Python literals made by ``repr``,
and key names must be in OSWorld's ``KEYBOARD_KEYS``. No model text is ever executed as code: a policy's
completion is parsed into a cua Action first (by its codec), and only that Action reaches a template.

==============  =================================================  ===========================================
cua             computer_13                                        pyautogui code
==============  =================================================  ===========================================
Click           CLICK x y                                          ``pyautogui.click(x, y)``
LongPress       MOVE_TO, MOUSE_DOWN, WAIT, MOUSE_UP                ``mouseDown(x, y); time.sleep(s); mouseUp``
Swipe           MOVE_TO x y, DRAG_TO x2 y2                         ``moveTo(x, y); dragTo(x2, y2, duration=s)``
Scroll          [MOVE_TO x y], SCROLL dy (or dx) = -/+ 5 clicks    ``[moveTo]; pyautogui.vscroll(-5)`` ...
Type            TYPING text                                        ``pyautogui.write('text')`` (repr literal)
Key             PRESS key / HOTKEY keys                            ``pyautogui.press(..)`` / ``hotkey(..)``
Back, Home      HOTKEY alt+left / PRESS win (the desktop device's keys)
Wait            WAIT                                               ``time.sleep(s)``
Terminate       DONE (success) / FAIL (failure)                    ``'DONE'`` / ``'FAIL'``
==============  =================================================  ===========================================

Scroll keeps cua's content direction: ``down`` reveals content below, i.e. the wheel turns down (negative
clicks), as the desktop backend does. ``Answer``, ``OpenApp`` and ``ToolCall`` have no OSWorld action
(ActionUnsupported; the agent keeps an Answer itself). pyautogui types only keyboard characters, so text
outside printable ASCII (plus newline and tab) is ActionUnsupported rather than silently dropped.
"""

from __future__ import annotations

from typing import Any

from cua.actions import (
    Action, Back, Click, Home, Key, LongPress, Scroll, Swipe, Terminate, Type, Wait,
)
from cua.devices.desktop import BACK_KEY, HOME_KEY, SCROLL_CLICKS, is_plain_ascii, key_names
from cua.errors import ActionUnsupported, ConfigError

ACTION_SPACES = ("pyautogui", "computer_13")
#: The prefix OSWorld's PythonController puts before every command it runs on the VM.
PKGS_PREFIX = "import pyautogui; import time; pyautogui.FAILSAFE = False; {command}"
INSTALL_HINT = ("OSWorld's desktop-env is not importable: pip install --no-deps desktop-env && "
                "pip install -e '.[osworld]' (docs/evaluation.md)")


def keyboard_keys() -> list[str]:
    """OSWorld's ``KEYBOARD_KEYS`` (the key names their action spaces accept)."""
    try:
        from desktop_env.actions import KEYBOARD_KEYS
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{INSTALL_HINT}: {exc}") from None
    return list(KEYBOARD_KEYS)


def _keys(action: Action) -> list[str]:
    chord = action.key if isinstance(action, Key) else BACK_KEY if isinstance(action, Back) else HOME_KEY
    return key_names(chord, keyboard_keys())


def _text(text: str) -> str:
    if not is_plain_ascii(text):
        raise ActionUnsupported(f"pyautogui cannot type {text!r}: only printable ASCII, newline and tab")
    return text


def _scroll_amount(action: Scroll) -> tuple[str, int]:
    """('dy' or 'dx', signed wheel clicks): content down/left -> negative, as the desktop backend."""
    sign = -1 if action.direction in ("down", "left") else 1
    return ("dy" if action.direction in ("up", "down") else "dx"), sign * SCROLL_CLICKS


def to_computer13(action: Action) -> list[Any]:
    """The ``computer_13`` actions (dicts, or the special strings ``'WAIT'``/``'DONE'``/``'FAIL'``)."""
    if isinstance(action, Click):
        return [{"action_type": "CLICK", "parameters": {"button": "left", "x": action.x, "y": action.y,
                                                         "num_clicks": 1}}]
    if isinstance(action, LongPress):
        return [{"action_type": "MOVE_TO", "parameters": {"x": action.x, "y": action.y}},
                {"action_type": "MOUSE_DOWN", "parameters": {"button": "left"}}, "WAIT",
                {"action_type": "MOUSE_UP", "parameters": {"button": "left"}}]
    if isinstance(action, Swipe):
        return [{"action_type": "MOVE_TO", "parameters": {"x": action.x, "y": action.y}},
                {"action_type": "DRAG_TO", "parameters": {"x": action.x2, "y": action.y2}}]
    if isinstance(action, Scroll):
        axis, clicks = _scroll_amount(action)
        out: list[Any] = []
        if action.x is not None:
            out.append({"action_type": "MOVE_TO", "parameters": {"x": action.x, "y": action.y}})
        return [*out, {"action_type": "SCROLL", "parameters": {axis: clicks}}]
    if isinstance(action, Type):
        return [{"action_type": "TYPING", "parameters": {"text": _text(action.text)}}]
    if isinstance(action, (Key, Back, Home)):
        keys = _keys(action)
        if len(keys) == 1:
            return [{"action_type": "PRESS", "parameters": {"key": keys[0]}}]
        return [{"action_type": "HOTKEY", "parameters": {"keys": keys}}]
    if isinstance(action, Wait):
        return ["WAIT"]
    if isinstance(action, Terminate):
        return ["DONE" if action.status == "success" else "FAIL"]
    raise ActionUnsupported(f"{action.describe()} has no OSWorld computer_13 action")


def to_pyautogui(action: Action) -> list[str]:
    """The ``pyautogui`` action-space commands: Python code from fixed templates, or ``'DONE'``/``'FAIL'``."""
    if isinstance(action, Click):
        return [f"pyautogui.click({int(action.x)}, {int(action.y)})"]
    if isinstance(action, LongPress):
        x, y = int(action.x), int(action.y)
        return [f"pyautogui.mouseDown({x}, {y}); time.sleep({float(action.seconds)!r}); pyautogui.mouseUp({x}, {y})"]
    if isinstance(action, Swipe):
        return [f"pyautogui.moveTo({int(action.x)}, {int(action.y)}); pyautogui.dragTo({int(action.x2)}, "
                f"{int(action.y2)}, duration={float(action.seconds)!r}, button='left')"]
    if isinstance(action, Scroll):
        axis, clicks = _scroll_amount(action)
        move = f"pyautogui.moveTo({int(action.x)}, {int(action.y)}); " if action.x is not None else ""
        return [f"{move}pyautogui.{'vscroll' if axis == 'dy' else 'hscroll'}({int(clicks)})"]
    if isinstance(action, Type):
        return [f"pyautogui.write({_text(action.text)!r})"]
    if isinstance(action, (Key, Back, Home)):
        keys = _keys(action)
        if len(keys) == 1:
            return [f"pyautogui.press({keys[0]!r})"]
        return [f"pyautogui.hotkey({', '.join(repr(k) for k in keys)})"]
    if isinstance(action, Wait):
        return [f"time.sleep({float(action.seconds)!r})"]
    if isinstance(action, Terminate):
        return ["DONE" if action.status == "success" else "FAIL"]
    raise ActionUnsupported(f"{action.describe()} has no OSWorld pyautogui action")


def to_osworld(action: Action, action_space: str) -> list[Any]:
    """``action`` in OSWorld's ``action_space`` (``pyautogui`` or ``computer_13``)."""
    if action_space == "pyautogui":
        return to_pyautogui(action)
    if action_space == "computer_13":
        return to_computer13(action)
    raise ConfigError(f"unknown OSWorld action space {action_space!r}; valid: {', '.join(ACTION_SPACES)}")
