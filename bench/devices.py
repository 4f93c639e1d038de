"""Device backends against their raw libraries, side by side in one run (goal: cua <= 1.15x raw).

Each backend registers a function in :data:`BENCHES` that sets up its real components, then calls
:func:`compare` for each pair it measures; :func:`compare` alternates the order per round and prints medians,
the median of per-round ratios and the ratio of minimums (the least noisy on a shared machine).

    python bench/devices.py [ROUNDS] [BACKEND ...]      (backends: android, desktop, vnc, web, sandbox)

desktop: Xvfb + openbox + the test Tk app. Raw = an mss grab PNG-encoded (mss.tools.to_png, level 1, what
the backend uses) + ``pyautogui.click``; cua = ``DesktopDevice.observe()`` + ``execute(Click)``. Also compares
mss's PNG encoder with PIL's for the same frames.
vnc: x11vnc on that display. Raw = vncdotool's api client refresh + PNG encode + click; cua = ``VncDevice``.

web: the contract page (tests/contract) on a 1080x2400 phone and a 1280x800 desktop, its text field focused (a
caret to hide). today = WebDevice.observe before cua.devices.web_capture, written out here
(:func:`today_web_observe`: Playwright's ``page.screenshot(type="png")``, then the element query); new =
``WebDevice.observe()``. Checks first that both give the same pixels and elements; also prints the CPU time
one observe costs all processes together (this one, Playwright's driver, Chromium: steadier than wall time on
a loaded machine) and times decoding each PNG (``Observation.image``, what a policy pays), with their sizes.
"frame floor": today against Chromium's bare frame (:func:`frame_floor`), the least any lossless observe costs.
sandbox: the sandbox phone on three screens (a conversation with its message field focused, the contacts list,
the gallery); today = the same written-out sequence + the app name, as SandboxDevice.observe did.

android: the real adb server + the test suite's device-side endpoint (tests/android), its screen a static
1080x2400 image. Raw = adbutils' ``screenshot()`` (``screencap -p`` opened as a PIL image; ``.load()``
decodes it, as any user of the pixels must, and cua's validation does) + ``click()`` (``input tap``); cua = ``AndroidDevice.observe()`` + ``execute(Click)`` (frame validation,
server probe and state check included). Also ``screencap -p`` against raw ``screencap`` + PNG encoding here.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cua.actions import Click  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from cua.devices.web import WebDevice
    from cua.observation import Observation

DEFAULT_ROUNDS = 20
VNC_PASSWORD = "bench-pw"
POINT = (900, 500)
#: Observes per CPU-time sample (the kernel counts CPU time in 10 ms ticks).
CPU_BLOCK = 5


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name: str, raw: Callable[[], object], cua: Callable[[], object], rounds: int,
            labels: tuple[str, str] = ("raw", "cua")) -> float:
    """Time ``raw`` and ``cua`` alternately ``rounds`` times; print and return the median per-round ratio."""
    raw(), cua()
    pairs = []
    for i in range(rounds):
        if i % 2:
            c, r = timed(cua), timed(raw)
        else:
            r, c = timed(raw), timed(cua)
        pairs.append((r, c))
    r_med = statistics.median(p[0] for p in pairs)
    c_med = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(c / r for r, c in pairs)
    best = min(p[1] for p in pairs) / min(p[0] for p in pairs)
    print(f"{name:<40} {labels[0]} {r_med * 1000:8.2f} ms   {labels[1]} {c_med * 1000:8.2f} ms   "
          f"ratio {ratio:5.2f}x   ratio of minimums {best:5.2f}x", flush=True)
    return ratio


class StaticScreen:
    """A fixed 1080x2400 picture with some structure (compresses like a real UI, not like noise)."""

    def __init__(self) -> None:
        from PIL import Image, ImageDraw

        from cua.observation import Observation

        image = Image.new("RGB", (1080, 2400), (245, 245, 245))
        draw = ImageDraw.Draw(image)
        for i in range(24):
            draw.rectangle((40, 100 + i * 95, 1040, 170 + i * 95), fill=(30 + i * 9, 90, 200 - i * 5))
            draw.text((60, 120 + i * 95), f"row {i} lorem ipsum dolor sit amet", fill=(255, 255, 255))
        self.obs = Observation.from_image(image)

    def observe(self):
        return self.obs

    def execute(self, action) -> None:
        return None

    def list_apps(self) -> list[str]:
        return []

    def close(self) -> None:
        return None


def bench_android(rounds: int) -> None:
    import adbutils
    from android.adb_endpoint import AdbEndpoint
    from android.adb_server import adb_server

    from cua.devices import adb_input
    from cua.devices.android import AndroidDevice

    with adb_server() as server, AdbEndpoint(StaticScreen) as endpoint:
        server.connect(endpoint.address)
        raw_dev = adbutils.AdbClient(host="127.0.0.1", port=server.port).device(endpoint.address)
        with AndroidDevice(endpoint.address, adb_port=server.port, screencap="png") as device:
            def raw_step() -> None:
                raw_dev.screenshot().load()
                raw_dev.click(540, 1200)

            def cua_step() -> None:
                device.observe()
                device.execute(Click(x=540, y=1200))

            compare("android observe+tap (screencap -p)", raw_step, cua_step, rounds)
            compare("android screenshot: adbutils vs observe", lambda: raw_dev.screenshot().load(), device.observe,
                    rounds)
            compare("android tap: adbutils click vs execute", lambda: raw_dev.click(540, 1200),
                    lambda: device.execute(Click(x=540, y=1200)), rounds)
            compare("android screencap: -p vs raw+encode", lambda: device.capture("png"),
                    lambda: adb_input.png_from_raw(raw_dev.shell("screencap", encoding=None)), max(3, rounds // 4),
                    labels=("png", "raw"))
            auto = AndroidDevice(endpoint.address, adb_port=server.port)
            auto.observe()
            print(f"android screencap=auto picked: {auto.screencap}")


def _bench_desktop_on(display: str, rounds: int) -> None:
    import mss
    import mss.tools
    from PIL import Image

    from cua.devices.desktop import DesktopDevice
    from cua.devices.x11 import pyautogui_for

    device = DesktopDevice(display)
    pg = pyautogui_for(display)
    pg.FAILSAFE = False
    grabber = mss.MSS(display=display)
    monitor = grabber.monitors[0]

    def raw() -> None:
        shot = grabber.grab(monitor)
        mss.tools.to_png(shot.rgb, shot.size, level=1)
        pg.click(*POINT)

    def cua() -> None:
        device.observe()
        device.execute(Click(x=POINT[0], y=POINT[1]))

    def pil_png() -> None:
        shot = grabber.grab(monitor)
        Image.frombuffer("RGB", shot.size, shot.bgra, "raw", "BGRX").save(io.BytesIO(), format="PNG", compress_level=1)

    def mss_png() -> None:
        shot = grabber.grab(monitor)
        mss.tools.to_png(shot.rgb, shot.size, level=1)

    compare("png encode: mss vs PIL(raw BGRX)", mss_png, pil_png, rounds, labels=("mss", "PIL"))
    compare("desktop: mss+pyautogui vs cua", raw, cua, rounds)
    compare("desktop observe only", mss_png, device.observe, rounds)
    device.close()
    grabber.close()


def _bench_vnc_on(port: int, rounds: int) -> None:
    from vncdotool import api

    from cua.devices.vnc import VncDevice

    device = VncDevice("127.0.0.1", port, password=VNC_PASSWORD)
    client = api.connect(f"127.0.0.1::{port}", password=VNC_PASSWORD, timeout=10)

    def raw() -> None:
        client.refreshScreen(False)
        client.screen.convert("RGB").save(io.BytesIO(), format="PNG", compress_level=1)
        client.mouseMove(*POINT)
        client.mousePress(1)

    def cua() -> None:
        device.observe()
        device.execute(Click(x=POINT[0], y=POINT[1]))

    compare("vnc: vncdotool api vs cua", raw, cua, rounds)
    client.disconnect()
    device.close()


@contextmanager
def _x_screen() -> Iterator[tuple[str, int]]:
    """Xvfb + openbox + the test Tk app (real widgets on screen) and x11vnc on it: (display, vnc port)."""
    from support_x11 import _stop, start_tk, start_x11vnc, start_xvfb

    server = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = start_tk(server, Path(tmp) / "tk.log")
            vnc, port = start_x11vnc(server, VNC_PASSWORD, Path(tmp))
            try:
                yield server.display, port
            finally:
                _stop(vnc)
                _stop(app.proc)
    finally:
        server.stop()


def bench_desktop(rounds: int) -> None:
    with _x_screen() as (display, _port):
        _bench_desktop_on(display, rounds)


def bench_vnc(rounds: int) -> None:
    with _x_screen() as (_display, port):
        _bench_vnc_on(port, rounds)


def today_web_observe(device: "WebDevice") -> "Observation":
    """WebDevice.observe as it was before cua.devices.web_capture (the baseline): Playwright's screenshot, then
    the element query in a second call."""
    from cua.devices.web import ELEMENTS_JS, elements_from_rows
    from cua.observation import Observation

    png = device.page.screenshot(type="png", timeout=device.timeout * 1000)
    rows = json.loads(device.page.evaluate(ELEMENTS_JS, device.scale)) if device.elements else []
    return Observation.from_png(png, scale=device.scale, url=device.page.url, elements=elements_from_rows(rows))


def _tree_cpu() -> float:
    """CPU seconds used so far by this process and its descendants (Playwright's driver, Chromium)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def frame_floor(device: "WebDevice") -> Callable[[], object]:
    """The least a Chromium frame of ``device`` costs: a bare ``Page.captureScreenshot`` at the device's size
    (its own CDP session with the page's device metrics, as :mod:`cua.devices.web_capture` does), as JPEG at
    quality 1 (no preparation, no elements, almost no encoding); no lossless observe can be cheaper."""
    from PIL import Image

    from cua.devices.web_capture import metrics_override

    session = device.page.context.new_cdp_session(device.page)
    session.send("Emulation.setDeviceMetricsOverride", metrics_override(device.viewport, device.scale, device.mobile))

    def floor() -> object:
        return session.send("Page.captureScreenshot", {"format": "jpeg", "quality": 1, "captureBeyondViewport": False})

    size = Image.open(io.BytesIO(base64.b64decode(floor()["data"]))).size  # type: ignore[index]
    if size != (device.width, device.height):
        raise SystemExit(f"frame floor: a {size} frame, not the device's {(device.width, device.height)}")
    return floor


def _compare_observe(name: str, today: Callable[[], "Observation"], new: Callable[[], "Observation"],
                     rounds: int, floor: Callable[[], object] | None = None) -> None:
    """Same pixels and elements first, then observe today vs new, then decoding each PNG; with ``floor``, today
    against the frame floor (:func:`frame_floor`): the ratio below which a lossless observe cannot go."""
    import numpy as np
    from PIL import Image

    old, fresh = today(), new()
    if not np.array_equal(np.asarray(old.image), np.asarray(fresh.image)) or old.elements != fresh.elements:
        raise SystemExit(f"{name}: the new observe does not give today's pixels and elements")
    compare(f"{name} observe", today, new, rounds, labels=("today", "new"))
    if floor is not None:
        compare(f"{name} frame floor", today, floor, rounds, labels=("today", "floor"))
    cpu: dict[str, list[float]] = {"today": [], "new": []}
    for i in range(max(2, rounds // 3)):
        for side in (("today", "new") if i % 2 == 0 else ("new", "today")):
            before = _tree_cpu()
            for _ in range(CPU_BLOCK):
                (today if side == "today" else new)()
            cpu[side].append((_tree_cpu() - before) / CPU_BLOCK)
    t_cpu, n_cpu = statistics.median(cpu["today"]), statistics.median(cpu["new"])
    print(f"{name + ' observe CPU (all processes)':<40} today {t_cpu * 1000:8.2f} ms   new {n_cpu * 1000:8.2f} ms   "
          f"ratio of medians {n_cpu / t_cpu:5.2f}x", flush=True)

    def decode(png: bytes) -> Callable[[], object]:
        return lambda: Image.open(io.BytesIO(png)).convert("RGB")

    compare(f"{name} decode ({len(old.png) // 1024} vs {len(fresh.png) // 1024} KiB)", decode(old.png),
            decode(fresh.png), rounds, labels=("today", "new"))


def bench_web(rounds: int) -> None:
    from contract.server import serve

    from cua.devices.web import WebDevice

    with contextmanager(serve)() as server:
        for name, device in (("web phone", WebDevice.phone(server.url)), ("web desktop", WebDevice.desktop(server.url))):
            with device:
                device.page.focus("#cyan")
                device.page.keyboard.type("caret here")
                _compare_observe(name, lambda: today_web_observe(device), device.observe, rounds,
                                 frame_floor(device))


def bench_sandbox(rounds: int) -> None:
    from cua.devices.sandbox import SandboxDevice
    from cua.devices.sandbox.device import app_of, route_of

    with SandboxDevice(seed=0) as device:
        def today() -> "Observation":
            return dataclasses.replace(today_web_observe(device.web), app=app_of(route_of(device.page.url)))

        contact = device.world.state["conversations"][0]["contact_id"]
        floor = frame_floor(device.web)
        for route in (f"/messages/{contact}", "/contacts", "/gallery"):
            device.navigate(route)
            if route.startswith("/messages/"):
                device.page.focus("#msg")
            _compare_observe(f"sandbox {route.split('/')[1]}", today, device.observe, rounds, floor)


#: Backend name -> bench function(rounds). Other backends add theirs here.
BENCHES: dict[str, Callable[[int], None]] = {
    "android": bench_android,
    "desktop": bench_desktop,
    "vnc": bench_vnc,
    "web": bench_web,
    "sandbox": bench_sandbox,
}


def main(argv: list[str]) -> None:
    rounds = int(argv[0]) if argv and argv[0].isdigit() else DEFAULT_ROUNDS
    names = [a for a in argv if not a.isdigit()] or list(BENCHES)
    for name in names:
        if name not in BENCHES:
            raise SystemExit(f"unknown backend {name!r}; known: {', '.join(BENCHES)}")
        BENCHES[name](rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
