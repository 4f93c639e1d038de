"""Contract harness: the VNC backend through x11vnc (loopback, password) on a private Xvfb showing the page in
a Chromium kiosk window.

A VNC screen's programs live on the server's side, so the harness (which owns that side) gives ``reset`` its
start state by relaunching Chromium. ``hang`` stops x11vnc (SIGSTOP): the next screenshot must time out.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support_x11 import _stop, chromium_argv, start_x11vnc, start_xvfb  # noqa: E402

from cua.devices.desktop_tools import AppLauncher  # noqa: E402
from cua.devices.vnc import VncDevice  # noqa: E402
from cua.devices.wrappers import DeviceWrapper  # noqa: E402

from .harness_desktop import SettledObserve, wait_until_shown  # noqa: E402

PASSWORD = "contract-pw"
FOCUS_TIMEOUT = 10.0


def wait_for_keyboard_focus(display: str, timeout: float = FOCUS_TIMEOUT) -> None:
    """Wait until the window manager has given a window the keyboard focus (the start state of a screen a user
    sees). Until then keys sent through VNC go to no window; openbox focuses the new Chromium window on its own
    time, which under load came after the suite's first keys (the whole text never arrived)."""
    from Xlib.display import Display

    xdisplay = Display(display)
    try:
        root = xdisplay.screen().root.id
        deadline = time.monotonic() + timeout
        while True:
            focus = xdisplay.get_input_focus().focus
            if not isinstance(focus, int) and focus.id != root:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no window got the keyboard focus on {display} within {timeout} s")
            time.sleep(0.05)
    finally:
        xdisplay.close()


class RelaunchOnReset(DeviceWrapper):
    """``reset`` terminates the server-side program and starts it again (the harness owns the server)."""

    def __init__(self, device: VncDevice, launcher: AppLauncher, argv: list[str]) -> None:
        super().__init__(device)
        self.launcher, self.argv = launcher, argv

    def reset(self, *, seed: int | None = None) -> None:
        self.launcher.close()
        self.launcher.launch(self.argv)
        self.device.reset(seed=seed)


@dataclass
class VncHarness:
    name: str = "vnc"
    short_timeout: float = 1.5
    servers: dict[int, int] = field(default_factory=dict)

    @contextmanager
    def open(self, url: str) -> Iterator[SettledObserve]:
        server = start_xvfb()
        launcher = AppLauncher(env=server.env)
        try:
            with tempfile.TemporaryDirectory(prefix="cua-vnc-", ignore_cleanup_errors=True) as tmp:
                vnc, port = start_x11vnc(server, PASSWORD, Path(tmp))
                try:
                    device = RelaunchOnReset(VncDevice("127.0.0.1", port, password=PASSWORD, timeout=10.0),
                                             launcher, chromium_argv(url, Path(tmp) / "profile"))
                    with device:
                        device.reset()
                        wait_until_shown(device)
                        wait_for_keyboard_focus(server.display)
                        wrapped = SettledObserve(device)
                        self.servers[id(wrapped)] = vnc.pid
                        try:
                            yield wrapped
                        finally:
                            self.servers.pop(id(wrapped), None)
                finally:
                    launcher.close()
                    _stop(vnc)
        finally:
            launcher.close()
            server.stop()

    @contextmanager
    def hang(self, device: SettledObserve) -> Iterator[None]:
        pid = self.servers[id(device)]
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)


HARNESS = VncHarness()
