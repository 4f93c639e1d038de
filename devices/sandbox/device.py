"""SandboxDevice (spec ``sandbox``): the sandbox phone app in a 1080x2400 WebDevice, with its SandboxWorld.

Observe and the screen actions (click, long press, swipe, scroll, type, key, wait) go to the WebDevice
(:mod:`cua.devices.web`: device pixels, CSS 360x800 at scale 3). The phone's system actions are handled here,
as Android does: ``OpenApp`` opens an app by name (case-insensitive; unknown names raise ActionError listing
the apps), ``Home`` shows the home screen, ``Back`` goes one screen back (a no-op on the home screen). They
navigate inside the page synchronously, so the new screen is drawn when ``execute`` returns.
``ToolCall`` dispatches through :attr:`tools` (``list_apps``, ``search_contacts``). ``reset(seed)`` restores
the world's data for ``seed`` and reloads the app on its home screen (a full page load: the app keeps no state
of its own, and Back never leaves the home screen, so older history entries are unreachable); when
:attr:`start_url` was pointed elsewhere (the contract suite) it opens that page in a fresh browser context.
The observation's ``app`` names the app on screen (``Home`` on the home screen).

Ownership: the device owns its world (server) and its WebDevice; ``close()`` (idempotent) stops both.
The system actions, ``navigate``, the tools and ``close`` live in :class:`SandboxPhoneBase`, which the composed
specs (``sandbox+web``, ``sandbox+desktop``: :mod:`cua.devices.sandbox.composed`) share.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import unquote, urlparse

from cua.actions import Action, Back, Home, OpenApp
from cua.device import ActionResult, ClosesOnExit
from cua.devices.chromium import translate
from cua.devices.prelude import run_action
from cua.devices.registry import register
from cua.devices.sandbox.world import SandboxWorld
from cua.errors import ActionError, ConfigError, DeviceDisconnected
from cua.observation import Observation
from cua.tools import ToolRegistry

DEFAULT_TIMEOUT = 30.0
#: App name -> route, in home-screen order (the names the home screen shows).
APPS: dict[str, str] = {"Messages": "/messages", "Contacts": "/contacts", "Settings": "/settings",
                        "Notes": "/notes", "Gallery": "/gallery"}
HOME_ROUTE = "/home"


def route_of(url: str | None) -> str:
    """The sandbox route in ``url``'s fragment (``/messages/c3``); ``/home`` when there is none."""
    fragment = unquote(urlparse(url or "").fragment)
    return fragment or HOME_ROUTE


def app_of(route: str) -> str:
    """The app a route belongs to (``Home`` for the home screen and unknown routes)."""
    head = "/" + route.strip("/").split("/")[0]
    return next((name for name, r in APPS.items() if r == head), "Home")


