"""Run one call per item, each in its own thread, and wait for all of them (devices and episodes step in parallel)."""

from __future__ import annotations

import threading
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_in_threads(fn: Callable[[T], R], items: Sequence[T], *, name: str = "cua-thread") -> list[R]:
    """``[fn(item) for item in items]`` with every call in its own daemon thread, results in item order.

    Waits for every call; then re-raises the first exception raised by any of them.
    """
    results: list[R | None] = [None] * len(items)
    errors: list[BaseException] = []

    def call(i: int, item: T) -> None:
        try:
            results[i] = fn(item)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i, item), name=f"{name}-{i}", daemon=True)
               for i, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]
