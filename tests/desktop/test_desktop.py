"""The desktop backend against a real Xvfb + openbox + Tk app that logs what it receives."""

from __future__ import annotations

import os
import signal
import time

import pytest

from support_x11 import ENTRY_BOX, PASSWORD_BOX, TkApp, XServer

from cua.actions import Back, Click, Home, Key, LongPress, OpenApp, Scroll, Swipe, ToolCall, Type, Wait
from cua.devices import make_device, parse_spec
from cua.devices.desktop import DesktopDevice, key_names, screen_scale, to_logical
from cua.devices.keys import PYAUTOGUI, is_plain_ascii, spellings, text_runs
from cua.devices.x11 import list_displays, normalize_display
from cua.errors import ActionError, ActionOutOfBounds, ConfigError, DeviceDisconnected, DeviceTimeout

CONTROL, SHIFT, ALT = 0x4, 0x1, 0x8


def _clicks(app: TkApp, n: int) -> list[dict]:
    return app.wait_for(lambda ev: [e for e in ev if e["ev"] == "up"] if len([e for e in ev if e["ev"] == "up"]) >= n else None)


@pytest.mark.parametrize("x,y", [(700, 400), (0, 799), (1279, 100), (640, 401)])
def test_click_lands_on_the_pixel(desktop: DesktopDevice, tk_app: TkApp, x: int, y: int) -> None:
    desktop.execute(Click(x=x, y=y))
    ups = _clicks(tk_app, 1)
    downs = tk_app.events("down")
    assert (downs[0]["x"], downs[0]["y"], downs[0]["b"]) == (x, y, 1)
    assert (ups[0]["x"], ups[0]["y"]) == (x, y)


def test_observe_returns_the_screen(desktop: DesktopDevice) -> None:
    obs = desktop.observe()
    assert (obs.width, obs.height, obs.scale) == (1280, 800, 1.0)
    assert obs.image.getpixel((900, 500)) == (0x20, 0x40, 0x60)  # the Tk canvas colour
    assert obs.image.getpixel((20, 20)) != (0x20, 0x40, 0x60)  # the entry


def test_spec_forms_and_discovery(x_server: XServer) -> None:
    assert parse_spec(f"desktop:{x_server.display}") == ("desktop", x_server.display)
    assert parse_spec("desktop") == ("desktop", "")
    assert f"desktop:{x_server.display}" in list_displays()
    assert normalize_display("99") == ":99" and normalize_display(":7.0") == ":7"
    with pytest.raises(ConfigError):
        normalize_display("remote:0")
    with pytest.raises(ConfigError):
        make_device(f"desktop:{x_server.display}", bogus=1)


@pytest.mark.parametrize("text", ["hello world", "a'b\"c $HOME; x && y | z `q` \\n%", "héllo ünïcode 日本語 ✓"])
def test_type_reaches_the_entry(desktop: DesktopDevice, tk_app: TkApp, text: str) -> None:
    desktop.execute(Click(x=300, y=25))
    _clicks(tk_app, 1)  # an agent observes between actions; Tk handles focus before the keys
    desktop.execute(Type(text=text))
    tk_app.wait_for(lambda ev: tk_app.text() == text)
    assert tk_app.text() == text


def test_text_runs_split_ascii_and_other() -> None:
    assert [run for _, run in text_runs("ab é日c", is_plain_ascii)] == ["ab ", "é日", "c"]
    assert "".join(run for _, run in text_runs("x\ty✓", is_plain_ascii)) == "x\ty✓"


@pytest.mark.parametrize("chord,keysym,mask", [("ctrl+c", "c", CONTROL), ("ctrl+shift+a", "A", CONTROL | SHIFT),
                                               ("alt+x", "x", ALT), ("enter", "Return", 0)])
def test_key_chords(desktop: DesktopDevice, tk_app: TkApp, chord: str, keysym: str, mask: int) -> None:
    desktop.execute(Key(key=chord))
    hit = tk_app.wait_for(lambda ev: [e for e in ev if e["ev"] == "key" and e["keysym"] == keysym])
    assert hit[0]["state"] & 0xFF & ~0x10 == mask  # 0x10 = NumLock (Mod2), server-dependent


