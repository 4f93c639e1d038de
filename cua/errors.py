"""The one error tree of cua. Backends translate library errors into these at their edge.

Every class has a one-line meaning; callers catch the narrowest class they can handle.
"""

from __future__ import annotations

from typing import ClassVar


class CuaError(Exception):
    """Base of every error cua raises on purpose."""


class DeviceError(CuaError):
    """A device could not do what was asked (infrastructure, not the policy's fault)."""


class DeviceTimeout(DeviceError):
    """A device call did not finish within its timeout."""


class DeviceDisconnected(DeviceError):
    """The device went away (or was never reachable): connection refused, closed, offline."""


class ScreenshotError(DeviceError):
    """A screenshot could not be taken or failed validation (undecodable, wrong size, all black)."""


class ReplayDiverged(DeviceError):
    """Re-executing a recorded episode prefix did not reproduce it (an action failed, or the screen differs)."""


class ActionError(CuaError):
    """An action is invalid; the policy's fault, recorded as an invalid step.

    ``kind`` is the step error kind a trajectory records for it (:data:`cua.trajectory.ERROR_KINDS`).
    """

    kind: ClassVar[str] = "invalid"


class ActionParseError(ActionError):
    """Model text or a plain dict could not be turned into an Action."""

    kind: ClassVar[str] = "parse"


class ActionOutOfBounds(ActionError):
    """A point lies outside the screen (nothing is silently clamped)."""

    kind: ClassVar[str] = "out_of_bounds"


class ActionDenied(ActionError):
    """The safety gate refused an action; nothing reached the device."""

    kind: ClassVar[str] = "denied"


class ActionUnsupported(ActionError):
    """The device cannot perform this kind of action (e.g. open_app on a plain web page)."""

    kind: ClassVar[str] = "unsupported"


class ConfigError(CuaError):
    """Bad usage or configuration: unknown spec, missing model folder, unknown key."""


class DatasetError(CuaError):
    """A dataset file or record is missing or corrupt."""
