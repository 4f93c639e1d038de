"""Cross-cutting device behaviour as wrappers (Gymnasium style), not flags on backends.

:class:`DeviceWrapper` forwards everything to the wrapped device; subclasses override what they change.
:class:`WaitStable` waits for the screen to settle after each action. (Step and time budgets live in the agent
loop, :func:`cua.agent.run_episode`; the safety gate is :class:`cua.devices.safety.SafetyGate`.)
"""

from __future__ import annotations

import time
from typing import Any

from cua.actions import Action
from cua.device import ActionResult, ClosesOnExit, Device
from cua.observation import Observation


class DeviceWrapper(ClosesOnExit):
    """Forwards the Device protocol (and unknown attributes) to ``self.device``."""

    def __init__(self, device: Device) -> None:
        self.device = device

    @property
    def spec(self) -> str:
        return self.device.spec

    @property
    def unwrapped(self) -> Device:
        inner: Any = self.device
        while isinstance(inner, DeviceWrapper):
            inner = inner.device
        return inner

    def observe(self, *, timeout: float | None = None) -> Observation:
        return self.device.observe(timeout=timeout)

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        return self.device.execute(action, timeout=timeout)

    def reset(self, *, seed: int | None = None) -> None:
        self.device.reset(seed=seed)

    def close(self) -> None:
        self.device.close()

    def __getattr__(self, name: str) -> Any:
        if name == "device":  # not yet set during unpickling / construction
            raise AttributeError(name)
        return getattr(self.device, name)


DEFAULT_SETTLE_INTERVAL = 0.1
DEFAULT_SETTLE_MAX_WAIT = 2.0


class WaitStable(DeviceWrapper):
    """After each ``execute``, poll screenshots until two in a row are byte-identical, or ``max_wait`` passes.

    The last frame taken is served by the next ``observe`` (no extra screenshot), so the policy sees the settled
    screen. Byte equality of PNGs suits deterministic encoders (all backends here); a screen that never settles
    (an animation) costs ``max_wait`` seconds per step. ``info["settle"]`` on the ActionResult gives the polls
    and seconds spent. Each poll uses the ``timeout`` passed to ``execute``.
    """

    def __init__(
        self, device: Device, *, interval: float = DEFAULT_SETTLE_INTERVAL, max_wait: float = DEFAULT_SETTLE_MAX_WAIT,
    ) -> None:
        super().__init__(device)
        self.interval = interval
        self.max_wait = max_wait
        self._pending: Observation | None = None

    def observe(self, *, timeout: float | None = None) -> Observation:
        if self._pending is not None:
            obs, self._pending = self._pending, None
            return obs
        return self.device.observe(timeout=timeout)

    def execute(self, action: Action, *, timeout: float | None = None) -> ActionResult:
        self._pending = None
        result = self.device.execute(action, timeout=timeout)
        start = time.monotonic()
        previous = self.device.observe(timeout=timeout)
        polls = 1
        while time.monotonic() - start < self.max_wait:
            time.sleep(self.interval)
            current = self.device.observe(timeout=timeout)
            polls += 1
            if current.png == previous.png:
                previous = current
                break
            previous = current
        self._pending = previous
        settle = {"polls": polls, "seconds": round(time.monotonic() - start, 4)}
        return ActionResult(output=result.output, elapsed=result.elapsed, info={**result.info, "settle": settle})

    def reset(self, *, seed: int | None = None) -> None:
        self._pending = None
        self.device.reset(seed=seed)