def test_back_and_home_keys(desktop: DesktopDevice, tk_app: TkApp) -> None:
    desktop.execute(Back())
    hit = tk_app.wait_for(lambda ev: [e for e in ev if e["ev"] == "key" and e["keysym"] == "Left"])
    assert hit[0]["state"] & ALT
    desktop.execute(Home())
    tk_app.wait_for(lambda ev: [e for e in ev if e["ev"] == "key" and e["keysym"] == "Super_L"])


def test_unknown_key_is_an_action_error(desktop: DesktopDevice) -> None:
    with pytest.raises(ActionError, match="unknown key"):
        desktop.execute(Key(key="ctrl+hyperdrive"))
    assert key_names("control+escape", ["ctrl", "esc"]) == ["ctrl", "esc"]
    assert set(spellings(PYAUTOGUI).values()) <= set(desktop._pg.KEYBOARD_KEYS), "every key name spelled for pyautogui"


@pytest.mark.parametrize("direction,button,shift", [("down", 5, False), ("up", 4, False), ("right", 5, True), ("left", 4, True)])
def test_scroll_is_content_direction(desktop: DesktopDevice, tk_app: TkApp, direction: str, button: int, shift: bool) -> None:
    desktop.execute(Scroll(direction=direction, x=500, y=600))
    downs = tk_app.wait_for(lambda ev: [e for e in ev if e["ev"] == "down"])
    # Tk on X11 reports horizontal wheel buttons 6/7 as 4/5 with Shift held
    assert {(e["b"], bool(e["state"] & SHIFT), e["x"], e["y"]) for e in downs} == {(button, shift, 500, 600)}


def test_swipe_drags_from_start_to_end(desktop: DesktopDevice, tk_app: TkApp) -> None:
    desktop.execute(Swipe(x=300, y=300, x2=700, y2=500, seconds=0.2))
    up = _clicks(tk_app, 1)[0]
    down = tk_app.events("down")[0]
    assert (down["x"], down["y"], up["x"], up["y"]) == (300, 300, 700, 500)


def test_long_press_holds(desktop: DesktopDevice, tk_app: TkApp) -> None:
    desktop.execute(LongPress(x=800, y=600, seconds=0.4))
    up = _clicks(tk_app, 1)[0]
    down = tk_app.events("down")[0]
    assert (down["x"], down["y"]) == (up["x"], up["y"]) == (800, 600)
    assert up["t"] - down["t"] >= 0.35


def test_out_of_bounds_never_reaches_the_screen(desktop: DesktopDevice, tk_app: TkApp) -> None:
    with pytest.raises(ActionOutOfBounds):
        desktop.execute(Click(x=1280, y=10))
    desktop.execute(Wait(seconds=0.1))
    assert tk_app.events("down") == []


def test_hidpi_ratio_logic() -> None:
    assert screen_scale((2560, 1600), (1280, 800)) == 2.0
    assert screen_scale((1280, 800), (1280, 800)) == 1.0
    assert to_logical(2559, 1599, 2.0) == (1279, 799)
    assert to_logical(300, 150, 1.5) == (200, 100)
    with pytest.raises(ConfigError):
        screen_scale((2560, 1600), (1280, 1600))


def test_forced_scale_divides_coordinates(x_server: XServer, tk_app: TkApp) -> None:
    with DesktopDevice(x_server.display, scale=2.0) as device:
        assert device.observe().scale == 2.0
        device.execute(Click(x=600, y=400))
    down = tk_app.wait_for(lambda ev: [e for e in ev if e["ev"] == "down"])[0]
    assert (down["x"], down["y"]) == (300, 200)


