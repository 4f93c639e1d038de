"""The sandbox phone shown through another backend: specs ``sandbox+web`` and ``sandbox+desktop[:DISPLAY]``.

:class:`ComposedSandbox` is one composition: a :class:`~cua.devices.sandbox.world.SandboxWorld` (state and
server on 127.0.0.1), a *screen* device of a real backend that shows the world's app and takes the screen
actions (click, long press, swipe, scroll, type, key), and the Playwright page of the browser showing the app.
The page gives what the sandbox tasks need beyond the screen, as on the ``sandbox`` device
(:class:`~cua.devices.sandbox.device.SandboxPhoneBase`): ``navigate`` (task set-up), the phone's system
actions (OpenApp, Home, Back navigate inside the app, as Android's system UI does), the URL (the experts read
the route from it) and, where the screen has none, UI elements. ``world`` is what the checkers read.

- ``sandbox+web``: the screen is a :class:`~cua.devices.web.WebDevice` phone (headless Chromium through
  Playwright, CSS 360x800 at scale 3); its own observation carries elements and URL.
- ``sandbox+desktop``: the screen is a :class:`~cua.devices.desktop.DesktopDevice` (pyautogui input, mss
  frames) on a private 1080x2400 Xvfb started for the device (:mod:`cua.devices.xvfb`);
  ``sandbox+desktop:DISPLAY`` uses a running X display instead, which must be 1080x2400. Chromium runs there
  as a kiosk window at device scale factor 3 with a loopback remote-debugging port, and Playwright attaches
  over CDP (``connect_over_cdp``) to fix the page's layout at CSS 360x800 (:func:`_phone_metrics`), read
  elements (the web backend's :data:`~cua.devices.web.ELEMENTS_JS`) and navigate. Input reaches the page through X (XTest), so after each screen action the device waits
  ``settle`` seconds (default :data:`DESKTOP_SETTLE`) and, before each frame, for two animation frames of the
  page, so the grab shows what the elements describe.

Coordinates are device pixels = screenshot pixels, 1080x2400 on both, which is what the sandbox experts
(``--policy oracle``) assume. Ownership: ``close()`` (idempotent) closes the screen device, the browser it
started (and the Xvfb), then the world's server.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

from cua.actions import Action
from cua.device import Device
from cua.devices.chromium import chromium_path, shared_playwright, translate
from cua.devices.registry import register
from cua.devices.sandbox.device import DEFAULT_TIMEOUT, HOME_ROUTE, SandboxPhoneBase, app_of, route_of
from cua.devices.sandbox.world import SandboxWorld
from cua.devices.web import ELEMENTS_JS, elements_from_rows
from cua.errors import ConfigError, DeviceDisconnected, DeviceTimeout
from cua.observation import Observation

WIDTH, HEIGHT, SCALE = 1080, 2400, 3.0
#: Seconds a desktop screen action is given to reach the page through X before the next frame.
DESKTOP_SETTLE = 0.15
CDP_TIMEOUT = 20.0
#: Resolves after two animation frames: the page has drawn everything it changed before the call.
PAINTED_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


class ComposedSandbox(SandboxPhoneBase):
    """A SandboxWorld + a screen device showing its app + the app's Playwright page (module docstring)."""

    def __init__(self, spec: str, world: SandboxWorld, screen: Device, page: Callable[[], Any], *,
                 owned: ExitStack, read_elements: bool, settle: float = 0.0,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.spec, self.world, self.screen, self.timeout = spec, world, screen, timeout
        self._page, self._owned = page, owned
        self.read_elements, self.settle = read_elements, settle
        self.width, self.height, self.scale = WIDTH, HEIGHT, SCALE
        self.tools = self._phone_tools()
        self._closed = False
        self._loads = 0

    @property
    def page(self) -> Any:
        return self._page()

    def observe(self, *, timeout: float | None = None) -> Observation:
        """The screen's frame (1080x2400) with the app's elements and URL; ``app`` names the app shown."""
        if self._closed:
            raise DeviceDisconnected(f"screenshot: {self.spec} is closed")
        if not self.read_elements:
            obs = self.screen.observe(timeout=timeout)
            return dataclasses.replace(obs, app=app_of(route_of(obs.url)) if self._in_sandbox(obs.url) else None)
        self._page_call(lambda p: p.evaluate(PAINTED_JS), "wait for paint", timeout)
        obs = self.screen.observe(timeout=timeout)
        rows, url = self._page_call(lambda p: (json.loads(p.evaluate(ELEMENTS_JS, SCALE)), p.url),
                                    "read elements", timeout)
        return dataclasses.replace(obs, scale=SCALE, elements=elements_from_rows(rows), url=url,
                                   app=app_of(route_of(url)) if self._in_sandbox(url) else None)

    def _screen_action(self, action: Action, timeout: float | None) -> Any:
        output = self.screen.execute(action, timeout=timeout).output
        if self.settle:
            time.sleep(self.settle)
        return output

    def _page_call(self, fn: Callable[[Any], Any], what: str, timeout: float | None) -> Any:
        from playwright.sync_api import Error

        try:
            return fn(self.page)
        except Error as exc:
            raise translate(exc, what, self.timeout if timeout is None else timeout) from None

    def reset(self, *, seed: int | None = None) -> None:
        """Restore the data of ``seed`` (default: the last seed) and reload the app on its home screen."""
        if self._closed:
            raise DeviceDisconnected(f"reset: {self.spec} is closed")
        self.world.reset(seed)
        self._loads += 1
        self._reload_home(self._loads)

    def _close_screen(self) -> None:
        """The screen device and what it needs (browser, Xvfb); the world closes after it."""
        self._owned.close()

    def __repr__(self) -> str:
        return f"ComposedSandbox({self.spec!r}, {self.world.url!r}, seed={self.world.seed})"


def on_web(world: SandboxWorld, *, timeout: float = DEFAULT_TIMEOUT, elements: bool = True) -> ComposedSandbox:
    """The world's app on a WebDevice phone (spec ``sandbox+web``)."""
    from cua.devices.web import WebDevice

    spec = "sandbox+web"
    owned = ExitStack()
    web = WebDevice.phone(world.url + "#" + HOME_ROUTE, elements=elements, timeout=timeout, spec=spec)
    owned.callback(web.close)
    return ComposedSandbox(spec, world, web, lambda: web.page, owned=owned, read_elements=False, timeout=timeout)


def kiosk_argv(url: str, profile: Path) -> list[str]:
    """Chromium as a kiosk window at the screen's top-left corner at device scale 3, CDP on a loopback port.

    The window size is in DIPs (CSS px at scale 3); the page's layout is fixed by :func:`_phone_metrics`."""
    return [chromium_path(), "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--noerrdialogs", "--disable-infobars",
            "--disable-session-crashed-bubble", "--password-store=basic", "--disable-dev-shm-usage",
            "--disable-features=Translate,MediaRouter", f"--user-data-dir={profile}",
            f"--force-device-scale-factor={SCALE:g}", "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1", "--window-position=0,0",
            f"--window-size={round(WIDTH / SCALE)},{round(HEIGHT / SCALE)}", "--kiosk", url]


def _cdp_port(profile: Path, timeout: float) -> int:
    """The port Chromium chose, from the ``DevToolsActivePort`` file it writes into its profile."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while not marker.exists() or not marker.read_text().strip():
        if time.monotonic() > deadline:
            raise DeviceTimeout(f"Chromium opened no remote-debugging port within {timeout} s")
        time.sleep(0.05)
    return int(marker.read_text().split()[0])


def on_desktop(world: SandboxWorld, display: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
               settle: float = DESKTOP_SETTLE) -> ComposedSandbox:
    """The world's app in a Chromium window on an X display (a private Xvfb when ``display`` is None)."""
    from playwright.sync_api import Error

    from cua.devices.desktop import DesktopDevice
    from cua.devices.xvfb import Xvfb

    with ExitStack() as owned:
        if display is None:
            display = owned.enter_context(Xvfb(WIDTH, HEIGHT)).display
            spec = "sandbox+desktop"
        else:
            spec = f"sandbox+desktop:{display.lstrip(':')}"
        profile = Path(owned.enter_context(tempfile.TemporaryDirectory(prefix="cua-sandbox-",
                                                                      ignore_cleanup_errors=True)))
        desktop = owned.enter_context(DesktopDevice(display, start=kiosk_argv(world.url + "#" + HOME_ROUTE, profile),
                                                    timeout=min(timeout, 10.0)))
        if desktop.size != (WIDTH, HEIGHT):
            raise ConfigError(f"X display {desktop.display} is {desktop.size[0]}x{desktop.size[1]}; the sandbox "
                              f"phone needs {WIDTH}x{HEIGHT} (Xvfb {desktop.display} -screen 0 {WIDTH}x{HEIGHT}x24, "
                              f"or spec sandbox+desktop for a private one)")
        desktop.reset()  # launches the kiosk window; reset() of the composition only reloads the page
        try:
            browser = shared_playwright().chromium.connect_over_cdp(
                f"http://127.0.0.1:{_cdp_port(profile, CDP_TIMEOUT)}", timeout=CDP_TIMEOUT * 1000)
            owned.callback(_quietly, browser.close)  # runs before the desktop closes (terminates Chromium)
            page = browser.contexts[0].pages[0]
            metrics = _phone_metrics(page)
            owned.callback(_quietly, metrics.detach)  # the override lasts while this session is attached
            page.wait_for_function("() => typeof window.sandboxGo === 'function'", timeout=timeout * 1000)
        except Error as exc:
            raise translate(exc, f"attach to Chromium on {display}", CDP_TIMEOUT) from None
        device = ComposedSandbox(spec, world, desktop, lambda: page, owned=owned.pop_all(), read_elements=True,
                                 settle=settle, timeout=timeout)
    return device


def _phone_metrics(page: Any) -> Any:
    """Lay the page out as the phone (CSS 360x800 at scale 3) whatever the window's size: Chromium keeps X
    windows at least 500 DIPs wide, and without a window manager the kiosk window is not made full-screen.
    The page is drawn from the window's top-left corner, which is the screen's (``--window-position=0,0``)."""
    session = page.context.new_cdp_session(page)
    session.send("Emulation.setDeviceMetricsOverride", {"width": round(WIDTH / SCALE), "height": round(HEIGHT / SCALE),
                                                        "deviceScaleFactor": SCALE, "mobile": False})
    return session


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # the browser is already gone; nothing left to release
        pass


def _composed(spec: str, build: Callable[..., ComposedSandbox], allowed: tuple[str, ...], seed: int,
              options: dict[str, Any]) -> ComposedSandbox:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"the {spec} device does not take {unknown}; options: {', '.join(allowed)}")
    world = SandboxWorld(seed)
    try:
        return build(world, **options)
    except BaseException:
        world.close()
        raise


@register("sandbox+web", forms=("sandbox+web",))
def _make_on_web(arg: str, *, seed: int = 0, **options: Any) -> ComposedSandbox:
    if arg:
        raise ConfigError(f"the sandbox+web spec takes no argument, got 'sandbox+web:{arg}'")
    return _composed("sandbox+web", on_web, ("timeout", "elements"), seed, options)


@register("sandbox+desktop", forms=("sandbox+desktop", "sandbox+desktop:DISPLAY"))
def _make_on_desktop(arg: str, *, seed: int = 0, **options: Any) -> ComposedSandbox:
    return _composed("sandbox+desktop", lambda world, **kw: on_desktop(world, arg or None, **kw),
                     ("timeout", "settle"), seed, options)
