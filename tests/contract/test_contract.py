"""The device contract (Gymnasium env_checker style), run against every harness in this folder.

Each check finds its target on the screenshot by colour and reads the effect from the contract server's log.
A backend passes when:
- ``observe()`` returns a PNG that decodes to exactly its declared size (and the device's ``width`` x
  ``height`` when it has them), not blank, and any UI element bounds lie on the screen;
- a click on the magenta button reaches the page once per click; an off-screen click raises
  ActionOutOfBounds and nothing reaches the page;
- typed text arrives exactly (spaces, quotes, ``$``, ``;``, ``&``, ``%``, non-ASCII);
- an action kind the device cannot perform raises ActionUnsupported (every backend the same class) and
  nothing reaches the page;
- ``Scroll(down)`` reveals content below (the scroll offset grows) and ``Scroll(up)`` goes back;
- ``Back`` returns to the first page after following the yellow link; ``reset()`` shows the start page;
- a hung call raises DeviceTimeout within its timeout plus a few seconds;
- the context manager closes the device, calls after close raise DeviceError, ``close()`` twice is fine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from cua.actions import ActionBase, Back, Click, Scroll, Type
from cua.errors import ActionOutOfBounds, ActionUnsupported, DeviceError, DeviceTimeout
from cua.observation import PNG_MAGIC

from .colour import BLUE, CYAN, MAGENTA, YELLOW, find_colour, has_colour
from .server import ContractServer

TRICKY_TEXT = "hello world 'q' \"dq\" $HOME; a&b 100% ünïcødé ✓"
NOTHING_ARRIVES_S = 0.7
HANG_GRACE_S = 5.0


@dataclass(frozen=True, kw_only=True)
class Teleport(ActionBase):
    """An action kind no backend performs: the suite's stand-in for one a backend cannot do (issue 10 item 7)."""

    kind: ClassVar[str] = "teleport"
    points: ClassVar[tuple[tuple[str, str], ...]] = (("x", "y"),)
    x: int = 1
    y: int = 1


def click_colour(device, rgb) -> None:
    x, y = find_colour(device.observe(), rgb)
    device.execute(Click(x=x, y=y))


def poll(condition, timeout: float = 5.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def views(events) -> list[str]:
    return [e.get("page") for e in events if e.get("type") == "view"]


def test_observe_returns_png_of_declared_size(device) -> None:
    obs = device.observe()
    assert obs.png.startswith(PNG_MAGIC)
    assert obs.image.size == (obs.width, obs.height)
    if hasattr(device, "width"):
        assert (obs.width, obs.height) == (device.width, device.height)
    sample = np.asarray(obs.image)[::8, ::8].reshape(-1, 3)
    assert len(np.unique(sample, axis=0)) > 3, "screenshot is blank"
    assert has_colour(obs, MAGENTA) and has_colour(obs, CYAN) and has_colour(obs, YELLOW)
    for element in obs.elements:
        left, top, right, bottom = element.bounds
        assert 0 <= left <= right <= obs.width and 0 <= top <= bottom <= obs.height, element


def test_click_on_button_increments_counter(device, server: ContractServer) -> None:
    for expected in (1, 2):
        click_colour(device, MAGENTA)
        assert server.log.wait_for(lambda ev: sum(e["type"] == "click" for e in ev) >= expected)
    time.sleep(0.2)
    assert server.log.count("click") == 2


def test_out_of_bounds_click_raises_and_sends_nothing(device, server: ContractServer) -> None:
    obs = device.observe()
    for action in (Click(x=obs.width, y=10), Click(x=10, y=obs.height), Click(x=obs.width + 500, y=obs.height + 500)):
        with pytest.raises(ActionOutOfBounds):
            device.execute(action)
    time.sleep(NOTHING_ARRIVES_S)
    assert server.log.count("click") == 0


def test_an_action_the_device_cannot_perform_is_unsupported(device, server: ContractServer) -> None:
    device.observe()
    with pytest.raises(ActionUnsupported, match="teleport"):
        device.execute(Teleport())
    time.sleep(NOTHING_ARRIVES_S)
    assert server.log.count("click") == 0 and server.log.count("input") == 0


def test_typed_text_arrives_exactly(device, server: ContractServer) -> None:
    click_colour(device, CYAN)
    device.execute(Type(text=TRICKY_TEXT))
    arrived = server.log.wait_for(lambda ev: any(e.get("value") == TRICKY_TEXT for e in ev))
    values = [e["value"] for e in server.log.events("input")]
    assert arrived, f"field holds {values[-1] if values else None!r}, expected {TRICKY_TEXT!r}"


def test_scroll_down_reveals_content_and_up_returns(device, server: ContractServer) -> None:
    device.observe()
    device.execute(Scroll(direction="down"))
    assert server.log.wait_for(lambda ev: any(e.get("type") == "scroll" and e["y"] > 0 for e in ev))
    time.sleep(0.3)
    down = server.log.events("scroll")[-1]["y"]
    assert down > 0
    device.execute(Scroll(direction="up"))
    assert server.log.wait_for(lambda ev: [e for e in ev if e.get("type") == "scroll"][-1]["y"] < down)


def test_back_returns_to_first_page(device, server: ContractServer) -> None:
    click_colour(device, YELLOW)
    assert server.log.wait_for(lambda ev: "page2" in views(ev)), "the yellow link did not open page 2"
    device.execute(Back())
    assert server.log.wait_for(lambda ev: views(ev)[-1] == "index" and len(views(ev)) >= 3), views(server.log.events())
    assert poll(lambda: has_colour(device.observe(), MAGENTA)), "page 1 never came back on screen"


def test_reset_returns_to_start_page(device, server: ContractServer) -> None:
    click_colour(device, YELLOW)
    assert server.log.wait_for(lambda ev: "page2" in views(ev))
    assert poll(lambda: not has_colour(device.observe(), MAGENTA)), "page 2 never appeared on screen"
    device.reset()
    assert server.log.wait_for(lambda ev: views(ev)[-1] == "index")

    def start_page_shown() -> bool:
        obs = device.observe()
        return has_colour(obs, MAGENTA) and not has_colour(obs, BLUE)

    assert poll(start_page_shown), "the start page never came back on screen"


def test_hung_call_raises_device_timeout(device, harness) -> None:
    with harness.hang(device):
        start = time.monotonic()
        with pytest.raises(DeviceTimeout):
            device.observe(timeout=harness.short_timeout)
        assert time.monotonic() - start < harness.short_timeout + HANG_GRACE_S


def test_close_is_idempotent_and_context_manager_closes(device) -> None:
    with device as entered:
        assert entered is device
        device.observe()
    with pytest.raises(DeviceError):
        device.observe()
    device.close()
    device.close()
