"""Real X components for tests: Xvfb (+ openbox), a Tk app that logs its input events, x11vnc.

Fixtures here are imported by the desktop, VNC, safety and contract conftests. Every process they start is
stopped in a ``finally``. Xvfb picks a free display number itself (``-displayfd``), so parallel runs never
collide. Run as a script (``python support_x11.py tk LOG W H``) it is the Tk logger app.

The Tk app fills the screen (full-screen at +0+0, focused by the window manager) so its root coordinates are screen pixels. It writes
one JSON object a line to LOG: ``{"ev": "ready"}``, ``{"ev": "down"|"up", "b": button, "x", "y", "t"}`` (t: the X server's event time, seconds),
``{"ev": "key", "keysym", "char", "state"}``, ``{"ev": "text", "w": "entry"|"password", "value"}``.
The text entry sits at ENTRY_BOX and has the focus; a password entry sits at PASSWORD_BOX.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

WIDTH, HEIGHT = 1280, 800
ENTRY_BOX = (10, 10, 610, 40)
PASSWORD_BOX = (10, 50, 610, 80)
START_TIMEOUT = 10.0


@dataclass
class XServer:
    display: str
    proc: subprocess.Popen
    extra: list[subprocess.Popen]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, "XDG_SESSION_TYPE": "x11"}

    def stop(self) -> None:
        for p in [*self.extra, self.proc]:
            _stop(p)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.02)


def start_xvfb(width: int = WIDTH, height: int = HEIGHT, *, wm: bool = True) -> XServer:
    """Start Xvfb on a free display (and openbox unless ``wm`` is False); caller calls ``stop()``."""
    rfd, wfd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(wfd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(wfd)
    try:
        with os.fdopen(rfd) as fh:
            number = fh.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not report a display number")
        server = XServer(f":{number}", proc, [])
        _wait(lambda: _x_answers(server.display), START_TIMEOUT, "Xvfb")
        if wm:
            server.extra.append(subprocess.Popen(["openbox", "--sm-disable"], env=server.env,
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return server
    except BaseException:
        _stop(proc)
        raise


def _x_answers(display: str) -> bool:
    from Xlib.display import Display

    try:
        Display(display).close()
        return True
    except Exception:
        return False


@dataclass
class TkApp:
    log: Path
    proc: subprocess.Popen

    def events(self, ev: str | None = None) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        out = [json.loads(line) for line in lines if line.strip()]
        return [e for e in out if e["ev"] != "wait" and (ev is None or e["ev"] == ev)]

    def wait_for(self, pred: Callable[[list[dict[str, Any]]], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = pred(self.events())
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"Tk app never logged the expected events; log: {self.events()[-20:]}")
            time.sleep(0.02)

    def text(self, widget: str = "entry") -> str:
        values = [e["value"] for e in self.events("text") if e["w"] == widget]
        return values[-1] if values else ""

    def clear(self) -> None:
        self.log.write_text("", encoding="utf-8")


def start_tk(server: XServer, log: Path, width: int = WIDTH, height: int = HEIGHT) -> TkApp:
    app = TkApp(log, subprocess.Popen([sys.executable, __file__, "tk", str(log), str(width), str(height)],
                                      env=server.env, stdout=subprocess.DEVNULL,
                                      stderr=open(log.with_suffix(".err"), "w")))
    try:
        _wait(lambda: bool(app.events("ready")), START_TIMEOUT, "Tk app")
    except TimeoutError:
        _stop(app.proc)
        raise TimeoutError(f"Tk app not ready; exit {app.proc.returncode}, log {app.events()[-3:]}") from None
    except BaseException:
        _stop(app.proc)
        raise
    app.clear()
    return app


def start_x11vnc(server: XServer, password: str, workdir: Path) -> tuple[subprocess.Popen, int]:
    """x11vnc on loopback with a password file; returns (process, port)."""
    passfile = workdir / "vncpass"
    subprocess.run(["x11vnc", "-storepasswd", password, str(passfile)], check=True, timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = _free_port()
    proc = subprocess.Popen(
        ["x11vnc", "-display", server.display, "-localhost", "-rfbport", str(port), "-rfbauth", str(passfile),
         "-forever", "-shared", "-nopw", "-quiet", "-noxdamage", "-nowf", "-add_keysyms"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: _port_open(port), START_TIMEOUT, "x11vnc")
    except BaseException:
        _stop(proc)
        raise
    return proc, port


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def x_server() -> Iterator[XServer]:
    server = start_xvfb()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tk_app(x_server: XServer, tmp_path: Path) -> Iterator[TkApp]:
    app = start_tk(x_server, tmp_path / "tk.log")
    try:
        yield app
    finally:
        _stop(app.proc)


@pytest.fixture
def fresh_x_server() -> Iterator[XServer]:
    """A private Xvfb (no window manager) for tests that stop or kill it."""
    server = start_xvfb(wm=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def _tk_main(log_path: str, width: int, height: int) -> None:
    import tkinter as tk

    log = open(log_path, "a", encoding="utf-8", buffering=1)

    def emit(**rec: Any) -> None:
        log.write(json.dumps(rec, ensure_ascii=False) + "\n")

    root = tk.Tk()
    root.geometry(f"{width}x{height}+0+0")
    root.attributes("-fullscreen", True)
    canvas = tk.Canvas(root, width=width, height=height, bg="#204060", highlightthickness=0)
    canvas.place(x=0, y=0)
    for name, box, show in (("entry", ENTRY_BOX, ""), ("password", PASSWORD_BOX, "*")):
        var = tk.StringVar(root)
        var.trace_add("write", lambda *_, n=name, v=var: emit(ev="text", w=n, value=v.get()))
        widget = tk.Entry(root, textvariable=var, show=show)
        widget.place(x=box[0], y=box[1], width=box[2] - box[0], height=box[3] - box[1])
        if name == "entry":
            entry = widget
    for seq, ev in (("<ButtonPress>", "down"), ("<ButtonRelease>", "up")):
        root.bind_all(seq, lambda e, ev=ev: emit(ev=ev, b=e.num, x=e.x_root, y=e.y_root, state=e.state,
                                                t=e.time / 1000))
    for seq in ("<KeyPress>", "<Alt-KeyPress>", "<Meta-KeyPress>"):
        root.bind_all(seq, lambda e: emit(ev="key", keysym=e.keysym, char=e.char, state=e.state))

    def ready() -> None:
        if root.winfo_rootx() != 0 or root.winfo_rooty() != 0 or not root.focus_get():
            emit(ev="wait", x=root.winfo_rootx(), y=root.winfo_rooty(), focus=str(root.focus_get()))
            if root.winfo_rootx() != 0 or root.winfo_rooty() != 0:
                root.attributes("-fullscreen", False)
                root.attributes("-fullscreen", True)
            entry.focus_force()
            root.after(50, ready)
            return
        emit(ev="ready")

    root.after(100, ready)
    root.mainloop()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "tk":
        _tk_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(f"usage: {sys.argv[0]} tk LOG WIDTH HEIGHT")


CHROMIUM = "/usr/bin/chromium"


def chromium_argv(url: str, profile: Path, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    """Chromium as a full-screen kiosk window showing ``url`` (a fresh profile folder; no first-run UI)."""
    return [CHROMIUM, "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--noerrdialogs", "--disable-infobars",
            "--disable-session-crashed-bubble", "--password-store=basic", "--disable-dev-shm-usage",
            "--disable-features=Translate,MediaRouter", f"--user-data-dir={profile}",
            "--window-position=0,0", f"--window-size={width},{height}", "--kiosk", url]
