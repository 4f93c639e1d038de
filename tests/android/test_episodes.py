"""Sandbox tasks solved by the oracle THROUGH the Android backend, and episodes whose phone or server dies.

Screen, elements and input all travel over the real adb server and the device-side endpoint. The task's
checker reads the sandbox world behind the endpoint; ``navigate`` (task set-up, like AndroidWorld arranging
state over adb) and the page URL (the experts read the route from it) come from the sandbox device directly.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from cua.actions import Home
from cua.agent import run_episode
from cua.devices.android import AndroidDevice
from cua.devices.wrappers import DeviceWrapper
from cua.observation import Observation
from cua.policy import make_policy
from cua.task import get_task

from .adb_endpoint import AdbEndpoint


class SandboxPhone(DeviceWrapper):
    """An AndroidDevice whose phone is the endpoint's sandbox: adds ``world``, ``navigate`` and the page URL."""

    def __init__(self, device: AndroidDevice, endpoint: AdbEndpoint) -> None:
        super().__init__(device)
        self.endpoint = endpoint
        self.world = endpoint.screen.call(lambda s: s.world)

    def navigate(self, route: str) -> None:
        self.endpoint.screen.call(lambda s: s.navigate(route))

    def observe(self, *, timeout: float | None = None) -> Observation:
        obs = self.device.observe(timeout=timeout)
        return dataclasses.replace(obs, url=self.endpoint.screen.call(lambda s: s.page.url))


def input_commands(endpoint: AdbEndpoint) -> list[tuple[str, ...]]:
    return [argv for argv in endpoint.log if argv[0] in ("input", "am", "monkey")]


@pytest.mark.slow
@pytest.mark.parametrize("task_id,seed", [("notes_create", 1), ("settings_toggle", 2), ("contacts_add", 3)])
def test_oracle_solves_sandbox_task_through_android(fresh, task_id: str, seed: int, tmp_path: Path) -> None:
    server, endpoint, phone = fresh
    endpoint.screen.call(lambda s: s.reset(seed=seed))
    task = get_task(task_id).from_seed(seed)
    device = SandboxPhone(phone, endpoint)
    task.initialize(device)
    traj = run_episode(device, make_policy("oracle", task=task), task.goal, task=task, out_dir=tmp_path / "t")
    assert traj.status == "terminated", [s.to_dict() for s in traj.steps][-3:]
    assert traj.success == 1.0, f"{task.goal}: {[s.action.describe() for s in traj.steps if s.action]}"
    assert any(argv[:2] in (("input", "tap"), ("input", "text")) for argv in endpoint.log)


@pytest.mark.parametrize("fault", ["server", "endpoint"])
def test_infrastructure_death_mid_episode_keeps_the_trajectory(fresh, fault: str, tmp_path: Path) -> None:
    server, endpoint, phone = fresh
    task = get_task("notes_create").from_seed(1)
    device = SandboxPhone(phone, endpoint)
    task.initialize(device)
    sent: list[int] = []

    def kill_after_two(step, trajectory) -> None:
        if len(trajectory.steps) == 2:
            sent.append(len(input_commands(endpoint)))
            server.kill() if fault == "server" else endpoint.stop()

    traj = run_episode(device, make_policy("oracle", task=task), task.goal, task=task,
                       out_dir=tmp_path / "t", on_step=kill_after_two)
    # A dead link shows as a refused connection, or (the killed server's socket not yet closed on a loaded
    # machine) as the next call's timeout: either is an infrastructure error, never a task failure.
    assert traj.status == "infra_error" and (traj.error or "").startswith(("DeviceDisconnected", "DeviceTimeout"))
    assert len(traj.steps) >= 2 and (tmp_path / "t").exists()
    assert len(input_commands(endpoint)) == sent[0], "an input was retried or sent after the phone died"


@pytest.mark.realdevice
def test_real_device_observe_and_home() -> None:
    serial = os.environ["CUA_ANDROID_SERIAL"]
    with AndroidDevice(serial, elements=True) as device:
        obs = device.observe()
        assert obs.image.size == (device.width, device.height)
        device.execute(Home())
        assert device.list_apps()
