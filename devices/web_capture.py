"""Screenshots of a Playwright page for the web backend: the same pixels as ``page.screenshot(type="png")``,
captured through the page's own CDP session with Chromium's speed-optimised PNG encoder.

Why not ``page.screenshot``: on a 1080x2400 phone it is most of a live step. Part of it is Chromium's
size-optimised PNG encode, part Playwright's preparation round trips (caret hiding, a font wait, layout
metrics, cleanup, each its own trip). :class:`PageCapture` does the same preparation in one page call, asks
``Page.captureScreenshot`` for ``optimizeForSpeed`` (a faster encoder; PNG is lossless, so the decoded pixels
are identical; the file is 1.5-2x bigger and decodes faster), and restores the carets in the call that
collects the elements. What is left is Chromium's own capture (a new frame, its readback, the encode), which
no CDP option makes cheaper without losing pixels. ``python bench/devices.py web sandbox`` measures it against
today's Playwright call sequence, written out there as the baseline.

What is reproduced from Playwright's screenshotter (playwright-core ``server/screenshotter.ts`` and
``chromium/crPage.ts``, 1.65): carets of ``input``, ``textarea`` and ``[contenteditable]`` elements (shadow
roots and child frames included) are made transparent with an ``!important`` inline style while the frame is
taken, and put back after; ``document.fonts.ready`` is awaited; the clip is the visual viewport in document
CSS pixels at the visual viewport's scale (``enclosingIntSize`` of viewport / scale), so scrolled pages and
mobile pages shrunk to fit (visual viewport scale < 1) come out as before.

The CDP session: device metrics are emulated per session, and a capture with a clip temporarily changes and
then restores *its own session's* emulation; a session without the page's emulation would reset the page to
scale 1 after one capture. So the session gets the exact ``Emulation.setDeviceMetricsOverride`` that Playwright
sent for the context (:func:`metrics_override`): the two sessions then agree. The page's viewport must not be
changed afterwards (WebDevice never does).

Timeouts: CDP calls take none, so :meth:`PageCapture.take` first checks that the page answers within
``timeout`` (``wait_for_function``); the preparation, capture and restore then run right after an answering
renderer, as the element query always did.
"""

from __future__ import annotations

import base64
from typing import Any

#: Hide the carets of one document (and its shadow roots), remembering their inline values under a symbol.
_HIDE = r"""
  const key = Symbol.for('cua.caret'), roots = [];
  const collect = (root) => {
    roots.push(root);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    do {
      const node = walker.currentNode;
      if (node instanceof Element && node.shadowRoot) collect(node.shadowRoot);
    } while (walker.nextNode());
  };
  collect(document);
  const saved = new Map();
  for (const root of roots)
    for (const el of root.querySelectorAll('input,textarea,[contenteditable]')) {
      saved.set(el, [el.style.getPropertyValue('caret-color'), el.style.getPropertyPriority('caret-color')]);
      el.style.setProperty('caret-color', 'transparent', 'important');
    }
  window[key] = saved;
"""
#: The main frame: hide carets, wait for fonts, return the visual viewport [pageLeft, pageTop, scale].
PREPARE_JS = "async () => {" + _HIDE + """
  await document.fonts.ready;
  const vv = window.visualViewport;
  return [vv.pageLeft, vv.pageTop, vv.scale];
}"""
#: A child frame: hide its carets.
HIDE_CARETS_JS = "() => {" + _HIDE + "}"
_RESTORE = r"""
  const key = Symbol.for('cua.caret'), saved = window[key];
  delete window[key];
  if (saved) for (const [el, [value, priority]] of saved) el.style.setProperty('caret-color', value, priority);
"""
#: Put the carets of one frame back.
RESTORE_CARETS_JS = "() => {" + _RESTORE + "}"


def metrics_override(viewport: tuple[int, int], scale: float, mobile: bool) -> dict[str, Any]:
    """``Emulation.setDeviceMetricsOverride`` as Playwright sends it for a context (screen = viewport)."""
    width, height = viewport
    if not mobile:
        orientation = {"angle": 0, "type": "landscapePrimary"}
    elif width > height:
        orientation = {"angle": 90, "type": "landscapePrimary"}
    else:
        orientation = {"angle": 0, "type": "portraitPrimary"}
    return {"mobile": mobile, "width": width, "height": height, "screenWidth": width, "screenHeight": height,
            "deviceScaleFactor": scale, "screenOrientation": orientation}


def viewport_clip(viewport: tuple[int, int], page_left: float, page_top: float, zoom: float) -> dict[str, float]:
    """Playwright's clip for a viewport screenshot: the visual viewport in document CSS px at its own scale."""
    return {"x": page_left, "y": page_top, "width": int(viewport[0] / zoom + 1e-3),
            "height": int(viewport[1] / zoom + 1e-3), "scale": zoom}


class PageCapture:
    """Takes PNG screenshots of ``page`` (device pixels, identical to ``page.screenshot(type="png")``).

    ``then`` is an optional JS function of one argument, evaluated in the main frame in the same call that puts
    the carets back; :meth:`take` returns its result beside the PNG (the web backend collects elements there,
    right after the frame, as before). The capture lives as long as the page; build a new one for a new page.
    """

    def __init__(self, page: Any, *, viewport: tuple[int, int], scale: float, mobile: bool,
                 then: str | None = None) -> None:
        self.page = page
        self.viewport = viewport
        self._after = "async (arg) => {" + _RESTORE + (f"return ({then})(arg);" if then else "return null;") + "}"
        self._session = page.context.new_cdp_session(page)
        self._session.send("Emulation.setDeviceMetricsOverride", metrics_override(viewport, scale, mobile))

    def take(self, timeout_ms: float, arg: Any = None) -> tuple[bytes, Any]:
        """(PNG bytes, ``then(arg)``); Playwright errors propagate (a Playwright TimeoutError past ``timeout_ms``)."""
        page = self.page
        page.wait_for_function("true", timeout=timeout_ms, polling=50)
        children = page.frames[1:]
        page_left, page_top, zoom = page.evaluate(PREPARE_JS)
        self._each(children, HIDE_CARETS_JS)
        try:
            shot = self._session.send("Page.captureScreenshot", {
                "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": False,
                "clip": viewport_clip(self.viewport, page_left, page_top, zoom)})
        finally:
            self._each(children, RESTORE_CARETS_JS)
            result = page.evaluate(self._after, arg)
        return base64.b64decode(shot["data"]), result

    @staticmethod
    def _each(frames: list[Any], js: str) -> None:
        """Run ``js`` in each child frame; a frame that went away meanwhile is skipped (as Playwright does)."""
        from playwright.sync_api import Error

        for frame in frames:
            try:
                frame.evaluate(js)
            except Error:
                pass
