"""SandboxDevice on real Chromium: pixel determinism, system actions, and the gestures the apps rely on."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cua.actions import Back, Click, Home, LongPress, OpenApp, Scroll, Swipe, ToolCall, Type
from cua.devices.registry import make_device
from cua.devices.sandbox import APPS, SandboxDevice
from cua.devices.sandbox.tasks.base import CONTENT_TOP, by_id, find, route, tap
from cua.errors import ActionError, ActionOutOfBounds, ConfigError, DeviceError, DeviceTimeout

TRICKY_TEXT = "it's \"ok\" $5; ünïcødé ✓"


def pixels(device: SandboxDevice) -> np.ndarray:
    return np.asarray(device.observe().image)


def screens(device: SandboxDevice, seed: int) -> list[np.ndarray]:
    device.reset(seed=seed)
    shots = [pixels(device)]
    for app in ("Contacts", "Messages", "Settings"):
        device.execute(OpenApp(app=app))
        shots.append(pixels(device))
    return shots


def test_same_seed_same_pixels_on_two_fresh_devices_and_after_reset(phone: SandboxDevice) -> None:
    with SandboxDevice(seed=3) as a, SandboxDevice(seed=3) as b:
        first, second = screens(a, 3), screens(b, 3)
        again = screens(a, 3)
    assert first[0].shape == (2400, 1080, 3)
    for x, y, z in zip(first, second, again):
        assert np.array_equal(x, y) and np.array_equal(x, z)
    other = screens(phone, 4)
    assert np.array_equal(first[0], other[0]), "the home screen holds no seeded data"
    assert not np.array_equal(first[1], other[1]), "seeds 3 and 4 show the same contacts"


def test_observe_shows_the_pixels_of_playwrights_screenshot(fresh: SandboxDevice) -> None:
    """observe's faster capture (cua.devices.web_capture) against the path it replaced, screen by screen,
    including a message field with the keyboard focus (its caret hidden, as Playwright hides it)."""
    contact_id = fresh.world.state["conversations"][0]["contact_id"]
    fresh.navigate(f"/messages/{contact_id}")
    fresh.execute(tap(by_id(fresh.observe(), "msg")))
    fresh.execute(Type(text="hello"))
    checked = []
    for step in (None, OpenApp(app="Contacts"), OpenApp(app="Gallery"), OpenApp(app="Settings"), Home()):
        if step is not None:
            fresh.execute(step)
        before = np.asarray(Image.open(io.BytesIO(fresh.page.screenshot(type="png"))).convert("RGB"))
        assert np.array_equal(pixels(fresh), before)
        checked.append(fresh.observe().app)
    assert checked == ["Messages", "Contacts", "Gallery", "Settings", "Home"]


def test_different_seeds_different_data(phone: SandboxDevice) -> None:
    phone.reset(seed=1)
    one = phone.world.snapshot()
    phone.reset(seed=2)
    assert phone.world.snapshot()["contacts"] != one["contacts"]


def test_open_app_is_case_insensitive_and_unknown_lists_apps(fresh: SandboxDevice) -> None:
    fresh.execute(OpenApp(app="nOtEs"))
    obs = fresh.observe()
    assert obs.app == "Notes" and route(obs) == "/notes" and fresh.world.state["route"] == "/notes"
    with pytest.raises(ActionError) as err:
        fresh.execute(OpenApp(app="Camera"))
    assert all(name in str(err.value) for name in APPS)


def test_back_walks_the_screens_and_is_a_no_op_on_home(fresh: SandboxDevice) -> None:
    home = pixels(fresh)
    fresh.execute(Back())
    assert np.array_equal(pixels(fresh), home) and fresh.world.state["route"] == "/home"
    fresh.execute(OpenApp(app="Messages"))
    obs = fresh.observe()
    fresh.execute(tap(next(e for e in obs.elements if e.role == "span" and e.bounds[1] >= CONTENT_TOP)))
    assert fresh.world.state["route"].startswith("/messages/")
    fresh.execute(Back())
    assert fresh.observe().app == "Messages" and fresh.world.state["route"] == "/messages"
    fresh.execute(Back())
    assert fresh.world.state["route"] == "/home"
    assert np.array_equal(pixels(fresh), home)


def test_home_leaves_a_nested_screen(fresh: SandboxDevice) -> None:
    fresh.navigate("/contacts/c1/edit")
    assert fresh.observe().app == "Contacts"
    fresh.execute(Home())
    assert fresh.observe().app == "Home" and fresh.world.state["route"] == "/home"


def test_typed_text_is_sent_exactly(fresh: SandboxDevice) -> None:
    contact_id = fresh.world.state["conversations"][0]["contact_id"]
    fresh.navigate(f"/messages/{contact_id}")
    fresh.execute(tap(by_id(fresh.observe(), "msg")))
    fresh.execute(Type(text=TRICKY_TEXT))
    assert by_id(fresh.observe(), "msg").text == TRICKY_TEXT
    fresh.execute(tap(find(fresh.observe(), "Send", role="button")))
    assert fresh.world.conversation(contact_id)["messages"][-1] == {"sender": "me", "text": TRICKY_TEXT}


def test_long_press_deletes_a_note_and_a_short_press_opens_it(fresh: SandboxDevice) -> None:
    note = fresh.world.state["notes"][0]
    fresh.execute(OpenApp(app="Notes"))
    fresh.execute(tap(find(fresh.observe(), note["title"], role="span")))
    assert fresh.world.state["route"] == f"/notes/{note['id']}" and note in fresh.world.state["notes"]
    fresh.execute(Back())
    row = find(fresh.observe(), note["title"], role="span")
    fresh.execute(LongPress(x=row.center[0], y=row.center[1], seconds=0.1))
    assert fresh.world.state["route"] == f"/notes/{note['id']}", "a 0.1 s press must open, not delete"
    fresh.execute(Back())
    fresh.execute(LongPress(x=row.center[0], y=row.center[1], seconds=0.8))
    obs = fresh.observe()
    assert find(obs, f'Delete note "{note["title"]}"?', prefix=True) is not None
    fresh.execute(tap(find(obs, "Cancel", role="button")))
    assert note in fresh.world.state["notes"]
    fresh.execute(LongPress(x=row.center[0], y=row.center[1], seconds=0.8))
    fresh.execute(tap(find(fresh.observe(), "Delete", role="button")))
    assert note["id"] not in [n["id"] for n in fresh.world.state["notes"]]
    assert find(fresh.observe(), note["title"], role="span") is None


def test_brightness_slider_follows_a_swipe_and_a_tap(fresh: SandboxDevice) -> None:
    fresh.execute(OpenApp(app="Settings"))
    obs = fresh.observe()
    slider = find(obs, "Brightness", role="slider")
    left, top, right, bottom = slider.bounds
    at = lambda v: left + v * (right - left) // 100  # noqa: E731
    y = (top + bottom) // 2
    start = fresh.world.state["settings"]["brightness"]
    fresh.execute(Swipe(x=at(start), y=y, x2=at(90), y2=y))
    assert fresh.world.state["settings"]["brightness"] == 90
    assert find(fresh.observe(), "Brightness 90%") is not None
    fresh.execute(Click(x=at(10), y=y))
    assert fresh.world.state["settings"]["brightness"] == 10


def test_toggle_switch_flips_state_and_screen(fresh: SandboxDevice) -> None:
    fresh.execute(OpenApp(app="Settings"))
    before = fresh.world.state["settings"]["dark_mode"]
    light = pixels(fresh)
    fresh.execute(tap(find(fresh.observe(), "Dark mode", role="switch")))
    assert fresh.world.state["settings"]["dark_mode"] is (not before)
    assert find(fresh.observe(), "Dark mode", role="switch").checked is (not before)
    assert not np.array_equal(pixels(fresh), light)


@pytest.mark.parametrize("gesture", ["scroll", "swipe"])
def test_last_contact_needs_scrolling(fresh: SandboxDevice, gesture: str) -> None:
    last = max(c["name"] for c in fresh.world.state["contacts"])
    fresh.execute(OpenApp(app="Contacts"))
    assert find(fresh.observe(), last, role="button") is None
    moves = 0
    while find(fresh.observe(), last, role="button") is None:
        assert moves < 10, f"{last} never came into view"
        fresh.execute(Scroll(direction="down") if gesture == "scroll" else Swipe(x=540, y=2000, x2=540, y2=900))
        moves += 1
    fresh.execute(tap(find(fresh.observe(), last, role="button")))
    assert find(fresh.observe(), last, role="h2") is not None


def test_gallery_swipes_between_photos(fresh: SandboxDevice) -> None:
    photos = fresh.world.state["photos"]
    fresh.execute(OpenApp(app="Gallery"))
    assert find(fresh.observe(), photos[0]["title"]) is not None
    fresh.execute(Swipe(x=860, y=900, x2=220, y2=900))
    assert find(fresh.observe(), photos[1]["title"]) is not None
    fresh.execute(Swipe(x=220, y=900, x2=860, y2=900))
    assert find(fresh.observe(), photos[0]["title"]) is not None
    fresh.execute(Click(x=540, y=900))
    assert find(fresh.observe(), photos[0]["title"]) is not None, "a tap is not a swipe"
    fresh.execute(Scroll(direction="right", x=540, y=900))
    assert find(fresh.observe(), photos[1]["title"]) is not None, "scrolling right reveals the next photo"


def test_tools(fresh: SandboxDevice) -> None:
    assert fresh.execute(ToolCall(name="list_apps")).output == list(APPS)
    contact = fresh.world.state["contacts"][5]
    found = fresh.execute(ToolCall(name="search_contacts", arguments={"query": contact["name"].split()[1]})).output
    assert {"name": contact["name"], "phone": contact["phone"], "email": contact["email"]} in found
    with pytest.raises(ActionError):
        fresh.execute(ToolCall(name="goto", arguments={"url": "http://example.com"}))


def test_out_of_bounds_raises(fresh: SandboxDevice) -> None:
    with pytest.raises(ActionOutOfBounds):
        fresh.execute(Click(x=1080, y=10))


def test_registry_builds_and_close_is_idempotent() -> None:
    with pytest.raises(ConfigError):
        make_device("sandbox:extra")
    device = make_device("sandbox")
    assert isinstance(device, SandboxDevice) and device.observe().size == (1080, 2400)
    url = device.world.url
    device.close()
    device.close()
    with pytest.raises(DeviceError):
        device.observe()
    with pytest.raises(DeviceError):
        device.execute(Home())
    assert url


def test_system_actions_time_out_on_a_hung_page_then_recover(fresh: SandboxDevice) -> None:
    fresh.page.evaluate("setTimeout(() => { const t = performance.now(); while (performance.now() - t < 3000) {} }, 0)")
    fresh.page.wait_for_timeout(100)
    for action in (OpenApp(app="Notes"), Back(), Home()):
        with pytest.raises(DeviceTimeout):
            fresh.execute(action, timeout=0.5)
    fresh.execute(OpenApp(app="Notes"), timeout=10)
    assert fresh.observe().app == "Notes"
