"""GUI-R1 training data (ritzz-ai/GUI-R1; rows read by EasyR1 and scored by ``r1gui.py``): Parquet (as
released), JSON or JSONL.

Rows: ``image`` (a path relative to the image folder, or ``{"bytes": ...}``), ``instruction``, ``history``
(text of earlier steps), ``gt_action`` (``click, type, scroll, select, open_app, press_back, press_home,
complete, enter, ...``), ``gt_bbox`` (``[x1, y1, x2, y2]`` or a point ``[x, y]``, image px; ``bbox_scale``
multiplies it, e.g. for normalised boxes), ``gt_input_text``, ``task_type``, ``id`` (column names as in
public GUI-R1 conversion scripts).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterator

from cua.actions import Action, Back, Click, Home, Key, OpenApp, Scroll, Terminate, Type
from cua.datasets.base import LoadStats, bad_record, convert_records, existing, register_loader, to_hf
from cua.datasets.schema import Sample

SOURCE = "gui_r1"


def convert_action(kind: str, text: str, point: tuple[int, int] | None) -> Action:
    """A GUI-R1 ground-truth action as a cua Action; ValueError when unknown or missing a point."""
    if kind in ("click", "long_press"):
        if point is None:
            raise ValueError(f"{kind} needs gt_bbox")
        return Click(x=point[0], y=point[1])
    table = {"type": lambda: Type(text=text), "select": lambda: Type(text=text),
             "scroll": lambda: Scroll(direction=text.strip().lower()), "open_app": lambda: OpenApp(app=text),
             "press_back": Back, "press_home": Home, "enter": lambda: Key(key="enter"),
             "complete": lambda: Terminate(status="success")}
    if kind not in table:
        raise ValueError(f"unknown GUI-R1 action {kind!r}; valid: click, long_press, {', '.join(table)}")
    return table[kind]()


def _image(value: Any, image_dir: Path) -> tuple[Any, int, int]:
    from PIL import Image

    if isinstance(value, dict) and value.get("bytes") is not None:
        raw = value["bytes"]
        data = raw.encode("latin-1") if isinstance(raw, str) else bytes(raw)
        with Image.open(io.BytesIO(data)) as im:
            return data, im.width, im.height
    path = image_dir / str(value)
    with Image.open(path) as im:
        return str(path), im.width, im.height


def _sample(row: dict[str, Any], image_dir: Path, n: int, bbox_scale: float) -> Sample:
    image, width, height = _image(row["image"], image_dir)
    raw = [float(v) * bbox_scale for v in (row.get("gt_bbox") or [])]
    box = raw if len(raw) == 4 else []
    point = None
    if len(raw) == 2:
        point = (int(raw[0]), int(raw[1]))
    elif box:
        point = (int((box[0] + box[2]) / 2), int((box[1] + box[3]) / 2))
    kind, text = str(row["gt_action"]).strip().lower(), str(row.get("gt_input_text") or "")
    action = convert_action(kind, text, point)
    history = row.get("history") or ""
    return Sample(image=image, width=width, height=height, goal=str(row["instruction"]), action=action, bbox=box,
                  point=[float(point[0]), float(point[1])] if point and kind in ("click", "long_press") else [],
                  source=SOURCE, episode_id=str(row.get("id", n)), step_index=0,
                  extra={"gt_action": kind, "gt_input_text": text, "gt_bbox": raw,
                         "history_text": history if isinstance(history, str) else json.dumps(history),
                         "task_type": str(row.get("task_type") or "")})


def _rows(file: Path) -> list[Any]:
    if file.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(file).to_pylist()
    text = file.read_text()
    if file.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else []


def iter_gui_r1(path: str, *, images: str | None = None, bbox_scale: float = 1.0, skip_bad: bool = False,
                stats: LoadStats | None = None) -> Iterator[Sample]:
    """Samples from a GUI-R1 JSON/JSONL file; images relative to ``images`` (default: the file's folder)."""
    file = existing(path, "GUI-R1 data")
    image_dir = existing(images, "GUI-R1 image folder") if images else file.parent
    try:
        rows = _rows(file)
    except Exception as exc:  # noqa: BLE001 - json / pyarrow errors: the file is not readable data
        bad_record(f"{file}: not JSON/JSONL/Parquet ({exc})", skip_bad=skip_bad, stats=stats)
        return
    yield from convert_records(enumerate(rows), lambda n, row: _sample(row, image_dir, n, bbox_scale), where=str(file),
                               what="bad GUI-R1 row", skip_bad=skip_bad, stats=stats)


@register_loader("gui_r1", iter_gui_r1)
def load_gui_r1(path: str, *, images: str | None = None, bbox_scale: float = 1.0, skip_bad: bool = False,
                streaming: bool = False) -> Any:
    """GUI-R1 data as a Hugging Face dataset of cua samples."""
    return to_hf(iter_gui_r1, dict(path=str(path), images=images, bbox_scale=bbox_scale, skip_bad=skip_bad),
                 streaming=streaming, stamp_paths=[existing(path, "GUI-R1 data")])
