"""EnvPool on Ray actors (a local Ray cluster): oracle episodes, a killed actor process -> infra_error +
retry on a fresh actor, a hung actor -> DeviceTimeout, and nothing left of the actors' browsers after close."""

from __future__ import annotations

import os
import signal
from typing import Iterator

import pytest
import ray

from cua.devices.pool import EnvPool, Job
from cua.devices.pool_run import play
from cua.devices.pool_worker import tagged_processes
from cua.errors import DeviceTimeout
from cua.policies.oracle import OraclePolicy
from .test_pool import gone

pytestmark = pytest.mark.slow  # a local Ray cluster starts in ~10-20 s on a loaded machine


def oracle(task):  # noqa: ANN001, ANN201
    return OraclePolicy(task)


@pytest.fixture(scope="module")
def ray_pool() -> Iterator[EnvPool]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with EnvPool("sandbox", size=2, backend="ray") as pool:
            yield pool
        assert not tagged_processes(pool.id + "/", prefix=True)
    finally:
        ray.shutdown()


def test_ray_pool_plays_oracle_episodes(ray_pool: EnvPool) -> None:
    assert all(env.pid != os.getpid() and env.device.spec == "sandbox" for env in ray_pool.slots)
    results = ray_pool.run([("apps_open", 2), ("messages_send", 1)], oracle)
    steps = [[(s.action, s.error, s.info) for s in r.trajectory.steps] for r in results]
    assert [r.trajectory.success for r in results] == [1.0, 1.0], steps
    assert {r.slot for r in results} == {0, 1}


def test_killed_actor_is_infra_error_then_retried(ray_pool: EnvPool) -> None:
    env = ray_pool.slots[0]
    killed: list[int] = []

    def kill_once(step, traj) -> None:  # noqa: ANN001
        if not killed:
            killed.append(env.pid)
            os.kill(env.pid, signal.SIGKILL)

    result = play(env, Job("notes_create", 0), oracle, 1, {"on_step": kill_once})
    assert killed and result.attempts == 2 and result.trajectory.success == 1.0
    assert env.pid != killed[0] and gone(killed)


def test_hung_actor_times_out_and_is_killed(ray_pool: EnvPool) -> None:
    env = ray_pool.slots[1]
    pid, tag = env.pid, env.tag
    os.kill(pid, signal.SIGSTOP)
    ray_pool.call_timeout = 3.0
    try:
        with pytest.raises(DeviceTimeout):
            env.device.observe()
    finally:
        ray_pool.call_timeout = 60.0
    assert not env.alive and gone([pid]) and not tagged_processes(tag)
