"""The Device protocol every backend implements structurally, plus the result of executing an action.

Contract (Gymnasium-like, real-time): the device does not pause between calls. ``observe`` returns the
current screen; ``execute`` performs one action and returns once the input is delivered (not once the UI has
settled: wrap with ``WaitStable`` for that); ``reset(seed=...)`` restores a known state where the backend can;
``close`` is idempotent. Every I/O call finishes within ``timeout`` seconds (default: the backend's
``DEFAULT_TIMEOUT``) or raises :class:`~cua.errors.DeviceTimeout`. Library errors are translated into
:mod:`cua.errors` at the backend's edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from cua.actions import Action
from cua.observation import Observation

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, kw_only=True)
class ActionResult:
    """What executing an action produced: tool output (for tool calls) and timing.

    ``redacted``: the action's typed text was a secret (a password field, as the safety gate saw it); whoever
    records the step keeps it out of every record (:meth:`cua.trajectory.Step.record_result`). The older form
    ``info={"redacted": True}`` still sets it.
    """

    output: Any = None
    elapsed: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    redacted: bool = False

    def __post_init__(self) -> None:
        if not self.redacted and self.info.get("redacted") is True:
            object.__setattr__(self, "redacted", True)


_Self = TypeVar("_Self", bound="ClosesOnExit")


class ClosesOnExit:
    """``with thing: ...`` closes it on exit: the context-manager half of :class:`Device`, shared by backends."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@runtime_checkable
class Device(Protocol):
    """A screen that can be observed and acted on."""

    spec: str

    def observe(self, *, timeout: float | None = None) -> Observation: ...

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult: ...

    def reset(self, *, seed: int | None = None) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> "Device": ...

    def __exit__(self, *exc: object) -> None: ...
