"""EnvPool: N live devices in worker processes (or Ray actors), each stepped from the parent through a proxy.

Design (the contract is ``pool_api`` in the docs; see also DESIGN.md section 8):

- A worker owns ONE device (its own Chromium, adb connection or X display), built from a spec by the device
  registry, plus the task it is running. Policies stay in the parent: model weights are never copied into a
  worker, and one model in the parent (or a served endpoint) can serve every slot. The parent sees a worker
  through :class:`PooledDevice`, which implements :class:`cua.device.Device`, so the one agent loop
  (:func:`cua.agent.run_episode`) runs unchanged. Observations travel as PNG bytes (pickled), actions as cua
  Action objects.
- ``PooledEnv.start(task, seed)`` runs ``device.reset(seed)`` + ``task.initialize(device)`` IN the worker (a
  sandbox task arranges ``device.world``, which only the worker has) and returns a parent-side copy of the task
  (same class, id, seed, params, goal; the oracle's ``expert`` works on it) whose ``is_successful`` and
  ``tear_down`` run in the worker against the real device.
- Failure semantics: a dead worker -> :class:`~cua.errors.DeviceDisconnected`; a call past its budget ->
  :class:`~cua.errors.DeviceTimeout` and the worker is killed. ``run_episode`` turns both into an
  ``infra_error`` episode, never a task failure; ``restart()`` brings a fresh worker.
- Cleanup: every process a worker starts carries an environment tag (:mod:`cua.devices.pool_worker`);
  restart and close kill the worker and sweep its tag, so no Chromium, Xvfb or driver survives, including on
  Ctrl-C or an exception inside ``with EnvPool(...)``.

Backends: ``process`` (multiprocessing "spawn": Playwright and threads do not survive ``fork``) and ``ray``
(actors; optional extra ``ray``; :mod:`cua.devices.pool_ray`). :meth:`EnvPool.run` plays a list of jobs across
the slots with retries of infrastructure failures (:mod:`cua.devices.pool_run`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterable

from cua.device import ClosesOnExit
from cua.devices.pool_proxy import PooledDevice, PooledTools, remote_task
from cua.devices.pool_run import EpisodeResult, Job, run_jobs
from cua.devices.pool_worker import kill_tagged, process_main
from cua.errors import ConfigError, DeviceDisconnected, DeviceTimeout
from cua.threads import map_in_threads

if TYPE_CHECKING:  # pragma: no cover
    from cua.policy import Policy
    from cua.task import Task

BACKENDS = ("process", "ray")
#: Extra seconds a forwarded call with its own ``timeout`` gets, so the device's timeout fires first.
GRACE = 5.0
#: Seconds ``close`` waits for a worker to close its device before killing it.
CLOSE_TIMEOUT = 10.0


class ProcessWorker:
    """One spawned worker process serving :class:`~cua.devices.pool_worker.WorkerState` calls over a pipe."""

    def __init__(self, spec: str, options: dict[str, Any], tag: str, start_timeout: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.tag = tag
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=process_main, args=(child, spec, options, tag, os.getpid()),
                                name=f"cua-pool-{tag}", daemon=True)
        self.proc.start()
        child.close()
        try:
            self.info: dict[str, Any] = self._reply("boot", start_timeout)
        except BaseException:  # Ctrl-C while booting too
            self.kill()
            raise

    @property
    def alive(self) -> bool:
        return self.proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    def call(self, method: str, args: tuple, kwargs: dict[str, Any], budget: float) -> Any:
        try:
            self.conn.send((method, args, kwargs))
        except (OSError, ValueError):
            self.kill()
            raise DeviceDisconnected(f"{method}: pool worker {self.tag} is gone") from None
        return self._reply(method, budget)

    def _reply(self, method: str, budget: float) -> Any:
        try:
            ready = self.conn.poll(budget)
            if not ready:
                self.kill()
                raise DeviceTimeout(f"{method}: pool worker {self.tag} did not answer within {budget:g} s; killed")
            status, value = self.conn.recv()
        except (EOFError, OSError, ValueError):
            code = self.proc.exitcode
            self.kill()
            raise DeviceDisconnected(f"{method}: pool worker {self.tag} died (exit code {code})") from None
        if status == "err":
            if method == "boot":
                self.kill()
            raise value
        return value

    def kill(self) -> None:
        """SIGKILL the worker and everything carrying its tag (idempotent)."""
        if self.proc.pid is not None and self.proc.exitcode is None:
            self.proc.kill()  # through multiprocessing, which reaps its own child
            self.proc.join(timeout=5.0)
        kill_tagged(self.tag)
        self.conn.close()

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Ask the worker to close its device and exit; kill it (and sweep its tag) in any case."""
        if self.proc.is_alive():
            try:
                self.conn.send(("close", (), {}))
                if self.conn.poll(timeout):
                    self.conn.recv()
                self.proc.join(timeout=timeout)
            except (OSError, EOFError, ValueError):
                pass
        self.kill()