class SandboxPhoneBase(ClosesOnExit):
    """What every device showing the sandbox app shares (``sandbox`` and the composed specs of
    :mod:`cua.devices.sandbox.composed`): ``execute`` with the phone's system actions (OpenApp / Home / Back
    navigate inside the app's page, as Android's system UI does), ``navigate`` (task set-up), the ``list_apps`` /
    ``search_contacts`` tools, ``close``. A subclass sets ``world``, ``page`` (the Playwright page showing the
    app), ``timeout``, ``spec``, ``width``/``height``, ``tools`` (:meth:`_phone_tools`) and ``_closed``, and
    writes :meth:`_screen_action` (the other actions) and :meth:`_close_screen`."""

    #: A simulation: nothing it does reaches a real system (the safety gate opens its apps without asking).
    simulated = True
    world: SandboxWorld
    timeout: float
    spec: str
    width: int
    height: int
    tools: ToolRegistry
    _closed: bool

    @property
    def page(self) -> Any:
        raise NotImplementedError

    def list_apps(self) -> list[str]:
        """The apps installed on the phone, as ``open_app`` accepts them."""
        return list(APPS)

    def search_contacts(self, query: str) -> list[dict[str, str]]:
        """Contacts whose name, phone or email contains ``query`` (case-insensitive), sorted by name.

        Args:
            query: text to look for, e.g. a first name or part of a phone number.
        """
        needle = query.casefold().strip()
        found = [c for c in self.world.snapshot()["contacts"]
                 if any(needle in c[k].casefold() for k in ("name", "phone", "email"))]
        return [{"name": c["name"], "phone": c["phone"], "email": c["email"]}
                for c in sorted(found, key=lambda c: c["name"])]

    def _phone_tools(self) -> ToolRegistry:
        tools = ToolRegistry()
        tools.add_function(self.list_apps)
        tools.add_function(self.search_contacts)
        return tools

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        """Perform ``action`` (device pixels): system actions in the app's page, others on the screen."""
        if self._closed:
            raise DeviceDisconnected(f"{action.kind}: {self.spec} is closed")
        return run_action(action, (self.width, self.height), lambda a: self._perform(a, timeout),
                          tools=self.tools, device=self.spec)

    def _perform(self, action: Action, timeout: float | None) -> Any:
        if isinstance(action, OpenApp):
            self.navigate(self._app_route(action.app), timeout=timeout)
        elif isinstance(action, Home):
            self.navigate(HOME_ROUTE, timeout=timeout)
        elif isinstance(action, Back):
            self._back(timeout)
        else:
            return self._screen_action(action, timeout)
        return None

    def _screen_action(self, action: Action, timeout: float | None) -> Any:
        """Perform a screen action (click, long press, swipe, scroll, type, key); return its output."""
        raise NotImplementedError

    def _close_screen(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Close the screen, then stop the world's server (idempotent)."""
        if not self._closed:
            self._closed = True
            try:
                self._close_screen()
            finally:
                self.world.close()

    def _app_route(self, name: str) -> str:
        wanted = name.strip().casefold()
        for app, route in APPS.items():
            if app.casefold() == wanted:
                return route
        raise ActionError(f"no app named {name!r} on the sandbox phone; apps: {', '.join(APPS)}")

    def _in_sandbox(self, url: str | None) -> bool:
        return (url or "").startswith(self.world.url)

    def _ready(self, timeout: float) -> None:
        self.page.wait_for_function("() => typeof window.sandboxGo === 'function'", timeout=timeout * 1000)

    def navigate(self, route: str, *, timeout: float | None = None) -> None:
        """Show ``route`` (e.g. ``/notes``) as a new screen on the back stack (the app draws it at once)."""
        from playwright.sync_api import Error

        timeout = self.timeout if timeout is None else timeout
        try:
            if not self._in_sandbox(self.page.url):
                self.page.goto(self.world.url + "#" + route, timeout=timeout * 1000)
                return
            self._ready(timeout)
            self.page.evaluate("r => window.sandboxGo(r)", route)
        except Error as exc:
            raise translate(exc, f"open {route}", timeout) from None

    def _back(self, timeout: float | None) -> None:
        from playwright.sync_api import Error

        timeout = self.timeout if timeout is None else timeout
        try:
            if not self._in_sandbox(self.page.url):
                self.page.go_back(wait_until="commit", timeout=timeout * 1000)
                return
            self._ready(timeout)
            self.page.evaluate("() => window.sandboxBack()")
        except Error as exc:
            raise translate(exc, "back", timeout) from None

    def _reload_home(self, load: int) -> None:
        """A full page load of the app on its home screen (``load`` makes the URL new, so it is not cached)."""
        from playwright.sync_api import Error

        try:
            self.page.goto(f"{self.world.url}?load={load}#{HOME_ROUTE}", timeout=self.timeout * 1000)
        except Error as exc:
            raise translate(exc, "reset", self.timeout) from None


class SandboxDevice(SandboxPhoneBase):
    """The sandbox phone. ``world`` holds the state checkers read; ``page`` is the Playwright page."""

    def __init__(self, *, seed: int = 0, elements: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        from cua.devices.web import WebDevice

        self.spec = "sandbox"
        self.timeout = timeout
        self.world = SandboxWorld(seed)
        self.home_url = self.world.url + "#" + HOME_ROUTE
        self.start_url = self.home_url
        try:
            self.web = WebDevice.phone(self.home_url, elements=elements, timeout=timeout, spec=self.spec)
        except BaseException:
            self.world.close()
            raise
        self.width, self.height, self.scale = self.web.width, self.web.height, self.web.scale
        self.tools = self._phone_tools()
        self._closed = False
        self._loads = 0

    @property
    def page(self) -> Any:
        return self.web.page

    def observe(self, *, timeout: float | None = None) -> Observation:
        """The screen (1080x2400 PNG) with its elements; ``app`` names the app shown."""
        obs = self.web.observe(timeout=timeout)
        return dataclasses.replace(obs, app=app_of(route_of(obs.url)) if self._in_sandbox(obs.url) else None)

    def _screen_action(self, action: Action, timeout: float | None) -> Any:
        return self.web.execute(action, timeout=timeout).output

    def reset(self, *, seed: int | None = None) -> None:
        """Restore the data of ``seed`` (default: the last seed) and reload the app on its home screen."""
        if self._closed:
            raise DeviceDisconnected(f"reset: {self.spec} is closed")
        self.world.reset(seed)
        if self.start_url != self.home_url:
            self.web.start_url = self.start_url
            self.web.reset()
            return
        self._loads += 1
        self._reload_home(self._loads)

    def _close_screen(self) -> None:
        self.web.close()

    def __repr__(self) -> str:
        return f"SandboxDevice({self.world.url!r}, seed={self.world.seed})"


@register("sandbox", forms=("sandbox",))
def _make_sandbox(arg: str, *, seed: int = 0, **options: Any) -> SandboxDevice:
    if arg:
        raise ConfigError(f"the sandbox spec takes no argument, got 'sandbox:{arg}'; use 'sandbox'")
    return SandboxDevice(seed=seed, **options)
