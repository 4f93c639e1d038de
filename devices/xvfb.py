"""A private Xvfb (virtual X server) for devices that need a screen of their own (``sandbox+desktop``).

Xvfb picks a free display number itself (``-displayfd``: it writes the number to a pipe once it listens), so
parallel pool workers never collide; no TCP listener. ``stop()`` (idempotent) terminates it, then kills it
after :data:`STOP_TIMEOUT` seconds. Xvfb is Debian's ``xvfb`` package (``apt-get install xvfb``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from cua.device import ClosesOnExit
from cua.devices import x11
from cua.errors import ConfigError, DeviceDisconnected

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


class Xvfb(ClosesOnExit):
    """Xvfb with one ``width`` x ``height`` x 24 screen; ``display`` is its name (``:N``)."""

    def __init__(self, width: int, height: int, *, timeout: float = START_TIMEOUT) -> None:
        binary = shutil.which("Xvfb")
        if binary is None:
            raise ConfigError("Xvfb is not installed (Debian: apt-get install xvfb)")
        self.size = (width, height)
        rfd, wfd = os.pipe()
        self.proc = subprocess.Popen(
            [binary, "-displayfd", str(wfd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            pass_fds=(wfd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(wfd)
        try:
            with os.fdopen(rfd) as fh:
                number = fh.readline().strip()
            if not number:
                raise DeviceDisconnected(f"Xvfb exited (code {self.proc.poll()}) without reporting a display")
            self.display = f":{number}"
            deadline = time.monotonic() + timeout
            while not x11.display_alive(self.display):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise DeviceDisconnected(f"Xvfb on {self.display} did not answer within {timeout} s")
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Terminate the server (idempotent)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)

    close = stop
