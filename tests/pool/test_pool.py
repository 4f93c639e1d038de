"""EnvPool with process workers on the sandbox phone: oracle episodes through the proxies, a worker killed
mid-episode (infra_error, restart, retry), a worker hung past its budget, and no process left after close,
after an exception and after Ctrl-C (counted by the workers' environment tag and by pid)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from cua.actions import ToolCall
from cua.agent import run_episode
from cua.devices.pool import EnvPool, Job, PooledEnv
from cua.devices.pool_run import play
from cua.devices.pool_worker import tagged_processes
from cua.devices.sandbox.tasks.messages import MessagesSend
from cua.errors import ConfigError, DeviceDisconnected, DeviceTimeout
from cua.policies.oracle import OraclePolicy
from cua.task import get_task


def oracle(task):  # noqa: ANN001, ANN201 - make_policy callback
    return OraclePolicy(task)


def pool_processes(pool: EnvPool) -> list[psutil.Process]:
    """Every process of the pool's workers: the worker processes and all they started (by tag)."""
    procs = tagged_processes(pool.id + "/", prefix=True)
    return procs + [psutil.Process(env.pid) for env in pool.slots if env.pid and psutil.pid_exists(env.pid)]


def gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_running(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def pool() -> Iterator[EnvPool]:
    with EnvPool("sandbox", size=2, call_timeout=60.0) as p:
        yield p
    assert not tagged_processes(p.id + "/", prefix=True)


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="backend"):
        EnvPool("sandbox", backend="threads")
    with pytest.raises(ConfigError, match="size"):
        EnvPool("sandbox", size=0)
    with pytest.raises(ConfigError, match="unknown device spec"):
        EnvPool("toaster")


def test_start_runs_the_task_in_the_worker_and_the_oracle_solves_it(pool: EnvPool, tmp_path: Path) -> None:
    env = pool.slots[0]
    assert len(pool.slots) == 2 and env.alive
    task = env.start("messages_send", seed=3)
    local = get_task("messages_send").from_seed(3)
    assert isinstance(task, MessagesSend) and (task.id, task.seed, task.params, task.goal, task.max_steps) == (
        local.id, 3, local.params, local.goal, local.max_steps)
    assert env.device.spec == "sandbox" and (env.device.width, env.device.height) == (1080, 2400)
    assert "search_contacts" in env.device.tools and env.device.simulated  # a tool call runs in the worker:
    found = env.device.execute(ToolCall(name="search_contacts", arguments={"query": task.params["name"]})).output
    assert [c["name"] for c in found] == [task.params["name"]]
    assert task.is_successful(env.device) == 0.0  # judged in the worker, before anything was sent
    plain = pickle.loads(pickle.dumps(task))  # pickles as the task's own class, without the worker link
    assert type(plain) is MessagesSend and plain.params == task.params
    traj = run_episode(env.device, oracle(task), task=task, out_dir=tmp_path / "ep")
    assert traj.status == "terminated" and traj.success == 1.0
    assert (tmp_path / "ep" / "steps.jsonl").exists()
    # A Task instance travels too (its own params); start reset the world, so it is not solved yet.
    again = env.start(get_task("messages_send").from_seed(7))
    assert again.params == get_task("messages_send").from_seed(7).params and again.seed == 7
    assert again.is_successful(env.device) == 0.0


def test_run_plays_jobs_on_every_slot(pool: EnvPool, tmp_path: Path) -> None:
    jobs = [Job(t, s, tmp_path / f"{t}-{s}") for t, s in
            [("apps_open", 0), ("notes_create", 1), ("settings_toggle", 2), ("contacts_lookup", 0)]]
    seen = []
    results = pool.run(jobs, oracle, on_result=seen.append)
    assert [r.job for r in results] == jobs and len(seen) == 4
    assert all(r.trajectory.success == 1.0 and r.attempts == 1 and not r.infra_failure for r in results)
    assert {r.slot for r in results} == {0, 1}
    assert all((job.out_dir / "steps.jsonl").exists() for job in jobs)


def _kill_at_step(env: PooledEnv, at: int = 1):  # noqa: ANN202
    """An on_step callback that SIGKILLs ``env``'s worker once, after step ``at``."""
    fired: list[int] = []

    def on_step(step, traj) -> None:  # noqa: ANN001
        if step.index == at and not fired:
            fired.append(env.pid)
            os.kill(env.pid, signal.SIGKILL)

    return on_step, fired


