"""The Ray backend of :class:`~cua.devices.pool.EnvPool`: each worker is a Ray actor owning one device.

The actor wraps the same :class:`~cua.devices.pool_worker.WorkerState` as a process worker and answers the
same ``call(method, args, kwargs)``, so the parent-side proxy, timeouts and retries are shared. Ray runs a
(default, non-async) actor's methods one at a time in its main thread, which Playwright's sync API needs.

Failures: ``ray.get(..., timeout=budget)`` past the budget -> :class:`~cua.errors.DeviceTimeout`, and the
actor is killed; a dead actor (``RayActorError``) -> :class:`~cua.errors.DeviceDisconnected`. Killing an actor
on this machine also kills everything its device started (by the worker's tag, as for process workers); on
another node, ``ray.kill`` ends the actor and Playwright's driver, losing its parent, closes its browser.

Ray is an optional extra (``pip install 'cua[ray]'``); the cluster is Ray's own (``ray start``, or a local one
made by ``ray.init``): cua adds no cluster code. Docs: https://docs.ray.io/en/latest/ray-core/actors.html
"""

from __future__ import annotations

import os
from typing import Any

from cua.devices.pool_worker import WorkerState, kill_tagged
from cua.errors import ConfigError, DeviceDisconnected, DeviceTimeout

#: Seconds a graceful ``close`` waits for the actor to close its device.
CLOSE_TIMEOUT = 10.0
#: Seconds to wait for a killed actor's process to exit before it is SIGKILLed.
EXIT_WAIT = 5.0


class _Actor:
    """Runs in the actor process: builds the device on the first call (so a boot error comes back typed)."""

    def __init__(self, spec: str, options: dict[str, Any], tag: str) -> None:
        self.args = (spec, options, tag)
        self.state: WorkerState | None = None

    def boot(self) -> tuple[str, Any]:
        import ray

        try:
            self.state = WorkerState(*self.args)
        except Exception as exc:
            from cua.devices.pool_worker import _picklable

            return "err", _picklable(exc)
        info = self.state.do_info()
        info["_pid"] = os.getpid()
        info["_node"] = ray.get_runtime_context().get_node_id()
        return "ok", info

    def call(self, method: str, args: tuple, kwargs: dict[str, Any]) -> tuple[str, Any]:
        assert self.state is not None
        return self.state.call(method, args, kwargs)

    def close(self) -> None:
        if self.state is not None:
            self.state.close()
            self.state = None


class RayBackend:
    """Starts Ray when needed (and stops it on :meth:`shutdown` if it did) and makes :class:`RayWorker` s."""

    def __init__(self, *, address: str | None = None, actor_options: dict[str, Any] | None = None) -> None:
        try:
            import ray
        except ModuleNotFoundError:
            raise ConfigError("the ray pool backend needs Ray: pip install 'cua[ray]'") from None
        self.ray = ray
        self.owns_ray = not ray.is_initialized()
        if self.owns_ray:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.actor_class = ray.remote(_Actor)
        self.actor_options = {"num_cpus": 1, **(actor_options or {})}

    def worker(self, spec: str, options: dict[str, Any], tag: str, start_timeout: float) -> "RayWorker":
        return RayWorker(self, spec, options, tag, start_timeout)

    def shutdown(self) -> None:
        if self.owns_ray and self.ray.is_initialized():
            self.ray.shutdown()


class RayWorker:
    """One actor, with the interface of :class:`cua.devices.pool.ProcessWorker`."""

    def __init__(self, backend: RayBackend, spec: str, options: dict[str, Any], tag: str,
                 start_timeout: float) -> None:
        self.ray = backend.ray
        self.tag = tag
        self.dead = False
        self.pid: int | None = None
        self.actor = backend.actor_class.options(**backend.actor_options).remote(spec, options, tag)
        info = self._get(self.actor.boot.remote(), "boot", start_timeout, kill_on_error=True)
        self.pid, self.node = info.pop("_pid"), info.pop("_node")
        self.info: dict[str, Any] = info

    @property
    def alive(self) -> bool:
        return not self.dead

    def call(self, method: str, args: tuple, kwargs: dict[str, Any], budget: float) -> Any:
        if self.dead:
            raise DeviceDisconnected(f"{method}: pool worker {self.tag} is gone")
        return self._get(self.actor.call.remote(method, args, kwargs), method, budget)

    def _get(self, ref: Any, method: str, budget: float, *, kill_on_error: bool = False) -> Any:
        from ray.exceptions import GetTimeoutError, RayActorError

        try:
            status, value = self.ray.get(ref, timeout=budget)
        except GetTimeoutError:
            self.kill()
            raise DeviceTimeout(f"{method}: pool worker {self.tag} did not answer within {budget:g} s; killed") from None
        except RayActorError as exc:
            self.kill()
            raise DeviceDisconnected(f"{method}: pool worker {self.tag} died ({type(exc).__name__})") from None
        if status == "err":
            if kill_on_error:
                self.kill()
            raise value
        return value

    def _local(self) -> bool:
        node = getattr(self, "node", None)
        return node is not None and node == self.ray.get_runtime_context().get_node_id()

    def kill(self, *, wait: bool = False) -> None:
        """Kill the actor; on this machine also its process and all it started (idempotent).

        ``wait``: give Ray a moment to end its worker process itself (after a graceful close).
        """
        self.dead = True
        try:
            self.ray.kill(self.actor, no_restart=True)
        except Exception:  # already dead, or Ray is shutting down
            pass
        pids: tuple[int, ...] = (self.pid,) if self._local() and self.pid is not None else ()
        if wait and self._local() and self.pid is not None:
            import psutil

            try:  # let Ray end its worker first (a SIGKILL before that is logged as a crash)
                psutil.Process(self.pid).wait(timeout=EXIT_WAIT)
                pids = ()
            except psutil.TimeoutExpired:
                pass
            except psutil.Error:
                pids = ()
        # Tags are unique: sweeping this machine is harmless when the actor ran elsewhere.
        kill_tagged(self.tag, pids=pids)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close the device in the actor, then kill the actor."""
        if not self.dead:
            try:
                self.ray.get(self.actor.close.remote(), timeout=timeout)
            except Exception:  # a hung or dead actor is killed below
                pass
        self.kill(wait=True)
