"""Reward resolution for GRPO stages, and the click helpers the held-out evaluation uses.

Every reward is defined once, in :mod:`cua.rewards`, and registered when that package is imported (the
codec-generic ``codec_hit`` and ``codec_format`` included); a recipe's reward names resolve through
:func:`cua.rewards.get` (trl's signature ``fn(completions, **columns) -> list[float | None]``), and weights go
to ``GRPOConfig.reward_weights``. Resolving a recipe registers nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from cua.codecs import get_codec
from cua.coords import Geometry
from cua.errors import ActionError
from cua.rewards.registry import text_of

RewardFn = Callable[..., list]
completion_text = text_of  # the text of a trl completion (a plain string, or a conversational message list)


def parse_point(text: str, codec: str, width: int, height: int, model_width: int, model_height: int
                ) -> tuple[int, int] | None:
    """The device point a completion clicks (its action's one point), or None when it has no single point."""
    geometry = Geometry(width=int(width), height=int(height), model_width=int(model_width),
                        model_height=int(model_height))
    try:
        points = get_codec(codec).parse(text, geometry).xy()
    except ActionError:
        return None
    return points[0] if len(points) == 1 else None


def in_box(point: tuple[int, int] | None, bbox: Sequence[float] | None) -> bool:
    """Point inside ``[x1, y1, x2, y2]`` (device px, inclusive)."""
    if point is None or bbox is None or len(bbox) != 4:
        return False
    x1, y1, x2, y2 = bbox
    return x1 <= point[0] <= x2 and y1 <= point[1] <= y2


def resolve_reward(name: str) -> RewardFn:
    """A reward function by :mod:`cua.rewards` registry name (ConfigError listing the valid names)."""
    from cua import rewards as cr

    return _named(cr.get(name), name)


def _named(fn: RewardFn, name: str) -> RewardFn:
    """trl logs each reward under ``fn.__name__``; make that the recipe's name."""
    if getattr(fn, "__name__", None) == name:
        return fn

    def wrapped(completions: list, **columns: Any) -> list:
        return fn(completions, **columns)

    wrapped.__name__ = name
    wrapped.__doc__ = fn.__doc__
    return wrapped
