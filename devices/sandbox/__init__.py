"""The sandbox phone: a small world of phone apps (Home, Messages, Contacts, Settings, Notes, Gallery) served on
127.0.0.1 and shown at 1080x2400 by the web backend. Importing registers the ``sandbox`` device spec and the
composed ``sandbox+web`` / ``sandbox+desktop[:DISPLAY]`` specs (:mod:`cua.devices.sandbox.composed`: the same
world shown through another backend); the task templates live in :mod:`cua.devices.sandbox.tasks`.
"""

from cua.devices.sandbox.device import APPS, SandboxDevice
from cua.devices.sandbox.world import SandboxWorld
from cua.devices.sandbox import composed  # noqa: E402,F401  (registers the composed specs)

__all__ = ["APPS", "SandboxDevice", "SandboxWorld"]