@pytest.mark.slow
def test_worker_killed_mid_episode_is_infra_error_then_restarted_and_retried(pool: EnvPool) -> None:
    env = pool.slots[0]
    on_step, fired = _kill_at_step(env)
    old_tag = env.tag
    result = play(env, Job("notes_create", 1), oracle, 1, {"on_step": on_step})
    assert fired and result.attempts == 2 and not result.infra_failure
    assert result.trajectory.status == "terminated" and result.trajectory.success == 1.0
    assert env.alive and env.pid != fired[0] and env.tag != old_tag
    assert gone(fired) and not tagged_processes(old_tag)  # the dead worker's Chromium went with it


def test_device_timeout_carries_the_budget(pool: EnvPool) -> None:
    env = pool.slots[1]
    os.kill(env.pid, signal.SIGSTOP)
    pool.call_timeout = 2.0
    try:
        with pytest.raises(DeviceTimeout, match="within 2 s"):
            env.device.observe()
    finally:
        pool.call_timeout = 60.0
    assert not env.alive  # left down: the next test's first attempt restarts it


@pytest.mark.slow
def test_retries_are_bounded_then_reported_as_infrastructure_failure(pool: EnvPool) -> None:
    """Attempt 1: the worker process is killed; attempt 2: only its browser dies (the device's death, the worker
    lives on). Both are infrastructure failures; after max_retries=1 the job is an infra failure."""
    env = pool.slots[1]
    killed: list[tuple[int, list[str]]] = []

    def kill_every_time(step, traj) -> None:  # noqa: ANN001
        if step.error_kind == "device":  # the step that found the worker or its device dead
            return
        if not killed:
            killed.append((env.pid, ["worker"]))
            os.kill(env.pid, signal.SIGKILL)
        else:
            browser = [p for p in tagged_processes(env.tag) if p.name().startswith("chrom")]
            killed.append((env.pid, [p.name() for p in browser]))
            for proc in browser:
                proc.kill()

    result = play(env, Job("apps_open", 1), oracle, 1, {"on_step": kill_every_time})
    assert result.infra_failure and result.attempts == 2 and result.success is None
    assert result.trajectory.status == "infra_error" and "DeviceDisconnected" in result.trajectory.error
    assert len(killed) == 2 and killed[0][0] != killed[1][0] and "chromium" in killed[1][1], killed
    assert not env.alive  # an infra error kills the worker; the slot's next attempt starts a fresh one


@pytest.mark.slow
def test_worker_hung_past_its_budget_is_killed(pool: EnvPool) -> None:
    env = pool.slots[0]
    task = env.start("apps_open", seed=0)
    pid, tag = env.pid, env.tag
    os.kill(pid, signal.SIGSTOP)  # a real hang: the worker stops answering
    pool.call_timeout = 4.0
    try:
        t0 = time.monotonic()
        traj = run_episode(env.device, oracle(task), task=task)
        elapsed = time.monotonic() - t0
    finally:
        pool.call_timeout = 60.0
    assert traj.status == "infra_error" and "DeviceTimeout" in traj.error and 4.0 <= elapsed < 15.0
    assert not env.alive and gone([pid]) and not tagged_processes(tag)
    with pytest.raises(DeviceDisconnected):
        env.device.observe()
    env.restart()
    assert env.start("apps_open", seed=0).is_successful(env.device) == 0.0


def test_no_process_left_after_an_exception_in_the_with_block() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with EnvPool("sandbox", size=1) as p:
            procs = pool_processes(p)
            assert any("chrom" in proc.name().lower() for proc in procs), [proc.name() for proc in procs]
            raise RuntimeError("boom")
    assert p.closed and gone([proc.pid for proc in procs]) and not tagged_processes(p.id + "/", prefix=True)


def test_boot_failure_raises_and_leaves_nothing() -> None:
    with pytest.raises(TypeError, match="bogus"):
        EnvPool("sandbox", size=1, device_options={"bogus": 1})


PARENT_SCRIPT = textwrap.dedent("""
    import sys, time
    from cua.devices.pool import EnvPool
    if __name__ == "__main__":
        with EnvPool("sandbox", size=1) as pool:
            print(pool.id, pool.slots[0].pid, flush=True)
            time.sleep(120)
""")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_parent_interrupted_or_killed_leaves_nothing(tmp_path: Path, sig: int) -> None:
    """Ctrl-C: the parent's with-block closes the pool. kill -9: no code of the parent runs; each worker sees
    its parent gone (its pipe closes; a busy worker's watchdog sees the new parent id) and ends its device."""
    script = tmp_path / "parent.py"
    script.write_text(PARENT_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pool_id, worker_pid = proc.stdout.readline().split()
        assert tagged_processes(pool_id + "/", prefix=True)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert gone([int(worker_pid)], timeout=15.0)
    deadline = time.monotonic() + 10.0
    while tagged_processes(pool_id + "/", prefix=True) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not tagged_processes(pool_id + "/", prefix=True)
