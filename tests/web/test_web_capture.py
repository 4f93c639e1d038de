"""WebDevice.observe's capture (cua.devices.web_capture) against Playwright's ``page.screenshot(type="png")``, the
path it replaced: the decoded pixels must be the same array on every kind of page, and the page must be left
as it was (carets, emulated scale). A hung page's observe timing out is in the contract suite."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from cua.devices.web import WebDevice
from cua.devices.web_capture import viewport_clip

HEAD = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width, initial-scale=1'>"
FORM = HEAD + """<style>body{margin:0;font:24px sans-serif} li{height:44px;background:linear-gradient(90deg,#fd0,#08f)}
input,textarea{font-size:30px;margin:8px}</style>
<input id=f value='typed text' autofocus><textarea id=t>two\nlines</textarea><div id=e contenteditable>edit me</div>
<ul>""" + "".join(f"<li>row {i}</li>" for i in range(80)) + "</ul>"
SHADOW = HEAD + """<div id=host></div><script>
const root = host.attachShadow({mode: 'open'});
root.innerHTML = "<input id=s style='font-size:30px' value='in a shadow root'>";
root.getElementById('s').focus();</script>"""
WIDE = "<style>body{margin:0;width:1440px}</style><input id=f style='margin-left:700px;font-size:60px' value=wide>"


def playwright_pixels(device: WebDevice) -> np.ndarray:
    """What observe returned before this capture: Playwright's screenshot, decoded as Observation.image does."""
    return np.asarray(Image.open(io.BytesIO(device.page.screenshot(type="png"))).convert("RGB"))


def assert_same_pixels(device: WebDevice, shots: int = 4) -> None:
    """observe() and Playwright's screenshot agree over ``shots`` frames spread over a caret blink (~1 s)."""
    for _ in range(shots):
        obs = device.observe()
        expected = playwright_pixels(device)
        assert np.asarray(obs.image).shape == expected.shape == (device.height, device.width, 3)
        assert np.array_equal(np.asarray(obs.image), expected)
        time.sleep(0.3)


def test_focused_input_caret_is_hidden_as_playwright_hides_it(serve_html) -> None:
    with WebDevice.phone(serve_html("form.html", FORM)) as device:
        device.page.focus("#f")
        assert_same_pixels(device)
        hidden = np.asarray(device.observe().image)
        shown = 0
        for _ in range(8):
            with_caret = device.page.screenshot(type="png", caret="initial")
            shown += not np.array_equal(hidden, np.asarray(Image.open(io.BytesIO(with_caret)).convert("RGB")))
            time.sleep(0.13)
        assert shown, "the caret blinks on screen, so this page does test caret hiding"


@pytest.mark.parametrize("focus", ["#t", "#e"])
def test_textarea_and_contenteditable_carets(serve_html, focus: str) -> None:
    with WebDevice.phone(serve_html("form.html", FORM)) as device:
        device.page.click(focus)
        assert_same_pixels(device, shots=3)


def test_scrolled_pages_at_fractional_offsets_phone_and_desktop(serve_html) -> None:
    url = serve_html("form.html", FORM)
    with WebDevice.phone(url) as phone, WebDevice.desktop(url) as desktop:
        for device in (phone, desktop):
            device.page.evaluate("window.scrollTo(0, 333.67)")
            assert device.page.evaluate("scrollY") > 300
            assert_same_pixels(device, shots=2)


def test_mobile_page_shrunk_to_fit_keeps_its_scale(serve_html) -> None:
    with WebDevice.phone(serve_html("wide.html", WIDE)) as device:
        device.page.focus("#f")
        assert device.page.evaluate("visualViewport.scale") == 0.25
        assert_same_pixels(device, shots=2)


def test_shadow_root_and_child_frame_carets(serve_html) -> None:
    inner = serve_html("inner.html", HEAD + "<input id=i style='font-size:40px' value='in a frame'>")
    outer = serve_html("outer.html", HEAD + f"<iframe id=fr src='{inner}' style='width:340px;height:200px'></iframe>")
    with WebDevice.phone(serve_html("shadow.html", SHADOW)) as device:
        assert_same_pixels(device, shots=3)
    with WebDevice.phone(outer) as device:
        device.page.frame_locator("#fr").locator("#i").focus()
        assert len(device.page.frames) == 2
        assert_same_pixels(device, shots=3)


def test_page_is_left_as_it_was(serve_html) -> None:
    page = HEAD + "<input id=a style='caret-color: red !important'><input id=b autofocus>"
    with WebDevice.phone(serve_html("carets.html", page)) as device:
        for _ in range(3):
            device.observe()
        styles = device.page.evaluate("[a.style.cssText, b.style.cssText, Object.getOwnPropertySymbols(window).length]")
        assert styles == ["caret-color: red !important;", "", 0]
        assert device.page.evaluate("[devicePixelRatio, innerWidth, innerHeight]") == [3, 360, 800]


def test_reset_gives_a_working_capture_on_the_new_page(serve_html) -> None:
    with WebDevice.phone(serve_html("form.html", FORM)) as device:
        device.observe()
        device.reset()
        device.page.focus("#f")
        assert_same_pixels(device, shots=2)
        assert len(device.observe().elements) > 10


@pytest.mark.parametrize(("viewport", "scale", "mobile"), [((800, 360), 3.0, True), ((640, 400), 2.0, False)])
def test_landscape_phone_and_scaled_desktop(serve_html, viewport, scale, mobile) -> None:
    with WebDevice(serve_html("form.html", FORM), viewport=viewport, scale=scale, mobile=mobile) as device:
        device.page.focus("#f")
        assert_same_pixels(device, shots=2)
        assert device.page.evaluate("[devicePixelRatio, innerWidth, innerHeight]") == [scale, *viewport]


def test_viewport_clip_is_playwrights_enclosing_size() -> None:
    assert viewport_clip((360, 800), 0, 333.6667, 1) == {"x": 0, "y": 333.6667, "width": 360, "height": 800,
                                                         "scale": 1}
    assert viewport_clip((360, 800), 0, 0, 0.25) == {"x": 0, "y": 0, "width": 1440, "height": 3200, "scale": 0.25}
    assert viewport_clip((360, 800), 0, 0, 1 / 3)["width"] == 1080