def test_stopped_x_server_times_out(fresh_x_server: XServer) -> None:
    device = DesktopDevice(fresh_x_server.display, timeout=1.0)
    device.observe()
    os.kill(fresh_x_server.proc.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        with pytest.raises(DeviceTimeout):
            device.observe()
        assert time.monotonic() - start < 3.0
        with pytest.raises(DeviceDisconnected, match="unusable"):
            device.execute(Click(x=1, y=1))
    finally:
        os.kill(fresh_x_server.proc.pid, signal.SIGCONT)
        device.close()


@pytest.mark.parametrize("call", ["observe", "click"])
def test_dead_x_server_is_a_disconnect(fresh_x_server: XServer, call: str) -> None:
    device = DesktopDevice(fresh_x_server.display, timeout=3.0)
    device.observe()
    fresh_x_server.proc.kill()
    fresh_x_server.proc.wait(timeout=5)
    try:
        with pytest.raises(DeviceDisconnected):
            device.observe() if call == "observe" else device.execute(Click(x=5, y=5))
    finally:
        device.close()
    device.close()


def test_unreachable_display_is_a_disconnect() -> None:
    with pytest.raises(DeviceDisconnected, match="does not answer"):
        DesktopDevice(":987")


def test_open_application_from_allowlist(x_server: XServer, tk_app: TkApp, workspace) -> None:
    marker = workspace / "started"
    # Written to a temporary file and renamed, so the test never reads the file half-written
    # (the shell creates the target of `>` before echo writes into it).
    apps = {"Marker": ["/bin/sh", "-c", 'echo "$DISPLAY" > "$0.tmp" && mv "$0.tmp" "$0"', str(marker)]}
    with DesktopDevice(x_server.display, apps=apps, workspace=workspace) as device:
        assert "marker" in device.tools.call("list_applications", {})
        out = device.execute(ToolCall(name="open_application", arguments={"name": "marker"})).output
        assert out.startswith("started marker")
        deadline = time.monotonic() + 5
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.read_text().strip() == x_server.display
        with pytest.raises(ActionError, match="not allowed"):
            device.execute(OpenApp(app="rm -rf /"))
        with pytest.raises(ConfigError):
            DesktopDevice(x_server.display, apps={"bad": "xterm -e sh"})


def test_desktop_entries_are_parsed(tmp_path) -> None:
    from cua.devices.desktop_tools import AppLauncher

    (tmp_path / "ed.desktop").write_text("[Desktop Entry]\nType=Application\nName=My Editor\nExec=myed --new %F\n")
    (tmp_path / "link.desktop").write_text("[Desktop Entry]\nType=Link\nName=Site\nURL=http://x\n")
    launcher = AppLauncher(dirs=[tmp_path])
    assert launcher.argv("my editor") == ["myed", "--new"] == launcher.argv("ed")
    assert "site" not in launcher.names()


def test_file_tools_stay_in_the_workspace(desktop: DesktopDevice, workspace) -> None:
    (workspace.parent / "secret.txt").write_text("top secret")
    os.symlink(workspace.parent / "secret.txt", workspace / "link.txt")
    assert desktop.execute(ToolCall(name="write_file", arguments={"path": "notes/a.txt", "text": "hé"})).output == 3
    assert (workspace / "notes" / "a.txt").read_text(encoding="utf-8") == "hé"
    assert desktop.execute(ToolCall(name="read_file", arguments={"path": "notes/a.txt"})).output == "hé"
    for path in ["../secret.txt", "/etc/passwd", "notes/../../secret.txt", "link.txt"]:
        with pytest.raises(ActionError, match="outside the workspace"):
            desktop.execute(ToolCall(name="read_file", arguments={"path": path}))
    with pytest.raises(ActionError, match="outside the workspace"):
        desktop.execute(ToolCall(name="write_file", arguments={"path": "../x.txt", "text": "x"}))
    assert not (workspace.parent / "x.txt").exists()


def test_password_box_is_a_real_entry(desktop: DesktopDevice, tk_app: TkApp) -> None:
    x, y = (PASSWORD_BOX[0] + PASSWORD_BOX[2]) // 2, (PASSWORD_BOX[1] + PASSWORD_BOX[3]) // 2
    desktop.execute(Click(x=x, y=y))
    _clicks(tk_app, 1)
    desktop.execute(Type(text="pw"))
    tk_app.wait_for(lambda ev: tk_app.text("password") == "pw")
    assert tk_app.text("entry") == ""
    assert ENTRY_BOX[3] <= PASSWORD_BOX[1]


def test_close_is_idempotent_and_final(x_server: XServer) -> None:
    device = DesktopDevice(x_server.display)
    device.close()
    device.close()
    with pytest.raises(DeviceDisconnected, match="closed"):
        device.observe()
