"""Helpers for tasks that run on the web backend (MiniWoB++ pages, page-drawn tasks): the device's Playwright
page, and page calls whose Playwright errors become cua device errors (:func:`cua.devices.chromium.translate`),
so a failing page ends the episode as ``infra_error`` like any device failure."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from cua.errors import ConfigError, CuaError

#: Seconds a page load or page call may take.
PAGE_TIMEOUT = 30.0

T = TypeVar("T")


def page_of(device: Any, task_id: str, needs: str) -> Any:
    """The Playwright page of a web device; ConfigError saying what ``task_id`` ``needs`` otherwise."""
    page = getattr(device, "page", None)
    if page is None or not hasattr(page, "evaluate"):
        raise ConfigError(f"task {task_id} runs on the web backend ({needs}), not {device!r}")
    return page


def on_page(what: str, call: Callable[[], T], timeout: float = PAGE_TIMEOUT) -> T:
    """``call()``, with Playwright's errors mapped onto cua's device errors (``what`` names the call)."""
    try:
        return call()
    except CuaError:  # already one of cua's errors (a device error, a ConfigError)
        raise
    except Exception as exc:  # Playwright's errors, mapped at this edge
        from cua.devices.chromium import translate

        raise translate(exc, what, timeout) from None
