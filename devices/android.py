"""The Android backend over ADB through adbutils (specs ``emulator-5554``, ``android:SERIAL``, ``HOST:PORT``).

Frames: actions and element bounds are device pixels of the current orientation (``wm size``, swapped when
``dumpsys display`` reports rotation 1 or 3); ``scale`` = ``wm density`` / 160.

Screenshots: ``screencap -p`` (PNG encoded on the phone) or raw ``screencap`` (12/16-byte header + RGBA, PNG
encoded here with compress level 1). ``screencap="auto"`` times one capture of each on the first observe and
keeps the faster for the device's life. Every frame is validated (decodes, matches the screen size, not all
black); a bad frame is read again up to :data:`SCREENSHOT_RETRIES` times, then ScreenshotError. Only reads are
retried: an input command whose delivery is uncertain is never sent twice.

Server and connection: the adb server at ``adb_host:adb_port`` (default ``ANDROID_ADB_SERVER_PORT`` or 5037)
must already run; adbutils would start a daemon on a refused connection, so every call first checks the port
and raises DeviceDisconnected instead. ``HOST:PORT`` devices are ``adb connect``-ed first. A command sent
more than :data:`STATE_CHECK_S` after the last answered one first asks the server for the device's state (adb
29 holds a command sent to an ``offline`` transport until it times out; the check costs a server round trip,
~10 ms here, so back-to-back commands skip it) and, unless it is ``device``, disconnects and connects it again
before the command is sent. A timeout on a device the server no longer lists as ``device`` is
DeviceDisconnected. Timeouts: every shell call has
``timeout`` seconds (default :data:`DEFAULT_TIMEOUT`) -> DeviceTimeout.

Text: ASCII through ``input text`` (spaces as ``%s``, the argv quoted for the phone's sh by
:func:`cua.devices.adb_input.command`); anything else through the ADBKeyboard IME's base64 broadcast when
``ime list -s`` lists it, else ActionError. Apps: ``open_app`` takes a package or a label, resolved over
``pm list packages`` (:func:`~cua.devices.adb_input.resolve_label`), launched with ``monkey -p PKG -c
android.intent.category.LAUNCHER 1``. Tools: ``open_url``, ``launch_intent``, ``list_apps`` (Android 10+
denies clipboard access to shell, so there are no clipboard tools).
"""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Any, Sequence

from cua.actions import Action, Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, Type, scroll_to_swipe
from cua.device import ActionResult, ClosesOnExit
from cua.devices import adb_input as ai
from cua.devices.prelude import run_action, unsupported
from cua.devices.registry import EMULATOR, HOST_PORT, register
from cua.errors import (
    ActionError, ConfigError, DeviceDisconnected, DeviceError, DeviceTimeout, ScreenshotError,
)
from cua.observation import Observation
from cua.tools import ToolRegistry

DEFAULT_TIMEOUT = 20.0
DEFAULT_ADB_PORT = 5037
SERVER_PROBE_TIMEOUT = 0.5
CONNECT_TIMEOUT = 10.0
SCREENSHOT_RETRIES = 3
UI_DUMP_PATH = "/data/local/tmp/cua_window_dump.xml"
SCROLL_FRACTION = 0.5
#: A command more than this many seconds after the last answered one first asks the server for the device state.
STATE_CHECK_S = 1.0


def server_port() -> int:
    return int(os.environ.get("ANDROID_ADB_SERVER_PORT", DEFAULT_ADB_PORT))


def server_running(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=SERVER_PROBE_TIMEOUT).close()
        return True
    except OSError:
        return False


