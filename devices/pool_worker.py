"""The worker side of :mod:`cua.devices.pool`: one device (and its current task) behind a call interface.

:class:`WorkerState` owns the device a worker builds from its spec and answers ``call(method, args, kwargs)``
with ``("ok", value)`` or ``("err", exception)``; both backends (a spawned process: :func:`process_main`; a
Ray actor: :mod:`cua.devices.pool_ray`) forward the same calls to it, so the two behave alike.

Every process a worker starts (Playwright's driver, Chromium, Xvfb, ...) inherits the environment variable
:data:`TAG_ENV`, set by the worker before it builds its device. :func:`kill_tagged` finds processes by that
tag, which catches what a process-group kill misses: Playwright launches Chromium in a process group of its own,
and a killed parent leaves its children re-parented to init, out of reach of a process-tree walk.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from typing import Any

from cua.errors import ConfigError, DeviceError

TAG_ENV = "CUA_POOL_TAG"
#: Seconds between the orphan watchdog's checks that the parent is still alive.
WATCHDOG_PERIOD = 1.0


def tagged_processes(tag: str, *, prefix: bool = False) -> list[Any]:
    """The live processes (``psutil.Process``) whose :data:`TAG_ENV` equals ``tag`` (or starts with it)."""
    import psutil

    found = []
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            value = proc.environ().get(TAG_ENV)
        except (psutil.Error, OSError):  # gone, a zombie, or another user's process
            continue
        if value is not None and (value.startswith(tag) if prefix else value == tag):
            found.append(proc)
    return found


def kill_tagged(tag: str, *, prefix: bool = False, pids: tuple[int, ...] = (), rounds: int = 5) -> int:
    """SIGKILL ``pids`` and every process tagged ``tag``; repeat until none is left. Returns how many died."""
    import psutil

    killed = 0
    procs: list[Any] = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.Error:
            pass
    for _ in range(rounds):
        procs += tagged_processes(tag, prefix=prefix)
        if not procs:
            break
        for proc in procs:
            try:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            except psutil.Error:
                pass
        psutil.wait_procs(procs, timeout=3.0)
        procs = []
    return killed


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a DeviceError carrying its text (the parent must get an error)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return DeviceError(f"{type(exc).__name__}: {exc}")


class WorkerState:
    """The device a worker owns, its current task, and the methods the parent may call."""

    def __init__(self, spec: str, options: dict[str, Any], tag: str) -> None:
        os.environ[TAG_ENV] = tag
        from cua.devices.registry import make_device

        self.device = make_device(spec, **options)
        self.task: Any = None

    def call(self, method: str, args: tuple, kwargs: dict[str, Any]) -> tuple[str, Any]:
        handler = getattr(self, f"do_{method}", None)
        if handler is None:
            return "err", ConfigError(f"the pool worker has no method {method!r}")
        try:
            return "ok", handler(*args, **kwargs)
        except Exception as exc:
            return "err", _picklable(exc)

    def do_info(self) -> dict[str, Any]:
        """The device's static facts the parent's proxy mirrors, with its tools' specs (the calls run here)."""
        names = ("spec", "width", "height", "scale", "simulated")
        info = {name: getattr(self.device, name) for name in names if hasattr(self.device, name)}
        tools = getattr(self.device, "tools", None)
        if tools is not None and hasattr(tools, "specs"):
            info["tool_specs"] = tuple(tools.specs())
        return info

    def do_observe(self, **kw: Any) -> Any:
        return self.device.observe(**kw)

    def do_execute(self, action: Any, **kw: Any) -> Any:
        return self.device.execute(action, **kw)

    def do_reset(self, **kw: Any) -> None:
        self.device.reset(**kw)

    def do_start(self, task: Any, seed: int | None) -> Any:
        """Build the task (an id + seed, or a Task), reset the device (to ``seed``, default the task's, as
        :func:`cua.agent.run_task`), initialise the task; return it."""
        if isinstance(task, str):
            from cua.task import get_task

            task = get_task(task).from_seed(0 if seed is None else seed)
        self.task = None
        self.device.reset(seed=task.seed if seed is None else seed)
        task.initialize(self.device)
        self.task = task
        return task

    def _current(self) -> Any:
        if self.task is None:
            raise ConfigError("no task was started on this pool worker (call PooledEnv.start first)")
        return self.task

    def do_initialize(self) -> None:
        self._current().initialize(self.device)

    def do_is_successful(self, answer: str | None = None) -> float:
        return float(self._current().is_successful(self.device, answer=answer))

    def do_tear_down(self) -> None:
        self._current().tear_down(self.device)

    def do_ping(self) -> int:
        return os.getpid()

    def close(self) -> None:
        """Close the device, then this process's shared Chromium if one was launched (no atexit in workers)."""
        try:
            self.device.close()
        finally:
            chromium = sys.modules.get("cua.devices.chromium")
            if chromium is not None:
                chromium.shutdown()


def _watch_parent(parent: int, tag: str) -> None:
    """Orphan watchdog: when the parent is gone, kill what this worker started, then exit."""
    while True:
        time.sleep(WATCHDOG_PERIOD)
        if os.getppid() != parent:
            kill_tagged(tag)
            os._exit(3)


def process_main(conn: Any, spec: str, options: dict[str, Any], tag: str, parent: int) -> None:
    """Entry point of a process worker: boot the device, then serve calls on ``conn`` until close or EOF.

    The worker leaves the parent's session (a Ctrl-C in the terminal reaches the parent only; the parent
    closes its workers), exits when its parent dies, and on the way out closes its device and kills anything
    left with its tag.
    """
    os.setsid()
    # multiprocessing ends daemonic workers of an exiting parent with SIGTERM: close the device then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=_watch_parent, args=(parent, tag), daemon=True).start()
    try:
        state = WorkerState(spec, options, tag)
    except Exception as exc:
        conn.send(("err", _picklable(exc)))
        return
    try:
        conn.send(("ok", state.do_info()))
        while True:
            try:
                method, args, kwargs = conn.recv()
            except (EOFError, OSError):
                break
            if method == "close":
                break
            conn.send(state.call(method, args, kwargs))
    finally:
        try:
            state.close()
            conn.send(("ok", None))
        except Exception:  # a broken device or a closed pipe; the sweep below still runs
            pass
        kill_tagged(tag)  # whatever the device's close left behind