class PooledEnv:
    """One slot of the pool: a worker, its device proxy (:attr:`device`), ``start``/``restart``/``alive``."""

    def __init__(self, pool: "EnvPool", index: int) -> None:
        self.pool = pool
        self.index = index
        self.device = PooledDevice(self)
        self.info: dict[str, Any] = {}
        self._worker: Any = None
        self._generation = 0
        self._lock = threading.RLock()

    def _spawn(self) -> None:
        self._generation += 1
        tag = f"{self.pool.id}/{self.index}/{self._generation}"
        worker = self.pool._new_worker(tag)
        if self.pool.closed:  # closed while this worker booted: it must not outlive the pool
            worker.close()
            raise ConfigError("the pool is closed")
        self._worker = worker
        self.info = dict(worker.info)

    @property
    def alive(self) -> bool:
        worker = self._worker
        return worker is not None and worker.alive

    @property
    def pid(self) -> int | None:
        """The worker's process id (a Ray actor's on its node), None when there is no worker."""
        worker = self._worker
        return None if worker is None else worker.pid

    @property
    def tag(self) -> str | None:
        """The environment tag every process of the current worker carries (see :mod:`.pool_worker`)."""
        worker = self._worker
        return None if worker is None else worker.tag

    def call(self, method: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run ``method`` in the worker within the call budget (``timeout`` + grace when longer)."""
        if timeout is not None:
            kwargs["timeout"] = timeout
        budget = self.pool.call_timeout if timeout is None else max(self.pool.call_timeout, timeout + GRACE)
        with self._lock:
            worker = self._worker
            if worker is None or not worker.alive:
                raise DeviceDisconnected(f"{method}: pool slot {self.index} has no live worker (restart() it)")
            return worker.call(method, args, kwargs, budget)

    def start(self, task: "str | Task", seed: int | None = None) -> "Task":
        """Reset the device to the task's seed and initialise the task in the worker; the parent-side task.

        ``task`` is a task id (built with ``from_seed(seed)``, seed 0 by default) or a Task (sent to the worker;
        ``seed``, if given, is the device's reset seed, as in ``run_task``). Raises DeviceError when the worker
        fails (restart, then retry).
        """
        started = self.call("start", task, seed, timeout=None)
        return remote_task(started, self)

    def restart(self) -> None:
        """Kill the worker (and all it started) and spawn a fresh one."""
        with self._lock:
            if self.pool.closed:
                raise ConfigError("the pool is closed")
            self.kill()
            self._spawn()

    def kill(self) -> None:
        """Kill the worker and all it started, without a new one (``restart`` brings one)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()

    def close(self) -> None:
        """Close the worker's device and stop it (no lock: a hung call must not block the shutdown)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()


class EnvPool(ClosesOnExit):
    """``size`` live devices named by ``spec``, one per worker; see the module docstring and ``pool_api``.

    ``call_timeout`` bounds every forwarded call (a call past it kills the worker); ``start_timeout`` bounds a
    worker's boot. Ray: ``ray_address`` is passed to ``ray.init`` when Ray is not initialised yet (the pool
    then shuts Ray down on close); ``ray_options`` go to the actor's ``.options()`` (default ``num_cpus=1``).
    """

    def __init__(
        self,
        spec: str = "sandbox",
        *,
        size: int = 1,
        backend: str = "process",
        device_options: dict[str, Any] | None = None,
        call_timeout: float = 60.0,
        start_timeout: float = 120.0,
        ray_address: str | None = None,
        ray_options: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(size, int) or size < 1:
            raise ConfigError(f"pool size must be a positive int, got {size!r}")
        if backend not in BACKENDS:
            raise ConfigError(f"unknown pool backend {backend!r}; valid: {', '.join(BACKENDS)}")
        if call_timeout <= 0 or start_timeout <= 0:
            raise ConfigError("call_timeout and start_timeout must be positive")
        from cua.devices.registry import parse_spec

        parse_spec(spec)  # a bad spec fails here, not in every worker
        self.spec, self.backend = spec, backend
        self.device_options = dict(device_options or {})
        self.call_timeout, self.start_timeout = float(call_timeout), float(start_timeout)
        self.id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.closed = False
        self._ray: Any = None
        if backend == "ray":
            from cua.devices.pool_ray import RayBackend

            self._ray = RayBackend(address=ray_address, actor_options=ray_options)
        self.slots = [PooledEnv(self, i) for i in range(size)]
        try:
            self._boot_all()
        except BaseException:
            self.close()
            raise

    @property
    def size(self) -> int:
        return len(self.slots)

    def _new_worker(self, tag: str) -> Any:
        if self._ray is not None:
            return self._ray.worker(self.spec, self.device_options, tag, self.start_timeout)
        return ProcessWorker(self.spec, self.device_options, tag, self.start_timeout)

    def _boot_all(self) -> None:
        """Spawn every slot's worker in parallel; re-raise the first failure."""
        map_in_threads(lambda env: env._spawn(), self.slots, name="cua-pool-boot")

    def run(
        self,
        jobs: Iterable[Job | tuple[Any, ...]],
        make_policy: "Callable[[Task], Policy]",
        *,
        on_result: Callable[[EpisodeResult], None] | None = None,
        max_retries: int = 1,
        **episode_kwargs: Any,
    ) -> list[EpisodeResult]:
        """Play ``jobs`` across the slots; see :func:`cua.devices.pool_run.run_jobs`."""
        return run_jobs(self, jobs, make_policy, on_result=on_result, max_retries=max_retries, **episode_kwargs)

    def close(self) -> None:
        """Stop every worker and everything it started (idempotent); workers close in parallel."""
        if self.closed:
            return
        self.closed = True
        threads = [threading.Thread(target=env.close, daemon=True) for env in self.slots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=CLOSE_TIMEOUT + 10.0)
        kill_tagged(self.id + "/", prefix=True)
        if self._ray is not None:
            self._ray.shutdown()

    def __repr__(self) -> str:
        return f"EnvPool({self.spec!r}, size={self.size}, backend={self.backend!r})"



__all__ = ["EnvPool", "EpisodeResult", "Job", "PooledDevice", "PooledEnv", "PooledTools", "ProcessWorker",
           "remote_task"]
