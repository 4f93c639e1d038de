"""Android in the Wild (Rawles et al. 2023, google-research ``android_in_the_wild``) GZIP TFRecords.

One record per step: ``episode_id``, ``goal_info``, ``step_id``, ``image/encoded`` (raw uint8 pixels,
``image/height`` x ``image/width`` x ``image/channels``, as ``visualization_utils`` decodes it; PNG/JPEG
bytes are accepted too), ``results/action_type`` (``action_type.py``: TYPE 3, DUAL_POINT 4, PRESS_BACK 5,
PRESS_HOME 6, PRESS_ENTER 7, STATUS_TASK_COMPLETE 10, STATUS_TASK_IMPOSSIBLE 11; 0, 1, 2, 8, 9 are unused
and rejected), ``results/yx_touch`` / ``results/yx_lift`` (normalised (y, x) in [0, 1]),
``results/type_action``, and optional ``image/ui_annotations_positions`` (normalised (y, x, h, w) per
element). A dual point whose touch and lift lie within 0.04 (``action_matching.py``
``_SWIPE_DISTANCE_THRESHOLD``) is a tap, else a swipe. Steps of an episode are contiguous in a file.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Iterator

from cua.actions import Action, Back, Click, Home, Key, Swipe, Terminate, Type
from cua.datasets.base import LoadStats, convert_records, files, register_loader, to_hf
from cua.datasets.schema import Sample
from cua.datasets.tfrecords import iter_examples

SOURCE = "aitw"
PATTERNS = ("*.tfrecord*", "*-of-*", "*.gz", "*_tfrecord*")
TAP_DISTANCE = 0.04
TYPE, DUAL_POINT, PRESS_BACK, PRESS_HOME, PRESS_ENTER = 3, 4, 5, 6, 7
STATUS_TASK_COMPLETE, STATUS_TASK_IMPOSSIBLE = 10, 11


def _px(yx: list[float], width: int, height: int) -> tuple[int, int]:
    return min(width - 1, int(round(yx[1] * width))), min(height - 1, int(round(yx[0] * height)))


def convert_action(kind: int, touch: list[float], lift: list[float], text: str, width: int, height: int
                   ) -> Action:
    """An AITW step as a cua Action in device px; ValueError on an unknown type."""
    if kind == DUAL_POINT:
        (x, y), (x2, y2) = _px(touch, width, height), _px(lift, width, height)
        if math.dist(touch, lift) <= TAP_DISTANCE:
            return Click(x=x, y=y)
        return Swipe(x=x, y=y, x2=x2, y2=y2)
    simple = {TYPE: lambda: Type(text=text), PRESS_BACK: Back, PRESS_HOME: Home,
              PRESS_ENTER: lambda: Key(key="enter"), STATUS_TASK_COMPLETE: lambda: Terminate(status="success"),
              STATUS_TASK_IMPOSSIBLE: lambda: Terminate(status="failure")}
    if kind not in simple:
        raise ValueError(f"unknown AITW action type {kind}")
    return simple[kind]()


def _box(positions: list[float], x: int, y: int, width: int, height: int) -> list[float]:
    """Smallest annotated element (normalised y, x, h, w quadruples) containing device point (x, y)."""
    best: list[float] = []
    for i in range(0, len(positions) - 3, 4):
        ty, tx, h, w = positions[i:i + 4]
        box = [tx * width, ty * height, (tx + w) * width, (ty + h) * height]
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            if not best or (box[2] - box[0]) * (box[3] - box[1]) < (best[2] - best[0]) * (best[3] - best[1]):
                best = box
    return best


def _image(feats: dict[str, list[Any]]) -> tuple[Any, int, int]:
    from PIL import Image

    h, w = int(feats["image/height"][0]), int(feats["image/width"][0])
    c = int(feats.get("image/channels", [3])[0])
    raw = bytes(feats["image/encoded"][0])
    if raw[:8] == b"\x89PNG\r\n\x1a\n" or raw[:3] == b"\xff\xd8\xff":
        return Image.open(io.BytesIO(raw)).convert("RGB"), w, h
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[c]
    return Image.frombytes(mode, (w, h), raw).convert("RGB"), w, h


def step_sample(feats: dict[str, list[Any]], history: list[Action]) -> Sample:
    image, w, h = _image(feats)
    text = feats.get("results/type_action", [b""])
    text = text[0].decode("utf-8") if text and isinstance(text[0], bytes) else ""
    action = convert_action(int(feats["results/action_type"][0]), list(feats["results/yx_touch"]),
                            list(feats["results/yx_lift"]), text, w, h)
    box, point = [], []
    if isinstance(action, Click):
        point = [float(action.x), float(action.y)]
        box = _box(list(feats.get("image/ui_annotations_positions", [])), action.x, action.y, w, h)
    return Sample(image=image, width=w, height=h, goal=feats["goal_info"][0].decode("utf-8"), history=list(history),
                  action=action, bbox=box, point=point, source=SOURCE,
                  episode_id=feats["episode_id"][0].decode("utf-8"), step_index=int(feats["step_id"][0]),
                  extra={"action_type": int(feats["results/action_type"][0])})


def iter_aitw(path: str, *, skip_bad: bool = False, stats: LoadStats | None = None) -> Iterator[Sample]:
    """Samples from AITW TFRecord files (see the module docstring); history = earlier steps of the episode."""
    for file in files(path, PATTERNS, "AITW TFRecord"):
        episode: list[Any] = [None, []]  # [episode id, actions so far]

        def convert(index: int, feats: dict[str, list[Any]]) -> Sample:
            if feats["episode_id"][0] != episode[0]:
                episode[:] = [feats["episode_id"][0], []]
            sample = step_sample(feats, episode[1])
            episode[1].append(sample.action)
            return sample

        yield from convert_records(iter_examples(file, skip_bad=skip_bad, stats=stats), convert, where=str(file),
                                   what="bad AITW step", skip_bad=skip_bad, stats=stats)


@register_loader("aitw", iter_aitw)
def load_aitw(path: str, *, skip_bad: bool = False, streaming: bool = False) -> Any:
    """AITW as a Hugging Face dataset of cua samples."""
    paths = files(path, PATTERNS, "AITW TFRecord")
    return to_hf(iter_aitw, dict(path=str(path), skip_bad=skip_bad), streaming=streaming,
                 stamp_paths=[Path(p) for p in paths])
