"""The web backend: a Chromium page driven through Playwright's sync API (spec ``web:URL``).

Frames: actions and element bounds are in **device pixels** (the screenshot's pixels); Playwright's mouse takes
CSS pixels, so points are divided by ``scale`` (the device scale factor) on the way in. A phone is CSS 360x800
at scale 3, exactly 1080x2400 device pixels.

Timeouts: every call takes ``timeout`` seconds (default :data:`DEFAULT_TIMEOUT`), enforced with Playwright's
own timeout arguments (sync Playwright is bound to its thread, so no watchdog threads). Mouse and keyboard
calls have no timeout argument and would block on a hung renderer, so :meth:`WebDevice.execute` first checks
that the page answers (``wait_for_function`` with the timeout); so does :meth:`WebDevice.observe` before its
CDP capture and element query, which take no timeout (:mod:`cua.devices.web_capture`).
Playwright errors are translated at this edge: timeout -> DeviceTimeout, closed or crashed page or refused
connection -> DeviceDisconnected, anything else -> DeviceError.

Threads: a WebDevice is used from the thread that built it (sync Playwright's rule; other threads get a
DeviceError); for parallel rollouts build one device per thread. Ownership: the Playwright driver and browser
are shared per thread (:mod:`cua.devices.chromium`); each WebDevice owns one browser context and its page,
and ``close()`` (idempotent) releases them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

from cua.actions import Action, Back, Click, Home, Key, LongPress, Scroll, Swipe, Type
from cua.device import ActionResult, ClosesOnExit
from cua.devices.chromium import shared_browser, translate
from cua.devices.keys import PLAYWRIGHT, spell, spellings, text_runs
from cua.devices.prelude import run_action, unsupported
from cua.devices.registry import register
from cua.devices.web_capture import PageCapture
from cua.errors import ActionError, ConfigError, DeviceDisconnected, DeviceError
from cua.observation import Observation, UIElement
from cua.tools import ToolRegistry, ToolSpec

DEFAULT_TIMEOUT = 30.0
DESKTOP_VIEWPORT = (1280, 800)
PHONE_VIEWPORT = (360, 800)
PHONE_SCALE = 3.0
SWIPE_STEPS = 10
SCROLL_FRACTION = 0.5
PAGE_TEXT_LIMIT = 20_000

#: Every accepted key name -> Playwright's name (:mod:`cua.devices.keys`).
KEY_NAMES: dict[str, str] = spellings(PLAYWRIGHT)

#: One evaluate collecting visible elements as rows [text, role, l, t, r, b, id, clickable, editable, checked],
#: bounds in device pixels (CSS px x page scale x device scale, so mobile pages shrunk to fit come out right)
#: clipped to the visual viewport; a JSON string, which Playwright moves faster than nested arrays.
ELEMENTS_JS = r"""(dsf) => {
  const vv = window.visualViewport, zoom = (vv ? vv.scale : 1) * dsf;
  const offX = vv ? vv.offsetLeft : 0, offY = vv ? vv.offsetTop : 0;
  const vw = vv ? vv.width : innerWidth, vh = vv ? vv.height : innerHeight;
  const INTERACTIVE = 'a,button,input,textarea,select,label,[role],[onclick],[tabindex],[contenteditable]';
  const NOT_TEXT = ['button', 'submit', 'reset', 'checkbox', 'radio', 'range', 'color', 'file', 'image', 'hidden'];
  const out = [];
  for (const el of (document.body ? document.body.querySelectorAll('*') : [])) {
    const interactive = el.matches(INTERACTIVE);
    let own = '';
    if (!interactive) {
      for (const c of el.childNodes) if (c.nodeType === 3) own += c.nodeValue;
      own = own.trim();
      if (!own) continue;
    }
    const r = el.getBoundingClientRect();
    const x0 = Math.max(r.left - offX, 0), y0 = Math.max(r.top - offY, 0);
    const x1 = Math.min(r.right - offX, vw), y1 = Math.min(r.bottom - offY, vh);
    if (x1 <= x0 || y1 <= y0) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none' || Number(st.opacity) === 0) continue;
    const tag = el.tagName.toLowerCase(), type = (el.getAttribute('type') || '').toLowerCase();
    let text = el.getAttribute('aria-label') || (interactive ? (el.innerText || '').trim() : own);
    if (!text && el.placeholder) text = el.placeholder;
    if (!text && typeof el.value === 'string' && type !== 'password') text = el.value;
    const editable = el.isContentEditable || tag === 'textarea' || tag === 'select' ||
      (tag === 'input' && !NOT_TEXT.includes(type));
    let checked = null;
    if (tag === 'input' && (type === 'checkbox' || type === 'radio')) checked = el.checked;
    else if (el.hasAttribute('aria-checked')) checked = el.getAttribute('aria-checked') === 'true';
    else if (el.hasAttribute('aria-pressed')) checked = el.getAttribute('aria-pressed') === 'true';
    out.push([text.replace(/\s+/g, ' ').slice(0, 200),
      el.getAttribute('role') || tag,
      Math.round(x0 * zoom), Math.round(y0 * zoom), Math.round(x1 * zoom), Math.round(y1 * zoom),
      el.id || '', (interactive && !editable) || st.cursor === 'pointer', editable, checked,
      type === 'password', el === document.activeElement]);
  }
  return JSON.stringify(out);
}"""


def _element_flags(*, password: bool, focused: bool) -> dict[str, bool]:
    """UIElement.extra markers the safety gate reads (devices/safety.py): password field, keyboard focus."""
    flags = {}
    if password:
        flags["password"] = True
    if focused:
        flags["focused"] = True
    return flags


def elements_from_rows(rows: list[list[Any]]) -> tuple[UIElement, ...]:
    """UIElements from the rows :data:`ELEMENTS_JS` returns (JSON-decoded), in its column order."""
    return tuple(UIElement(text=r[0], role=r[1], bounds=(r[2], r[3], r[4], r[5]), resource_id=r[6],
                           clickable=bool(r[7]), editable=bool(r[8]), checked=r[9],
                           extra=_element_flags(password=r[10], focused=r[11])) for r in rows)


def _ms(seconds: float) -> float:
    return max(1.0, seconds * 1000.0)


def playwright_key(key: str) -> str:
    """Map a canonical lower-case key or chord (``ctrl+a``) to Playwright's name; ActionError if unknown."""
    return "+".join(spell(key, PLAYWRIGHT))


