"""The part of ``execute`` every backend shares (issue 10 item 12: five backends repeated it), and the one error
for an action kind a backend cannot perform (item 7: it was ActionError on some backends, ActionUnsupported
on others).

:func:`run_action` checks the action's points against the screen first (ActionOutOfBounds before anything
reaches the device), does nothing for ``answer`` / ``terminate``, sleeps for ``wait``, calls the device's tool
registry for ``tool_call`` (ActionUnsupported on a device without tools), and hands every other action to the
backend's ``perform``; it returns the output and the time taken as an :class:`~cua.device.ActionResult`.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from cua.actions import Action, Answer, Terminate, ToolCall, Wait, check_bounds
from cua.device import ActionResult
from cua.errors import ActionUnsupported
from cua.tools import ToolRegistry


def unsupported(action: Action, device: str, hint: str = "") -> ActionUnsupported:
    """The error for an action kind ``device`` cannot perform (raise it); ``hint`` names what to do instead."""
    return ActionUnsupported(f"{device} cannot perform {action.kind}" + (f"; {hint}" if hint else ""))


def run_action(action: Action, size: tuple[int, int], perform: Callable[[Action], Any], *,
               tools: ToolRegistry | None, device: str) -> ActionResult:
    """Bounds, then answer/terminate/wait/tool_call here, anything else through ``perform`` (its return = output)."""
    start = time.perf_counter()
    check_bounds(action, *size)
    output = None
    if isinstance(action, Wait):
        time.sleep(action.seconds)
    elif isinstance(action, ToolCall):
        if tools is None:
            raise unsupported(action, device)
        output = tools.call(action.name, action.arguments)
    elif not isinstance(action, (Answer, Terminate)):
        output = perform(action)
    return ActionResult(output=output, elapsed=time.perf_counter() - start)