class AndroidDevice(ClosesOnExit):
    """One phone or emulator behind an adb server. ``close()`` releases nothing on the phone (idempotent)."""

    def __init__(self, serial: str, *, adb_host: str = "127.0.0.1", adb_port: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT, elements: bool = False, screencap: str = "auto",
                 spec: str | None = None) -> None:
        import adbutils

        if screencap not in ("auto", "png", "raw"):
            raise ConfigError(f"screencap must be auto, png or raw, not {screencap!r}")
        self.serial, self.timeout, self.elements, self.screencap = serial, timeout, elements, screencap
        self.adb_host, self.adb_port = adb_host, adb_port if adb_port is not None else server_port()
        self.spec = spec or (serial if EMULATOR.match(serial) or HOST_PORT.match(serial) else f"android:{serial}")
        self._closed = False
        self.state_check_s = STATE_CHECK_S
        self._last_ok = float("-inf")
        self._check_server()
        self.client = adbutils.AdbClient(host=adb_host, port=self.adb_port, socket_timeout=timeout)
        if HOST_PORT.match(serial):
            self._connect()
        self.adb = self.client.device(serial)
        self._ime: bool | None = None
        self.width, self.height, self.scale, self.orientation = 0, 0, 1.0, 0
        self.refresh_size()
        self.tools = ToolRegistry()
        for fn in (self.open_url, self.launch_intent, self.list_apps):
            self.tools.add_function(fn)

    # -- connection -------------------------------------------------------------------------------------
    def _check_server(self) -> None:
        if not server_running(self.adb_host, self.adb_port):
            raise DeviceDisconnected(f"no adb server at {self.adb_host}:{self.adb_port}; start one (adb start-server)")

    def _connect(self) -> None:
        try:
            out = self.client.connect(self.serial, timeout=CONNECT_TIMEOUT)
        except Exception as exc:
            raise DeviceDisconnected(f"adb connect {self.serial} failed: {exc}") from None
        if "connected" not in out or "cannot" in out or "failed" in out:
            raise DeviceDisconnected(f"adb connect {self.serial}: {out.strip()}")

    def reconnect(self) -> None:
        """``adb disconnect`` + ``adb connect`` (HOST:PORT devices): the cure for a phone the server calls offline."""
        if not HOST_PORT.match(self.serial):
            raise DeviceDisconnected(f"{self.serial} is offline; reconnect it (USB cable, emulator)")
        try:
            self.client.disconnect(self.serial)
        except Exception:
            pass
        self._connect()
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while self._state() != "device":
            if time.monotonic() > deadline:
                raise DeviceDisconnected(f"{self.serial} stays {self._state()} after adb connect")
            time.sleep(0.05)

    def _state(self) -> str:
        try:
            return self.adb.get_state()
        except Exception:
            return "gone"

    def shell(self, argv: Sequence[str], *, timeout: float | None = None, binary: bool = False) -> Any:
        """Run ``argv`` on the phone (quoted for sh); stdout as str (or bytes). See the module docstring."""
        from adbutils.errors import AdbError, AdbTimeout

        if self._closed:
            raise DeviceDisconnected(f"{self.spec} is closed")
        timeout = self.timeout if timeout is None else timeout
        line = ai.command(argv)
        self._check_server()
        if time.monotonic() - self._last_ok > self.state_check_s and self._state() != "device":
            self.reconnect()
        for attempt in (0, 1):
            self._check_server()
            try:
                out = self.adb.shell(line, timeout=timeout, encoding=None if binary else "utf-8")
                self._last_ok = time.monotonic()
                return out
            except AdbTimeout:
                self._raise_timeout(argv, timeout)
            except AdbError as exc:
                refused = re.search(r"offline|not found|no devices", str(exc))
                if not refused or attempt:
                    raise DeviceDisconnected(f"{argv[0]} on {self.serial}: {exc}") from None
                self.reconnect()
            except (OSError, ConnectionError) as exc:
                if isinstance(exc, socket.timeout):
                    self._raise_timeout(argv, timeout)
                raise DeviceDisconnected(f"{argv[0]} on {self.serial}: connection lost ({exc})") from None
        raise DeviceError("unreachable")  # pragma: no cover

    def _raise_timeout(self, argv: Sequence[str], timeout: float) -> None:
        """DeviceDisconnected if the server no longer lists the phone as ``device``, else DeviceTimeout."""
        state = self._state() if server_running(self.adb_host, self.adb_port) else "gone (no adb server)"
        if state != "device":
            raise DeviceDisconnected(f"{argv[0]} on {self.serial}: no answer in {timeout:g} s, device {state}")
        raise DeviceTimeout(f"{argv[0]} on {self.serial} took over {timeout:g} s")

    def refresh_size(self) -> None:
        """Read ``wm size`` (override wins), ``wm density`` and the rotation from ``dumpsys display``."""
        sizes = re.findall(r"(\d+)x(\d+)", self.shell(["wm", "size"]))
        if not sizes:
            raise DeviceError(f"wm size on {self.serial} printed no size")
        width, height = (int(v) for v in sizes[-1])
        density = re.findall(r"density: (\d+)", self.shell(["wm", "density"]))
        self.scale = int(density[-1]) / 160 if density else 1.0
        rotation = re.search(r"mCurrentOrientation=(\d)", self.shell(["dumpsys", "display"]))
        self.orientation = int(rotation.group(1)) if rotation else 0
        self.width, self.height = (height, width) if self.orientation % 2 else (width, height)

    # -- observe ------------------------------------------------------------------------------------------
    def capture(self, mode: str, *, timeout: float | None = None) -> bytes:
        """One PNG by ``screencap -p`` (``png``) or raw ``screencap`` encoded here (``raw``); not validated."""
        if mode == "png":
            return self.shell(["screencap", "-p"], timeout=timeout, binary=True)
        return ai.png_from_raw(self.shell(["screencap"], timeout=timeout, binary=True))

    def _pick_mode(self, timeout: float | None) -> str:
        times = {}
        for mode in ("png", "raw"):
            start = time.perf_counter()
            try:
                ai.check_frame(self.capture(mode, timeout=timeout), (self.width, self.height))
            except ScreenshotError:
                continue
            times[mode] = time.perf_counter() - start
        return min(times, key=times.__getitem__) if times else "png"

    def screenshot(self, *, timeout: float | None = None) -> tuple[bytes, Any]:
        """(PNG, decoded RGB image) of the screen, validated; read up to 1 + SCREENSHOT_RETRIES times, else
        ScreenshotError."""
        if self.screencap == "auto":
            self.screencap = self._pick_mode(timeout)
        error: ScreenshotError | None = None
        for attempt in range(1 + SCREENSHOT_RETRIES):
            try:
                png = self.capture(self.screencap, timeout=timeout)
                return png, ai.check_frame(png, (self.width, self.height))
            except ScreenshotError as exc:
                error = exc
                if attempt == 0 and "the screen is" in str(exc):
                    self.refresh_size()
        raise ScreenshotError(f"{self.spec}: {1 + SCREENSHOT_RETRIES} bad frames; last: {error}")

    def ui_elements(self, *, timeout: float | None = None) -> tuple:
        """UIElements from ``uiautomator dump`` (written to :data:`UI_DUMP_PATH`, read back over sync)."""
        out = self.shell(["uiautomator", "dump", UI_DUMP_PATH], timeout=timeout)
        if "dumped" not in out:
            raise DeviceError(f"uiautomator dump failed on {self.serial}: {out.strip()}")
        self._check_server()
        try:
            xml = self.adb.sync.read_bytes(UI_DUMP_PATH).decode()
        except Exception as exc:
            raise DeviceDisconnected(f"reading {UI_DUMP_PATH} from {self.serial}: {exc}") from None
        return ai.parse_ui_dump(xml)

    def observe(self, *, timeout: float | None = None, elements: bool | None = None) -> Observation:
        """The screen as a validated PNG; UI elements too when ``elements`` (default: the device's option)."""
        png, image = self.screenshot(timeout=timeout)
        els = self.ui_elements(timeout=timeout) if (self.elements if elements is None else elements) else ()
        obs = Observation(png=png, width=self.width, height=self.height, scale=self.scale, elements=els)
        obs.__dict__["image"] = image  # the validation's decode fills Observation.image's cache
        return obs

    # -- act ----------------------------------------------------------------------------------------------
    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        """Perform ``action`` (device pixels) with one input command; never retried after delivery."""
        if self._closed:
            raise DeviceDisconnected(f"{action.kind}: {self.spec} is closed")
        return run_action(action, (self.width, self.height), lambda a: self._input(a, timeout), tools=self.tools,
                          device=self.spec)

    def _input(self, action: Action, timeout: float | None) -> None:
        self.shell(self._argv(action), timeout=timeout)

    def _argv(self, action: Action) -> list[str]:
        if isinstance(action, Click):
            return ["input", "tap", str(action.x), str(action.y)]
        if isinstance(action, LongPress):
            return ["input", "swipe", *map(str, (action.x, action.y, action.x, action.y)), str(int(action.seconds * 1000))]
        if isinstance(action, Scroll):
            action = scroll_to_swipe(action, self.width, self.height, fraction=SCROLL_FRACTION)
        if isinstance(action, Swipe):
            return ["input", "swipe", *map(str, (action.x, action.y, action.x2, action.y2)), str(int(action.seconds * 1000))]
        if isinstance(action, Type):
            return self._text_argv(action.text)
        if isinstance(action, (Back, Home, Key)):
            return ["input", "keyevent", ai.keycode(action.key if isinstance(action, Key) else action.kind)]
        if isinstance(action, OpenApp):
            package = ai.resolve_label(action.app, self.list_apps())
            return ["monkey", "-p", package, "-c", "android.intent.category.LAUNCHER", "1"]
        raise unsupported(action, self.spec)

    def has_adb_keyboard(self) -> bool:
        if self._ime is None:
            self._ime = ai.ADB_KEYBOARD_IME in self.shell(["ime", "list", "-s"])
        return self._ime

    def _text_argv(self, text: str) -> list[str]:
        if not ai.needs_ime(text):
            return ai.input_text_argv(text)
        if not self.has_adb_keyboard():
            raise ActionError(f"cannot type {text!r} with input text; install and enable ADBKeyboard "
                              "(github.com/senzhk/ADBKeyBoard: adb install ADBKeyboard.apk; "
                              f"adb shell ime enable {ai.ADB_KEYBOARD_IME}; adb shell ime set {ai.ADB_KEYBOARD_IME})")
        return ai.ime_text_argv(text)

    # -- tools --------------------------------------------------------------------------------------------
    def list_apps(self) -> list[str]:
        """Installed package names, sorted."""
        out = self.shell(["pm", "list", "packages"])
        return sorted(line.partition(":")[2].strip() for line in out.splitlines() if line.startswith("package:"))

    def open_url(self, url: str) -> str:
        """Open ``url`` in the default browser (a VIEW intent)."""
        return self.launch_intent(action="android.intent.action.VIEW", data=url)

    def launch_intent(self, action: str, data: str = "", package: str = "") -> str:
        """Start an activity with ``am start -a ACTION [-d DATA] [-p PACKAGE]``; returns am's output."""
        argv = ["am", "start", "-a", action] + (["-d", data] if data else []) + (["-p", package] if package else [])
        out = self.shell(argv)
        if "Error" in out:
            raise ActionError(f"am start failed: {out.strip()}")
        return out.strip()

    # -- lifecycle ----------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None) -> None:
        """Go to the home screen (a phone has no restorable state; ``seed`` is ignored)."""
        self.execute(Home())

    def close(self) -> None:
        self._closed = True

    def __repr__(self) -> str:
        return f"AndroidDevice({self.serial!r}, adb={self.adb_host}:{self.adb_port})"


def _bare(spec: str) -> bool:
    return bool(EMULATOR.match(spec) or HOST_PORT.match(spec))


def discover() -> list[str]:
    """Specs of the devices an already running adb server lists as ``device`` (never starts a server)."""
    port = server_port()
    if not server_running("127.0.0.1", port):
        return []
    import adbutils

    client = adbutils.AdbClient(host="127.0.0.1", port=port, socket_timeout=SERVER_PROBE_TIMEOUT * 4)
    serials = [d.serial for d in client.list() if d.state == "device"]
    return [s if _bare(s) else f"android:{s}" for s in serials]


@register("android", forms=("android:SERIAL", "emulator-5554", "HOST:PORT"), matches=_bare, discover=discover)
def _make_android(arg: str, **options: Any) -> AndroidDevice:
    if not arg:
        raise ConfigError("the android spec needs a serial: android:SERIAL, emulator-5554 or HOST:PORT")
    return AndroidDevice(arg, **options)