class WebDevice(ClosesOnExit):
    """A web page in headless Chromium as a Device. See the module docstring for frames and timeouts."""

    def __init__(
        self,
        url: str,
        *,
        viewport: tuple[int, int] = DESKTOP_VIEWPORT,
        scale: float = 1.0,
        mobile: bool = False,
        elements: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        spec: str | None = None,
    ) -> None:
        if scale <= 0 or viewport[0] <= 0 or viewport[1] <= 0:
            raise ConfigError(f"viewport {viewport} and scale {scale} must be positive")
        self.spec = spec or f"web:{url}"
        self.start_url = url
        self.viewport = (int(viewport[0]), int(viewport[1]))
        self.scale = float(scale)
        self.mobile = mobile
        self.elements = elements
        self.timeout = timeout
        self.width = round(self.viewport[0] * self.scale)
        self.height = round(self.viewport[1] * self.scale)
        self.tools = ToolRegistry()
        self.tools.add(
            ToolSpec(name="goto", description="Open a URL in the current tab.",
                     parameters={"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}),
            self._tool_goto,
        )
        self.tools.add(
            ToolSpec(name="page_text", description="The visible text of the current page (truncated).",
                     parameters={"type": "object", "properties": {}}),
            self._tool_page_text,
        )
        self._context: Any = None
        self.page: Any = None
        self._capture: PageCapture | None = None
        self._closed = False
        self._thread = threading.get_ident()
        self._tool_timeout = timeout
        self._open_page(timeout)

    @classmethod
    def phone(cls, url: str, **kw: Any) -> "WebDevice":
        """A phone: CSS 360x800 at device scale 3 (exactly 1080x2400 device pixels), touch and mobile on."""
        return cls(url, viewport=PHONE_VIEWPORT, scale=PHONE_SCALE, mobile=True, **kw)

    @classmethod
    def desktop(cls, url: str, **kw: Any) -> "WebDevice":
        """A desktop browser window: 1280x800 at scale 1."""
        return cls(url, viewport=DESKTOP_VIEWPORT, scale=1.0, **kw)

    def _t(self, timeout: float | None) -> float:
        return self.timeout if timeout is None else timeout

    @contextmanager
    def _edge(self, what: str, timeout: float) -> Iterator[None]:
        from playwright.sync_api import Error

        if self._closed:
            raise DeviceDisconnected(f"{what}: {self.spec} is closed")
        if threading.get_ident() != self._thread:
            raise DeviceError(f"{what}: a WebDevice must be used from the thread that created it (sync Playwright)")
        try:
            yield
        except Error as exc:
            raise translate(exc, what, timeout) from None

    def _open_page(self, timeout: float) -> None:
        """A new context and page at ``start_url``; on failure nothing is left open."""
        browser = shared_browser()
        try:
            with self._edge(f"open {self.start_url}", timeout):
                self._context = browser.new_context(
                    viewport={"width": self.viewport[0], "height": self.viewport[1]},
                    device_scale_factor=self.scale, is_mobile=self.mobile, has_touch=self.mobile,
                )
                self._context.set_default_timeout(_ms(timeout))
                self.page = self._context.new_page()
                self._capture = PageCapture(self.page, viewport=self.viewport, scale=self.scale, mobile=self.mobile,
                                            then=ELEMENTS_JS if self.elements else None)
                self.page.goto(self.start_url, timeout=_ms(timeout))
        except BaseException:
            self._close_context()
            raise

    def observe(self, *, timeout: float | None = None) -> Observation:
        """The current screen (PNG, device pixels) plus visible elements; DeviceTimeout past ``timeout``.

        The pixels are those of ``page.screenshot(type="png")``, taken faster (:mod:`cua.devices.web_capture`);
        the elements are collected right after the frame, in the call that ends the capture.
        """
        timeout = self._t(timeout)
        with self._edge("screenshot", timeout):
            if self._capture is None:
                raise DeviceDisconnected(f"screenshot: {self.spec} has no page (a reset failed); reset it again")
            png, found = self._capture.take(_ms(timeout), self.scale)
            rows = json.loads(found) if self.elements else []
            url = self.page.url
        return Observation.from_png(png, scale=self.scale, url=url, elements=elements_from_rows(rows))

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        """Perform ``action`` (device pixels); ActionOutOfBounds before anything reaches the page."""
        timeout = self._t(timeout)
        with self._edge(action.kind, timeout):
            self._tool_timeout = timeout
            return run_action(action, (self.width, self.height), lambda a: self._perform(a, timeout),
                              tools=self.tools, device=self.spec)

    def _responsive(self, timeout: float) -> None:
        self.page.wait_for_function("true", timeout=_ms(timeout), polling=50)

    def _css(self, x: int, y: int) -> tuple[float, float]:
        return x / self.scale, y / self.scale

    def _perform(self, action: Action, timeout: float) -> Any:
        page = self.page
        if isinstance(action, (Click, LongPress, Swipe, Scroll, Type, Key)):
            self._responsive(timeout)
        if isinstance(action, Click):
            page.mouse.click(*self._css(action.x, action.y))
        elif isinstance(action, LongPress):
            page.mouse.move(*self._css(action.x, action.y))
            page.mouse.down()
            time.sleep(action.seconds)
            page.mouse.up()
        elif isinstance(action, Swipe):
            self._swipe(action)
        elif isinstance(action, Scroll):
            self._scroll(action)
        elif isinstance(action, Type):
            self._type(action.text)
        elif isinstance(action, Key):
            page.keyboard.press(playwright_key(action.key))
        elif isinstance(action, Back):
            page.go_back(wait_until="commit", timeout=_ms(timeout))
        elif isinstance(action, Home):
            page.goto(self.start_url, timeout=_ms(timeout))
        else:
            raise unsupported(action, self.spec, "open another page with tool_call goto")
        return None

    def _type(self, text: str) -> None:
        """ASCII through key events (pages see keydown/keyup); other runs inserted as text (IME-like)."""
        for ascii_run, run in text_runs(text):
            if ascii_run:
                self.page.keyboard.type(run)
            else:
                self.page.keyboard.insert_text(run)

    def _swipe(self, action: Swipe) -> None:
        mouse = self.page.mouse
        x0, y0 = self._css(action.x, action.y)
        x1, y1 = self._css(action.x2, action.y2)
        mouse.move(x0, y0)
        mouse.down()
        for i in range(1, SWIPE_STEPS + 1):
            f = i / SWIPE_STEPS
            mouse.move(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)
            time.sleep(action.seconds / SWIPE_STEPS)
        mouse.up()

    def _scroll(self, action: Scroll) -> None:
        if action.x is None:
            cx, cy = self.viewport[0] / 2, self.viewport[1] / 2
        else:
            cx, cy = self._css(action.x, action.y)  # type: ignore[arg-type]
        dx = self.viewport[0] * SCROLL_FRACTION
        dy = self.viewport[1] * SCROLL_FRACTION
        delta = {"down": (0, dy), "up": (0, -dy), "right": (dx, 0), "left": (-dx, 0)}[action.direction]
        self.page.mouse.move(cx, cy)
        self.page.mouse.wheel(*delta)

    def _tool_goto(self, url: str) -> str:
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise ActionError(f"goto takes an http(s) URL, got {url!r}")
        self.page.goto(url, timeout=_ms(self._tool_timeout))
        return self.page.url

    def _tool_page_text(self) -> str:
        text = self.page.locator("body").inner_text(timeout=_ms(self._tool_timeout))
        return text[:PAGE_TEXT_LIMIT]

    def reset(self, *, seed: int | None = None) -> None:
        """Fresh browser context (no cookies, storage or history) at ``start_url``; ``seed`` is unused."""
        if self._closed:
            raise DeviceDisconnected(f"reset: {self.spec} is closed")
        self._close_context()
        self._open_page(self.timeout)

    def _close_context(self) -> None:
        context, self._context, self.page, self._capture = self._context, None, None, None
        if context is not None:
            try:
                context.close()
            except Exception:  # the browser already went away; nothing left to release
                pass

    def close(self) -> None:
        """Release this device's context and page (idempotent); the shared browser stays up."""
        if not self._closed:
            self._closed = True
            self._close_context()

    def __repr__(self) -> str:
        return f"WebDevice({self.start_url!r}, {self.width}x{self.height}, scale={self.scale:g})"


def parse_viewport(value: str) -> dict[str, Any]:
    """``desktop`` | ``phone`` | ``WxH`` | ``WxH@S`` (CSS pixels, scale) -> WebDevice keyword arguments."""
    if value == "desktop":
        return {"viewport": DESKTOP_VIEWPORT, "scale": 1.0}
    if value == "phone":
        return {"viewport": PHONE_VIEWPORT, "scale": PHONE_SCALE, "mobile": True}
    match = re.fullmatch(r"(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?", value)
    if not match:
        raise ConfigError(f"bad viewport {value!r}; use desktop, phone, WxH or WxH@SCALE (e.g. 360x800@3)")
    return {"viewport": (int(match[1]), int(match[2])), "scale": float(match[3] or 1.0)}


SPEC_OPTIONS = ("viewport", "elements", "timeout")


@register("web", forms=("web:URL",))
def _make_web(arg: str, *, viewport: str = "desktop", **options: Any) -> WebDevice:
    if not re.match(r"^(https?|file|about|data):", arg):
        raise ConfigError(f"web:URL needs a full URL (http://, https://, file://), got {arg!r}")
    unknown = sorted(set(options) - set(SPEC_OPTIONS))
    if unknown:
        raise ConfigError(f"web device does not take {unknown}; options: {', '.join(SPEC_OPTIONS)}")
    return WebDevice(arg, spec=f"web:{arg}", **parse_viewport(viewport), **options)
