"""VNC backend: a remote screen over RFB through vncdotool's Twisted client. Spec ``vnc:HOST:PORT``.

Contract:
- Password: the ``password`` option, else ``$CUA_VNC_PASSWORD``, else none. A wrong or missing password
  raises :class:`~cua.errors.ConfigError` (not a device fault: retrying cannot help, the fix is the
  password); an unreachable server or a dropped connection raises :class:`~cua.errors.DeviceDisconnected`;
  a call that does not finish within ``timeout`` (default :data:`DEFAULT_TIMEOUT`) raises
  :class:`~cua.errors.DeviceTimeout` and leaves the device unusable (DeviceDisconnected afterwards).
- Threads: vncdotool's client runs on Twisted's reactor in one process-wide daemon thread, started on first
  use and never stopped (Twisted cannot restart a reactor; ``vncdotool.api.shutdown`` would break every later
  connection). Each call is scheduled with ``callFromThread`` and answered through its own Future, so a late
  answer can never be mistaken for another call's (vncdotool's ``ThreadedVNCClientProxy`` shares one queue).
  ``close()`` drops the connection, waits for it to end, and is idempotent.
- Screenshots: a full (non-incremental) framebuffer update per ``observe`` - the only request that is answered
  even when nothing changed - encoded once to PNG (compress level 1). Frames are device pixels; scale 1.
- Input: pointer events at device pixels; ``Scroll`` is content direction (down = wheel button 5); keys are
  X keysyms (:mod:`cua.devices.keys` names), chords press in order and release in reverse; ``Type``
  sends one keysym per character (Unicode keysyms for non-Latin-1). A server started with ``-add_keysyms``
  (x11vnc) binds a keysym missing from its keymap to a spare keycode *when the key event arrives* and
  presses it at once, so the application gets the MappingNotify and the key press back to back and may
  decode the press with its old keymap (the character is lost: issue 10). So the characters the keymap
  may lack are bound first, by a lone key-release of each (x11vnc's keyboard() adds the keysym for a
  release too; the X server drops a release of a key that is not down, so nothing reaches the
  application), then the text is typed after ``KEYSYM_SETTLE`` seconds, once per ``Type`` whose keysyms
  are new to this connection or may have been unbound (x11vnc drops its added keysyms after
  ``KEYSYMS_KEPT`` seconds without key input).
- ``Back`` / ``Home`` press ``back_key`` (alt+left) / ``home_key`` (super). No tools, no UI elements.
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import socket
import threading
import time
from typing import Any, Callable

from cua.actions import Action, Back, Click, Home, Key, LongPress, Scroll, Swipe, Type
from cua.device import ActionResult, ClosesOnExit
from cua.devices.keys import VNCDOTOOL, spell
from cua.devices.prelude import run_action, unsupported
from cua.devices.registry import register
from cua.devices.x11 import char_keysym
from cua.errors import ConfigError, CuaError, DeviceDisconnected, DeviceError, DeviceTimeout
from cua.observation import Observation

DEFAULT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
PASSWORD_ENV = "CUA_VNC_PASSWORD"
SCROLL_CLICKS = 5
SWIPE_STEPS = 20
PNG_LEVEL = 1
KEYSYM_SETTLE = 0.2
KEYSYMS_KEPT = 5.0
BACK_KEY, HOME_KEY = "alt+left", "super"
_REACTOR_LOCK = threading.Lock()
_REACTOR_THREAD: threading.Thread | None = None


def _ensure_reactor() -> Any:
    """Start Twisted's reactor in a daemon thread once per process; returns the reactor."""
    global _REACTOR_THREAD
    from twisted.internet import reactor

    with _REACTOR_LOCK:
        if _REACTOR_THREAD is None and not reactor.running:
            _REACTOR_THREAD = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                                               name="cua-vnc-reactor", daemon=True)
            _REACTOR_THREAD.start()
    return reactor


def key_symbols(chord: str) -> list[int]:
    """``"ctrl+alt+t"`` -> X keysyms (names from :mod:`cua.devices.keys`); ActionError naming an unknown key."""
    from vncdotool.keys import KEYMAP

    return [int(KEYMAP[name]) if name in KEYMAP else char_keysym(name) for name in spell(chord, VNCDOTOOL, KEYMAP)]


def text_symbols(text: str) -> list[int]:
    from vncdotool.keys import KEYMAP

    special = {"\n": int(KEYMAP["return"]), "\t": int(KEYMAP["tab"])}
    return [special.get(c) or char_keysym(c) for c in text]


