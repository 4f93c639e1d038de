"""AndroidControl (Li et al. 2024, google-research/google-research ``android_control``) GZIP TFRecords.

Each record is one episode: ``episode_id`` (int), ``goal`` (bytes), ``screenshots`` (PNG bytes, one per
state), ``screenshot_widths`` / ``screenshot_heights``, ``accessibility_trees`` (serialised
``AndroidAccessibilityForest``, one per state), ``actions`` (JSON, one fewer than screenshots) and
``step_instructions`` (one per action). Action JSON ``action_type``: ``click``/``long_press`` (``x``, ``y`` device
px), ``scroll`` (``direction`` = content direction, as AndroidWorld), ``input_text`` (``text``), ``type`` (click at
``x, y``, type ``text``, press enter: read as a cua Type, the click kept in ``extra["raw_action"]``),
``open_app`` (``app_name``), ``navigate_home``, ``navigate_back``, ``wait`` (field list from the dataset's
README, google-research ``android_control/README.md``).

One sample per action: screenshot i, goal, the actions before it as history, action i. ``level="low"`` adds
the step instruction (AndroidControl-Low); ``"high"`` leaves it empty. Clicks get the bbox of the smallest
clickable accessibility node containing the point.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from cua.actions import Action, Back, Click, Home, LongPress, OpenApp, Scroll, Type, Wait
from cua.datasets.base import LoadStats, convert_records, files, register_loader, to_hf
from cua.datasets.schema import Sample
from cua.datasets.tfrecords import forest_nodes, iter_examples, target_box
from cua.errors import ActionError, ConfigError, DatasetError

SOURCE = "androidcontrol"
LEVELS = ("high", "low")
PATTERNS = ("*.tfrecord*", "*-of-*", "*.gz")


def convert_action(data: dict[str, Any]) -> Action:
    """An AndroidControl action dict as a cua Action (device px); DatasetError when unknown."""
    kind = data.get("action_type")
    try:
        if kind == "click":
            return Click(x=int(data["x"]), y=int(data["y"]))
        if kind == "long_press":
            return LongPress(x=int(data["x"]), y=int(data["y"]))
        if kind == "scroll":
            return Scroll(direction=str(data["direction"]))
        if kind in ("input_text", "type"):
            return Type(text=str(data["text"]))
        if kind == "open_app":
            return OpenApp(app=str(data["app_name"]))
        if kind == "navigate_home":
            return Home()
        if kind == "navigate_back":
            return Back()
        if kind == "wait":
            return Wait()
    except (KeyError, TypeError, ValueError, ActionError) as exc:
        raise DatasetError(f"bad AndroidControl {kind} action {data}: {exc!r}") from None
    raise DatasetError(f"unknown AndroidControl action_type {kind!r} in {data}")


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def episode_samples(feats: dict[str, list[Any]], level: str) -> list[Sample]:
    """The samples of one episode record; DatasetError (KeyError/ValueError inside) when malformed."""
    shots, actions = feats["screenshots"], [json.loads(_text(a)) for a in feats["actions"]]
    widths, heights = feats["screenshot_widths"], feats["screenshot_heights"]
    steps = [_text(s) for s in feats.get("step_instructions", [])]
    trees = feats.get("accessibility_trees", [])
    if len(shots) != len(actions) + 1 or len(widths) != len(shots) or len(heights) != len(shots):
        raise ValueError(f"{len(shots)} screenshots, {len(actions)} actions, {len(widths)} widths: expected "
                         f"one more screenshot than actions")
    goal, episode = _text(feats["goal"][0]), str(feats["episode_id"][0])
    converted = [convert_action(a) for a in actions]
    out = []
    for i, action in enumerate(converted):
        box: list[float] = []
        if isinstance(action, (Click, LongPress)) and i < len(trees):
            box = target_box(forest_nodes(bytes(trees[i])), action.x, action.y)
        point = [float(action.x), float(action.y)] if isinstance(action, (Click, LongPress)) else []
        out.append(Sample(
            image=bytes(shots[i]), width=int(widths[i]), height=int(heights[i]), goal=goal,
            step_instruction=steps[i] if level == "low" and i < len(steps) else "", history=converted[:i],
            action=action, bbox=box, point=point, source=SOURCE, episode_id=episode, step_index=i,
            extra={"level": level, "raw_action": actions[i]},
        ))
    return out


def iter_androidcontrol(path: str, *, level: str = "high", skip_bad: bool = False,
                        stats: LoadStats | None = None) -> Iterator[Sample]:
    """Samples from an AndroidControl TFRecord file or a folder of shards (see the module docstring)."""
    if level not in LEVELS:
        raise ConfigError(f"unknown AndroidControl level {level!r}; valid: {', '.join(LEVELS)}")
    for file in files(path, PATTERNS, "AndroidControl TFRecord"):
        yield from convert_records(iter_examples(file, skip_bad=skip_bad, stats=stats),
                                   lambda _, feats: episode_samples(feats, level), where=str(file),
                                   what="bad AndroidControl episode", skip_bad=skip_bad, stats=stats)


@register_loader("androidcontrol", iter_androidcontrol)
def load_androidcontrol(path: str, *, level: str = "high", skip_bad: bool = False, streaming: bool = False) -> Any:
    """AndroidControl as a Hugging Face dataset of cua samples."""
    paths = files(path, PATTERNS, "AndroidControl TFRecord")
    return to_hf(iter_androidcontrol, dict(path=str(path), level=level, skip_bad=skip_bad), streaming=streaming,
                 stamp_paths=[Path(p) for p in paths])
