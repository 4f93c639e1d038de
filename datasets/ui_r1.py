"""UI-R1 training JSON (lll6gg/UI-R1, ``src/ui_r1/src/open_r1/grpo_json_action_coord.py``).

A JSON list of items with ``img_filename`` (relative to the image folder), ``instruction``, and either ``bbox``
(``[x1, y1, x2, y2]`` original-image px; the target is a click, scored as "predicted point inside bbox") or
``action`` (one of UI-R1's ``open_app, scroll, navigate_back, input_text``, scored on type only). Non-click
items carry no arguments in the released data, so their targets get UI-R1-neutral placeholders recorded in
``extra["ui_r1_action"]`` (the reward compares UI-R1 type names).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from cua.actions import Action, Back, Click, Home, OpenApp, Scroll, Type
from cua.datasets.base import LoadStats, bad_record, convert_records, existing, register_loader, to_hf
from cua.datasets.schema import Sample

SOURCE = "ui_r1"
TYPE_TARGETS: dict[str, Action] = {"open_app": OpenApp(app="app"), "scroll": Scroll(direction="down"),
                                   "navigate_back": Back(), "navigate_home": Home(), "input_text": Type(text="text")}


def _sample(item: dict[str, Any], image_dir: Path, n: int) -> Sample:
    from PIL import Image

    path = image_dir / item["img_filename"]
    with Image.open(path) as im:
        width, height = im.size
    if "bbox" in item:
        box = [float(v) for v in item["bbox"]]
        if len(box) != 4 or box[0] > box[2] or box[1] > box[3]:
            raise ValueError(f"bbox must be [x1, y1, x2, y2], got {item['bbox']}")
        cx, cy = min(width - 1, int((box[0] + box[2]) / 2)), min(height - 1, int((box[1] + box[3]) / 2))
        action, kind, point = Click(x=cx, y=cy), "click", [float(cx), float(cy)]
    else:
        kind = str(item["action"])
        if kind not in TYPE_TARGETS:
            raise ValueError(f"unknown UI-R1 action {kind!r}; valid: click, {', '.join(TYPE_TARGETS)}")
        action, box, point = TYPE_TARGETS[kind], [], []
    return Sample(image=str(path), width=width, height=height, goal=str(item["instruction"]), action=action,
                  bbox=box, point=point, source=SOURCE, episode_id=str(item.get("id", n)), step_index=0,
                  extra={"ui_r1_action": kind})


def iter_ui_r1(path: str, *, images: str | None = None, skip_bad: bool = False,
               stats: LoadStats | None = None) -> Iterator[Sample]:
    """Samples from a UI-R1 JSON file; images from ``images`` (default: the file's folder)."""
    file = existing(path, "UI-R1 JSON")
    image_dir = existing(images, "UI-R1 image folder") if images else file.parent
    try:
        items = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        bad_record(f"{file}: not JSON ({exc})", skip_bad=skip_bad, stats=stats)
        return
    yield from convert_records(enumerate(items if isinstance(items, list) else []),
                               lambda n, item: _sample(item, image_dir, n), where=str(file), what="bad UI-R1 item",
                               skip_bad=skip_bad, stats=stats)


@register_loader("ui_r1", iter_ui_r1)
def load_ui_r1(path: str, *, images: str | None = None, skip_bad: bool = False, streaming: bool = False) -> Any:
    """UI-R1 training JSON as a Hugging Face dataset of cua samples."""
    return to_hf(iter_ui_r1, dict(path=str(path), images=images, skip_bad=skip_bad), streaming=streaming,
                 stamp_paths=[existing(path, "UI-R1 JSON")])
