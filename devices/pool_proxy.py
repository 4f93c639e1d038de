"""The parent-side proxies of a pool slot (:mod:`cua.devices.pool`): the Device proxy, its tools' specs, and
the parent-side copy of a started task whose checks run in the worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cua.device import ActionResult, ClosesOnExit

if TYPE_CHECKING:  # pragma: no cover
    from cua.actions import Action
    from cua.devices.pool import PooledEnv
    from cua.observation import Observation
    from cua.task import Task


class PooledDevice(ClosesOnExit):
    """The parent-side Device proxy of one slot: every call runs in the worker (see the module docstring).

    ``width``/``height``/``scale``/``simulated`` are copied from the worker's device when it has them, and
    ``tools`` lists its tools' specs (:class:`PooledTools`).
    ``close()`` does nothing: the pool owns the worker (close the pool, or restart the slot).
    """

    def __init__(self, env: "PooledEnv") -> None:
        self._env = env

    @property
    def spec(self) -> str:
        return str(self._env.info.get("spec", self._env.pool.spec))

    def __getattr__(self, name: str) -> Any:
        info = self.__dict__["_env"].info
        if name in ("width", "height", "scale", "simulated") and name in info:
            return info[name]
        if name == "tools" and "tool_specs" in info:
            return PooledTools(info["tool_specs"])
        raise AttributeError(name)

    def observe(self, *, timeout: float | None = None) -> "Observation":
        return self._env.call("observe", timeout=timeout)

    def execute(self, action: "Action", *, timeout: float | None = None) -> ActionResult:
        return self._env.call("execute", action, timeout=timeout)

    def reset(self, *, seed: int | None = None) -> None:
        self._env.call("reset", seed=seed)

    def close(self) -> None:
        """The pool owns the worker; nothing to do here."""

    def __repr__(self) -> str:
        return f"PooledDevice({self.spec!r}, slot={self._env.index})"


class PooledTools:
    """The specs of the worker device's tools (what a model policy is told); ``ToolCall`` actions run in the
    worker through ``execute``."""

    def __init__(self, specs: tuple[Any, ...]) -> None:
        self._specs = tuple(specs)

    def specs(self) -> list[Any]:
        return list(self._specs)

    def names(self) -> list[str]:
        return [spec.name for spec in self._specs]

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __len__(self) -> int:
        return len(self._specs)


class _RemoteTask:
    """Mixed in front of a task's own class: the checks run in the slot's worker, on the real device.

    The ``device`` argument is not used (it may be the proxy or a wrapper around it); the worker checks its own.
    """

    _pool_env: "PooledEnv"

    def initialize(self, device: Any) -> None:
        self._pool_env.call("initialize")

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return float(self._pool_env.call("is_successful", answer=answer))

    def tear_down(self, device: Any) -> None:
        self._pool_env.call("tear_down")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles (and copies) as the task's own class, without the link to the worker."""
        state = {k: v for k, v in self.__dict__.items() if k != "_pool_env"}
        return _plain_task, (type(self).__bases__[1], state)


def _plain_task(cls: type, state: dict[str, Any]) -> Any:
    task = object.__new__(cls)
    task.__dict__.update(state)
    return task


_REMOTE_CLASSES: dict[type, type] = {}


def remote_task(task: "Task", env: "PooledEnv") -> "Task":
    """A parent-side copy of ``task`` (the worker's, after initialize) whose checks run in ``env``'s worker."""
    cls = type(task)
    sub = _REMOTE_CLASSES.get(cls)
    if sub is None:
        sub = _REMOTE_CLASSES[cls] = type(f"Pooled{cls.__name__}", (_RemoteTask, cls), {"__module__": __name__})
    copy = object.__new__(sub)
    copy.__dict__.update(task.__dict__)
    copy._pool_env = env
    return copy  # type: ignore[return-value]
