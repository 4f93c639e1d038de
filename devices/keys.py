"""One key vocabulary for every backend: canonical key names, their aliases, each backend's spelling, and the
split of typed text into runs (issue 10 item 12: the web, desktop and VNC backends each kept a table).

A ``Key`` action names keys in lower case joined by ``+`` (``ctrl+shift+t``). Each part is an alias
(:data:`ALIASES`: ``control`` -> ``ctrl``, ``escape`` -> ``esc``, ``cmd``/``win``/``meta`` -> ``super``) or a
canonical name (:data:`NAMED`), a single printable character, or a name the backend itself knows (``extra``:
pyautogui's ``printscreen``, vncdotool's ``kp0``). :func:`spell` maps a chord to a backend's names through its
table (:data:`PLAYWRIGHT`, :data:`PYAUTOGUI`, :data:`VNCDOTOOL`: only the names it spells differently) and
raises :class:`~cua.errors.ActionError` naming an unknown key.
"""

from __future__ import annotations

import itertools
from typing import Callable, Collection, Mapping

from cua.errors import ActionError

NAMED: tuple[str, ...] = (
    "enter", "esc", "backspace", "delete", "tab", "space", "up", "down", "left", "right", "home", "end",
    "pageup", "pagedown", "insert", "ctrl", "shift", "alt", "super", "capslock", *(f"f{i}" for i in range(1, 13)),
)
ALIASES: dict[str, str] = {
    "return": "enter", "escape": "esc", "del": "delete", "bsp": "backspace", "ins": "insert", "spacebar": "space",
    "page_up": "pageup", "page_down": "pagedown", "pgup": "pageup", "pgdn": "pagedown", "arrowup": "up",
    "arrowdown": "down", "arrowleft": "left", "arrowright": "right", "control": "ctrl", "option": "alt",
    "cmd": "super", "meta": "super", "win": "super", "windows": "super", "caplk": "capslock",
}
#: Playwright's ``keyboard.press`` names (KeyboardEvent.key values).
PLAYWRIGHT: dict[str, str] = {
    "enter": "Enter", "esc": "Escape", "backspace": "Backspace", "delete": "Delete", "tab": "Tab", "space": "Space",
    "up": "ArrowUp", "down": "ArrowDown", "left": "ArrowLeft", "right": "ArrowRight", "home": "Home", "end": "End",
    "pageup": "PageUp", "pagedown": "PageDown", "insert": "Insert", "ctrl": "Control", "shift": "Shift",
    "alt": "Alt", "super": "Meta", "capslock": "CapsLock", **{f"f{i}": f"F{i}" for i in range(1, 13)},
}
#: pyautogui's ``KEYBOARD_KEYS`` names that differ from the canonical ones.
PYAUTOGUI: dict[str, str] = {"super": "winleft"}
#: vncdotool's ``KEYMAP`` names that differ from the canonical ones.
VNCDOTOOL: dict[str, str] = {"backspace": "bsp", "pageup": "pgup", "pagedown": "pgdn", "insert": "ins",
                             "capslock": "caplk"}


def spell(chord: str, table: Mapping[str, str], extra: Collection[str] = ()) -> list[str]:
    """``"control+shift+t"`` -> the backend's names (``table`` applied to canonical names); ActionError if unknown.

    >>> spell("control+escape", PLAYWRIGHT)
    ['Control', 'Escape']
    """
    out = []
    for part in chord.split("+"):
        name = ALIASES.get(part, part)
        if name in NAMED:
            out.append(table.get(name, name))
        elif part in extra or (len(part) == 1 and part.isprintable()):
            out.append(part)
        else:
            known = ", ".join(sorted({*NAMED, *ALIASES}))
            raise ActionError(f"unknown key {part!r} in {chord!r}; known keys: {known}, single characters, "
                              "chords joined by '+' (e.g. ctrl+c, alt+tab)")
    return out


def spellings(table: Mapping[str, str]) -> dict[str, str]:
    """Every accepted name (canonical and alias) -> the backend's name."""
    return {name: table.get(ALIASES.get(name, name), ALIASES.get(name, name)) for name in (*NAMED, *ALIASES)}


def is_plain_ascii(text: str) -> bool:
    """Only printable ASCII, newline and tab: what key-by-key typing (pyautogui.write) can produce."""
    return all(32 <= ord(c) < 127 or c in "\n\t" for c in text)


def text_runs(text: str, plain: Callable[[str], bool] = str.isascii) -> list[tuple[bool, str]]:
    """Split ``text`` into maximal ``(plain, run)`` pieces whose characters all are, or all are not, ``plain``.

    >>> text_runs("ab é日c")
    [(True, 'ab '), (False, 'é日'), (True, 'c')]
    """
    return [(kind, "".join(chars)) for kind, chars in itertools.groupby(text, key=plain)]
