"""The one registry of reward functions, and the column helpers every reward uses.

A reward has trl's signature ``fn(completions, **columns) -> list[float | None]``: ``completions`` are strings
or chat-message lists (``[{"role": "assistant", "content": ...}]``); ``columns`` are the dataset's columns,
one value per completion (cua sample schema + ``model_width`` / ``model_height`` / ``codec`` added by
``cua.train.data``). Rewards are pure and never raise on any model text: malformed text scores 0.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Mapping, Sequence

from cua.coords import Geometry
from cua.errors import ConfigError

RewardFn = Callable[..., list]
REWARDS: dict[str, RewardFn] = {}
MAXIMA: dict[str, float] = {}


def register(name: str, *, maximum: float = 1.0) -> Callable[[RewardFn], RewardFn]:
    """Register ``fn`` under ``name``; ``maximum`` is the score of a perfect completion (see :func:`maximum`).

    Every reward registers when its module is imported (``import cua.rewards``), once: a second definition
    under a taken name is a ConfigError.
    """

    def deco(fn: RewardFn) -> RewardFn:
        if name in REWARDS and REWARDS[name] is not fn:
            raise ConfigError(f"reward {name!r} is already defined by {REWARDS[name].__module__}")
        REWARDS[name], MAXIMA[name] = fn, float(maximum)
        return fn

    return deco


def get(name: str) -> RewardFn:
    """The reward registered as ``name``; ConfigError listing the valid names."""
    if name not in REWARDS:
        raise ConfigError(f"unknown reward {name!r}; valid: {', '.join(sorted(REWARDS))}")
    return REWARDS[name]


def names() -> list[str]:
    return sorted(REWARDS)


def maximum(name: str) -> float:
    """The score a perfect completion earns under reward ``name`` (ConfigError for unknown names)."""
    get(name)
    return MAXIMA[name]


def text_of(completion: Any) -> str:
    """The text of one completion: a string, or the last assistant message's content (str or parts)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        last = completion[-1]
        content = last.get("content", "") if isinstance(last, Mapping) else last
        if isinstance(content, str):
            return content
        if isinstance(content, Sequence):
            return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return ""


def column(columns: Mapping[str, Any], key: str, i: int, default: Any = None) -> Any:
    """``columns[key][i]`` or ``default`` when the column is absent or short."""
    values = columns.get(key)
    if values is None or not isinstance(values, Sequence) or isinstance(values, (str, bytes)) or i >= len(values):
        return default
    return values[i]


def json_column(columns: Mapping[str, Any], key: str, i: int) -> dict[str, Any]:
    """``columns[key][i]`` as a plain dict (a JSON string is decoded; ``{}`` when absent or malformed)."""
    value = column(columns, key, i)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def target(columns: Mapping[str, Any], i: int) -> dict[str, Any]:
    """The ground-truth action of row ``i`` as a plain dict (``{}`` when absent or malformed)."""
    return json_column(columns, "action", i)


def box(columns: Mapping[str, Any], i: int) -> list[float]:
    """The ground-truth bbox ``[x1, y1, x2, y2]`` (device px) of row ``i``, or []."""
    value = column(columns, "bbox", i) or []
    try:
        out = [float(v) for v in value]
    except (TypeError, ValueError):
        return []
    return out if len(out) == 4 and all(math.isfinite(v) for v in out) else []


def geometry(columns: Mapping[str, Any], i: int) -> Geometry:
    """Row ``i``'s device and model-image sizes (device size alone, smart-resized, when the model size is missing)."""
    w, h = int(column(columns, "width", i, 1000)), int(column(columns, "height", i, 1000))
    mw, mh = column(columns, "model_width", i), column(columns, "model_height", i)
    if mw and mh:
        return Geometry(width=w, height=h, model_width=int(mw), model_height=int(mh))
    return Geometry.for_screen(w, h)


def scales(columns: Mapping[str, Any], i: int) -> tuple[float, float]:
    """Device px per model-image px (UI-R1's ``scales = origin / (image_grid_thw * patch)``); (1, 1) if unknown."""
    try:
        w, h = float(column(columns, "width", i)), float(column(columns, "height", i))
        mw, mh = float(column(columns, "model_width", i)), float(column(columns, "model_height", i))
        if min(w, h, mw, mh) > 0:
            return w / mw, h / mh
    except (TypeError, ValueError):
        pass
    return 1.0, 1.0


def safe(fn: Callable[[str, int], float | None]) -> Callable[[Sequence[Any], int], list]:
    """Apply ``fn(text, i)`` per completion; any exception inside scores 0.0 (rewards never raise)."""

    def run(completions: Sequence[Any], n: int) -> list:
        out: list = []
        for i, c in enumerate(completions):
            try:
                out.append(fn(text_of(c), i))
            except Exception:  # noqa: BLE001 - a reward must never raise on model text
                out.append(0.0)
        return out

    return run
