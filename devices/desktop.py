"""Desktop backend: an X display driven by pyautogui, screenshots through mss. Specs ``desktop``, ``desktop:DISPLAY``.

Contract:
- Frames: actions carry device pixels = screenshot pixels. ``Observation.scale`` = screenshot pixels per
  logical (pyautogui) pixel, measured at open by comparing mss's screen size with ``pyautogui.size()``; points
  are divided by it before they reach pyautogui (1.0 on plain X11; other ratios come from HiDPI setups).
- Every call runs on the device's worker thread and finishes within ``timeout`` (default
  :data:`DEFAULT_TIMEOUT`, plus the action's own duration) or raises :class:`~cua.errors.DeviceTimeout`; the
  device is then unusable (:class:`~cua.errors.DeviceDisconnected` afterwards). A vanished X server raises
  ``DeviceDisconnected``.
- ``pyautogui.PAUSE`` is 0. pyautogui's fail-safe (mouse in a screen corner aborts) stays on when the display
  is the host's own ``$DISPLAY`` (``failsafe=None``); a tripped fail-safe raises ActionDenied before any input.
- ``Scroll`` is content direction: down = reveal content below = wheel down (negative pyautogui clicks).
- ``Type``: printable ASCII goes through ``pyautogui.write``; other characters through the X keysym route
  (:class:`cua.devices.x11.KeysymTyper`: the keysym bound to a spare keycode, pressed through XTest).
  ``xdotool type`` was tried and drops the last non-ASCII character (it restores the keymap before the
  client reads it).
- ``Back`` presses ``back_key`` (alt+left: browsers, file managers); ``Home`` presses ``home_key`` (super:
  the desktop's launcher/overview in GNOME/KDE; configure either per device).
- ``OpenApp`` and the ``open_application`` tool start programs from the ``apps`` allowlist or the XDG
  ``.desktop`` entries (argv lists only). Programs the device started are terminated by ``close()``.
- ``read_file`` / ``write_file`` tools are confined to ``workspace`` (a fresh temp folder when not given).
- ``start`` (argv) is the episode's program: ``reset`` terminates what the device started and launches it
  again (a no-op without ``start``). UI elements are not available on a plain X screen.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from cua.actions import Action, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Type
from cua.device import ActionResult, ClosesOnExit
from cua.errors import ActionDenied, ActionError, ConfigError, CuaError, DeviceDisconnected, DeviceError
from cua.devices import x11
from cua.devices.desktop_tools import AppLauncher, Workspace
from cua.devices.keys import PYAUTOGUI, is_plain_ascii, spell, text_runs
from cua.devices.prelude import run_action, unsupported
from cua.devices.registry import register
from cua.observation import Observation
from cua.tools import ToolRegistry

DEFAULT_TIMEOUT = 10.0
SCROLL_CLICKS = 5
PNG_LEVEL = 1
BACK_KEY = "alt+left"
HOME_KEY = "super"


def screen_scale(physical: tuple[int, int], logical: tuple[int, int]) -> float:
    """Screenshot pixels per logical pixel; ConfigError if the two axes disagree (a rotated/odd setup)."""
    sx, sy = physical[0] / logical[0], physical[1] / logical[1]
    if abs(sx - sy) > 0.01:
        raise ConfigError(f"screenshot {physical} and logical screen {logical} have different x/y ratios")
    return round(sx, 4)


def to_logical(x: int, y: int, scale: float) -> tuple[int, int]:
    """Device (screenshot) pixels -> logical pixels for pyautogui."""
    return int(x / scale), int(y / scale)


def key_names(chord: str, valid: Sequence[str]) -> list[str]:
    """``"ctrl+shift+t"`` -> pyautogui key names (:mod:`cua.devices.keys`) within ``valid``; ActionError if unknown."""
    names = spell(chord, PYAUTOGUI, valid)
    for name in names:
        if name not in valid:
            raise ActionError(f"unknown key {name!r} in {chord!r}; use names like enter, esc, ctrl+c, alt+tab, f5")
    return names


class DesktopDevice(ClosesOnExit):
    """An X display as a Device (see the module docstring for the contract)."""

    def __init__(
        self,
        display: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        workspace: str | os.PathLike[str] | None = None,
        apps: Mapping[str, Sequence[str]] | None = None,
        back_key: str = BACK_KEY,
        home_key: str = HOME_KEY,
        failsafe: bool | None = None,
        scale: float | None = None,
        start: Sequence[str] | None = None,
    ) -> None:
        self.display = x11.normalize_display(display)
        self.spec = f"desktop:{self.display}"
        self.timeout = timeout
        self.back_key, self.home_key = back_key, home_key
        host = os.environ.get("DISPLAY")
        self.failsafe = failsafe if failsafe is not None else bool(host) and x11.normalize_display(host) == self.display
        self.env = {**os.environ, "DISPLAY": self.display, "XDG_SESSION_TYPE": "x11"}
        self.workspace = Workspace(workspace)
        self.launcher = AppLauncher(apps, env=self.env)
        self.start = list(start) if start else None
        self.tools = ToolRegistry()
        self._add_tools()
        if not x11.display_alive(self.display):
            raise DeviceDisconnected(f"X display {self.display} does not answer (is Xvfb/X running? "
                                     f"socket {x11.socket_path(self.display)})")
        self._worker = x11.Worker(f"desktop{self.display}")
        self._closed = False
        self._pg = x11.pyautogui_for(self.display)
        self._call(self._connect, timeout, "connect")
        self.scale = scale if scale is not None else screen_scale(self.size, self.logical_size)

    def _connect(self) -> None:
        import mss
        from Xlib.display import Display

        self._xdisplay = Display(self.display)
        self._typer = x11.KeysymTyper(self._xdisplay)
        self._mss = mss.MSS(display=self.display)
        self._monitor = dict(self._mss.monitors[0])
        self.size = (self._monitor["width"], self._monitor["height"])
        screen = self._xdisplay.screen()
        self.logical_size = (screen.width_in_pixels, screen.height_in_pixels)

    def _call(self, fn: Callable[[], Any], timeout: float | None, what: str) -> Any:
        if self._closed:
            raise DeviceDisconnected(f"{self.spec} is closed")
        return self._worker.run(lambda: self._guarded(fn, what), timeout or self.timeout, what)

    def _guarded(self, fn: Callable[[], Any], what: str) -> Any:
        try:
            return fn()
        except CuaError:
            raise
        except Exception as exc:
            if type(exc).__name__ == "FailSafeException":
                raise ActionDenied("pyautogui fail-safe: the mouse is in a screen corner (a human aborted); "
                                   "move it away to continue") from None
            if not x11.display_alive(self.display):
                raise DeviceDisconnected(f"X display {self.display} went away during {what}") from None
            raise DeviceError(f"{what} failed on {self.display}: {type(exc).__name__}: {exc}") from None

    def observe(self, *, timeout: float | None = None) -> Observation:
        return self._call(self._screenshot, timeout, "screenshot")

    def _screenshot(self) -> Observation:
        import mss.tools

        shot = self._mss.grab(self._monitor)
        png = mss.tools.to_png(shot.rgb, shot.size, level=PNG_LEVEL)
        return Observation(png=png, width=shot.width, height=shot.height, scale=self.scale)

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        return run_action(action, self.size, lambda a: self._perform(a, timeout), tools=self.tools, device=self.spec)

    def _perform(self, action: Action, timeout: float | None) -> Any:
        if isinstance(action, OpenApp):
            return self.launcher.open(action.app)
        run, extra = self._input_for(action)
        self._call(lambda: self._with_pyautogui(run), (timeout or self.timeout) + extra, action.kind)
        return None

    def _with_pyautogui(self, run: Callable[[Any], None]) -> None:
        with x11.bound(self._xdisplay):
            self._pg.FAILSAFE = self.failsafe
            run(self._pg)

    def _input_for(self, action: Action) -> tuple[Callable[[Any], None], float]:
        """(function of pyautogui doing ``action``, seconds the action itself lasts)."""
        pt = lambda x, y: to_logical(x, y, self.scale)  # noqa: E731
        if isinstance(action, Click):
            return (lambda pg: pg.click(*pt(action.x, action.y))), 0.0
        if isinstance(action, LongPress):
            def hold(pg: Any) -> None:
                pg.mouseDown(*pt(action.x, action.y))
                time.sleep(action.seconds)
                pg.mouseUp(*pt(action.x, action.y))
            return hold, action.seconds
        if isinstance(action, Swipe):
            def drag(pg: Any) -> None:
                pg.mouseDown(*pt(action.x, action.y))
                pg.moveTo(*pt(action.x2, action.y2), duration=action.seconds)
                pg.mouseUp(*pt(action.x2, action.y2))
            return drag, action.seconds
        if isinstance(action, Scroll):
            return self._scroll(action), 0.0
        if isinstance(action, Type):
            return self._type(action.text), len(action.text) * 0.01
        if isinstance(action, (Key, Back, Home)):
            chord = action.key if isinstance(action, Key) else self.back_key if isinstance(action, Back) else self.home_key
            names = key_names(chord, self._pg.KEYBOARD_KEYS)
            return (lambda pg: pg.hotkey(*names)), 0.0
        raise unsupported(action, self.spec)

    def _scroll(self, action: Scroll) -> Callable[[Any], None]:
        at = to_logical(action.x, action.y, self.scale) if action.x is not None and action.y is not None else None
        sign = -1 if action.direction in ("down", "left") else 1
        vertical = action.direction in ("up", "down")

        def scroll(pg: Any) -> None:
            if at is not None:
                pg.moveTo(*at)
            if vertical:
                pg.vscroll(sign * SCROLL_CLICKS)
            else:
                pg.hscroll(sign * SCROLL_CLICKS)
        return scroll

    def _type(self, text: str) -> Callable[[Any], None]:
        def write(pg: Any) -> None:
            self._typer.prepare("".join(c for c in text if not is_plain_ascii(c)))
            for plain, run in text_runs(text, is_plain_ascii):
                if plain:
                    pg.write(run)
                else:
                    self._typer.type(run)
        return write

    def reset(self, *, seed: int | None = None) -> None:
        """Terminate the programs this device started, then launch ``start`` (argv) again when given.

        Without ``start`` there is no known start state and nothing happens. Returns once the program is
        launched, not once its window is shown (wrap with WaitStable for that)."""
        self.launcher.close()
        if self.start:
            self.launcher.launch(self.start)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.launcher.close()
        if not self._worker.broken:
            try:
                self._worker.run(self._disconnect, 5.0, "close")
            except CuaError:
                pass
        self._worker.close()

    def _disconnect(self) -> None:
        try:
            self._typer.restore()
        except Exception:  # the server may already be gone
            pass
        for res in (getattr(self, "_mss", None), getattr(self, "_xdisplay", None)):
            if res is not None:
                try:
                    res.close()
                except Exception:  # the server may already be gone
                    pass

    def _add_tools(self) -> None:
        self.tools.add_function(self.launcher.open, name="open_application",
                                description="Start a desktop application by name (from the allowed list).")
        self.tools.add_function(self.launcher.names, name="list_applications",
                                description="Names of the applications open_application can start.")
        self.tools.add_function(self.workspace.read_file, name="read_file")
        self.tools.add_function(self.workspace.write_file, name="write_file")


@register("desktop", forms=("desktop", "desktop:DISPLAY"), discover=x11.list_displays)
def make_desktop(arg: str, **options: Any) -> DesktopDevice:
    try:
        return DesktopDevice(arg or None, **options)
    except TypeError as exc:
        raise ConfigError(f"bad option for the desktop device: {exc}") from None
