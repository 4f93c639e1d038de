"""Sandbox tasks solved through the desktop backend: spec ``sandbox+desktop:DISPLAY``, the sandbox phone app in a
Chromium kiosk window on a running X display (here an Xvfb with a window manager, openbox, which makes the
kiosk window full-screen; ``tests/eval/test_live_sandbox_composed.py`` covers the private Xvfb without one).

Input and screenshots go through the desktop device (XTest clicks and typing, mss frames); elements, URL and
navigation come from the same Chromium window over its remote-debugging port
(:class:`cua.devices.sandbox.composed.ComposedSandbox`). The screen is 1080x2400 with the page at CSS 360x800,
scale 3, so element bounds and the sandbox experts' coordinates are screen pixels.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support_x11 import start_xvfb

from cua.agent import run_episode
from cua.devices.registry import make_device
from cua.policy import make_policy
from cua.task import get_task

WIDTH, HEIGHT = 1080, 2400


@pytest.mark.slow
@pytest.mark.parametrize("task_id,seed", [("notes_create", 1), ("settings_toggle", 2), ("notes_delete", 3)])
def test_oracle_solves_sandbox_task_through_the_desktop(task_id: str, seed: int, tmp_path: Path) -> None:
    server = start_xvfb(WIDTH, HEIGHT)
    try:
        task = get_task(task_id).from_seed(seed)
        with make_device(f"sandbox+desktop{server.display}", seed=seed) as device:
            assert device.spec == f"sandbox+desktop{server.display}"
            obs = device.observe()
            assert (obs.width, obs.height) == (WIDTH, HEIGHT) and obs.elements, "the phone app is not on screen"
            assert device.page.evaluate("() => [innerWidth, innerHeight, devicePixelRatio]") == [360, 800, 3]
            task.initialize(device)
            traj = run_episode(device, make_policy("oracle", task=task), task.goal, task=task, out_dir=tmp_path / "t")
    finally:
        server.stop()
    assert traj.status == "terminated", [s.to_dict() for s in traj.steps][-3:]
    assert traj.success == 1.0, f"{task.goal}: {[s.action.describe() for s in traj.steps if s.action]}"
    assert any(s.action is not None and s.action.kind in ("click", "type", "long_press") for s in traj.steps)