class VncDevice(ClosesOnExit):
    """A VNC screen as a Device (see the module docstring for the contract)."""

    def __init__(self, host: str, port: int, *, password: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 connect_timeout: float = CONNECT_TIMEOUT, back_key: str = BACK_KEY, home_key: str = HOME_KEY) -> None:
        from vncdotool.client import VNCDoToolFactory

        self.spec = f"vnc:{host}:{port}"
        self.timeout = timeout
        self.back_key, self.home_key = back_key, home_key
        self._reactor = _ensure_reactor()
        self._lost: str | None = None
        self._broken: str | None = None
        self._closed = False
        self._pending: set[concurrent.futures.Future] = set()
        self._gone = threading.Event()
        self._bound: set[int] = set()
        self._last_key = float("-inf")
        self._factory = VNCDoToolFactory()
        self._factory.password = password if password is not None else os.environ.get(PASSWORD_ENV)
        self._factory._disconnect_callbacks.append(self._on_lost)
        self.protocol = self._connect(host, port, connect_timeout)
        self.size = (int(self.protocol.width), int(self.protocol.height))

    def _connect(self, host: str, port: int, timeout: float) -> Any:
        from vncdotool.client import AuthenticationError, factory_connect

        result: concurrent.futures.Future = concurrent.futures.Future()

        def start() -> None:
            self._factory.deferred.addCallbacks(result.set_result, lambda f: result.set_exception(f.value))
            factory_connect(self._factory, host, port, socket.AF_INET)

        self._reactor.callFromThread(start)
        try:
            return result.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            self._broken = "connect timed out"
            raise DeviceTimeout(f"VNC server {host}:{port} did not complete the handshake within {timeout} s") from None
        except AuthenticationError as exc:
            raise ConfigError(f"VNC authentication with {host}:{port} failed ({exc}); pass the right password "
                              f"(option password= or ${PASSWORD_ENV})") from None
        except Exception as exc:
            raise DeviceDisconnected(f"cannot connect to VNC server {host}:{port}: {exc}; is it running "
                                     "and listening there?") from None

    def _on_lost(self, reason: Any) -> None:
        self._lost = str(getattr(reason, "value", reason))
        for fut in list(self._pending):
            if not fut.done():
                fut.set_exception(DeviceDisconnected(f"{self.spec}: connection lost ({self._lost})"))
        self._gone.set()

    def _call(self, fn: Callable[[Any], Any], timeout: float | None, what: str) -> Any:
        """Run ``fn(protocol)`` on the reactor thread (awaiting a returned Deferred) within ``timeout``."""
        if self._closed:
            raise DeviceDisconnected(f"{self.spec} is closed")
        if self._lost or self._broken:
            raise DeviceDisconnected(f"{self.spec} is unusable: {self._lost or self._broken}")
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._pending.add(fut)

        def run() -> None:
            try:
                out = fn(self.protocol)
            except Exception as exc:
                fut.set_exception(exc)
                return
            if hasattr(out, "addCallbacks"):
                out.addCallbacks(lambda v: fut.done() or fut.set_result(v),
                                 lambda f: fut.done() or fut.set_exception(f.value))
            else:
                fut.set_result(out)

        self._reactor.callFromThread(run)
        try:
            return fut.result(timeout=timeout or self.timeout)
        except concurrent.futures.TimeoutError:
            self._broken = f"{what} timed out"
            raise DeviceTimeout(f"{self.spec}: {what} did not finish within {timeout or self.timeout} s") from None
        except CuaError:
            raise
        except Exception as exc:
            if self._lost:
                raise DeviceDisconnected(f"{self.spec}: connection lost during {what} ({self._lost})") from None
            raise DeviceError(f"{self.spec}: {what} failed: {type(exc).__name__}: {exc}") from None
        finally:
            self._pending.discard(fut)

    def observe(self, *, timeout: float | None = None) -> Observation:
        self._call(lambda p: p.refreshScreen(incremental=False), timeout, "screenshot")
        image = self.protocol.screen
        if image is None:
            raise DeviceError(f"{self.spec}: the server sent no framebuffer")
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="PNG", compress_level=PNG_LEVEL)
        return Observation(png=buf.getvalue(), width=image.width, height=image.height, scale=1.0)

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        return run_action(action, self.size, lambda a: self._perform(a, timeout), tools=None, device=self.spec)

    def _perform(self, action: Action, timeout: float | None) -> None:
        if isinstance(action, Click):
            self._call(lambda p: p.mouseMove(action.x, action.y).mousePress(1), timeout, "click")
        elif isinstance(action, LongPress):
            self._call(lambda p: p.mouseMove(action.x, action.y).mouseDown(1), timeout, "long_press")
            time.sleep(action.seconds)
            self._call(lambda p: p.mouseUp(1), timeout, "long_press")
        elif isinstance(action, Swipe):
            self._swipe(action, timeout)
        elif isinstance(action, Scroll):
            self._scroll(action, timeout)
        elif isinstance(action, (Key, Back, Home)):
            chord = action.key if isinstance(action, Key) else self.back_key if isinstance(action, Back) else self.home_key
            self._keys(key_symbols(chord), timeout)
        elif isinstance(action, Type):
            self._type(action.text, timeout)
        else:
            raise unsupported(action, self.spec)

    def _type(self, text: str, timeout: float | None) -> None:
        """Bind the non-ASCII keysyms first (see the module docstring), then send every key in one batch."""
        self._bind_keysyms(text_symbols("".join(c for c in text if not c.isascii())), timeout)
        syms = text_symbols(text)
        self._call(lambda p: [(p.keyEvent(k, down=True), p.keyEvent(k, down=False)) for k in syms], timeout, "type")
        self._last_key = time.monotonic()

    def _bind_keysyms(self, syms: list[int], timeout: float | None) -> None:
        """Have the server bind ``syms`` by a lone release each; wait KEYSYM_SETTLE when a binding may be new."""
        if not syms:
            return
        fresh = not self._bound.issuperset(syms) or time.monotonic() - self._last_key >= KEYSYMS_KEPT
        self._call(lambda p: [p.keyEvent(k, down=False) for k in dict.fromkeys(syms)], timeout, "type")
        self._bound.update(syms)
        if fresh:
            time.sleep(KEYSYM_SETTLE)

    def _keys(self, syms: list[int], timeout: float | None) -> None:
        self._bind_keysyms([k for k in syms if 0x7F < k <= 0xFF or k >= 0x01000000], timeout)

        def press(p: Any) -> None:
            for k in syms:
                p.keyEvent(k, down=True)
            for k in reversed(syms):
                p.keyEvent(k, down=False)
        self._call(press, timeout, "key")
        self._last_key = time.monotonic()

    def _swipe(self, action: Swipe, timeout: float | None) -> None:
        self._call(lambda p: p.mouseMove(action.x, action.y).mouseDown(1), timeout, "swipe")
        for i in range(1, SWIPE_STEPS + 1):
            x = action.x + (action.x2 - action.x) * i // SWIPE_STEPS
            y = action.y + (action.y2 - action.y) * i // SWIPE_STEPS
            time.sleep(action.seconds / SWIPE_STEPS)
            self._call(lambda p, x=x, y=y: p.mouseMove(x, y), timeout, "swipe")
        self._call(lambda p: p.mouseUp(1), timeout, "swipe")

    def _scroll(self, action: Scroll, timeout: float | None) -> None:
        button = {"up": 4, "down": 5, "left": 6, "right": 7}[action.direction]

        def wheel(p: Any) -> None:
            if action.x is not None and action.y is not None:
                p.mouseMove(action.x, action.y)
            for _ in range(SCROLL_CLICKS):
                p.mousePress(button)
        self._call(wheel, timeout, "scroll")

    def reset(self, *, seed: int | None = None) -> None:
        """No-op: a remote screen has no known start state to restore."""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._lost is None and getattr(self, "protocol", None) is not None:
            self._reactor.callFromThread(lambda: self.protocol.transport.loseConnection())
            self._gone.wait(CLOSE_TIMEOUT)


def parse_host_port(arg: str) -> tuple[str, int]:
    host, sep, port = arg.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"bad VNC spec 'vnc:{arg}'; use vnc:HOST:PORT, e.g. vnc:127.0.0.1:5900")
    return host, int(port)


@register("vnc", forms=("vnc:HOST:PORT",))
def make_vnc(arg: str, **options: Any) -> VncDevice:
    host, port = parse_host_port(arg)
    try:
        return VncDevice(host, port, **options)
    except TypeError as exc:
        raise ConfigError(f"bad option for the VNC device: {exc}") from None
